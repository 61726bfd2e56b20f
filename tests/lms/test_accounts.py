"""Logging in and out, passwords and sessions."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.passwords import hash_password, verify_password
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests import factories


def _person(**kwargs):
    person = factories.user("teacher", **kwargs)
    db.session.commit()
    return person


def test_production_hasher_uses_argon2id_with_rfc9106_costs():
    from lms.accounts.passwords import DEFAULT_HASHER

    assert DEFAULT_HASHER.type.name == "ID"
    assert DEFAULT_HASHER.memory_cost >= 64 * 1024 and DEFAULT_HASHER.time_cost >= 3


def test_generated_passwords_are_rehashed_at_full_cost_on_first_log_in(app):
    from lms.accounts import passwords, services
    from lms.accounts.passwords import DEFAULT_HASHER, GENERATED_HASHER

    person = factories.user()
    person.password_hash = GENERATED_HASHER.hash("generated secret 123")
    db.session.commit()
    passwords.use_hasher(DEFAULT_HASHER)
    try:
        assert services.authenticate(person.username, "generated secret 123") is not None
        assert not DEFAULT_HASHER.check_needs_rehash(person.password_hash)
    finally:
        from tests.conftest import TEST_HASHER

        passwords.use_hasher(TEST_HASHER)


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("a long pass phrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long pass phrase")
    assert not verify_password(hashed, "A long pass phrase")
    assert not verify_password(None, "anything")


def test_wrong_password_is_refused_with_a_message_and_audited(app, client):
    person = _person()
    response = client.post(
        "/account/login", data={"username": person.username, "password": "wrong password"}
    )
    assert response.status_code == 200
    assert "The user name or password is wrong." in response.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "login.failure" in actions


def test_user_name_is_case_insensitive(app, client):
    _person(username="nurgul")
    response = client.post(
        "/account/login", data={"username": "  NurGul ", "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def test_disabled_user_cannot_log_in(app, client):
    person = _person(active=False)
    response = factories.login(client, person)
    assert response.status_code == 200
    assert "wrong" in response.get_data(as_text=True)


def test_login_follows_next_only_on_this_site(app, client):
    person = _person()
    response = client.post(
        "/account/login?next=/cohorts/",
        data={"username": person.username, "password": factories.PASSWORD},
    )
    assert response.headers["Location"].endswith("/cohorts/")
    client.post("/account/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            f"/account/login?next={evil}",
            data={"username": person.username, "password": factories.PASSWORD},
        )
        assert "evil" not in response.headers["Location"], evil
        client.post("/account/logout")


def test_pages_that_need_a_login_redirect_to_it(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_logout_needs_post_and_ends_the_session(app, client):
    person = _person()
    factories.login(client, person)
    assert client.get("/account/logout").status_code == 405
    client.post("/account/logout")
    assert client.get("/account/").status_code == 302


def test_change_password_ends_other_sessions(app, client):
    person = _person()
    other_device = app.test_client()
    factories.login(client, person)
    factories.login(other_device, person)
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a brand new phrase",
            "confirm": "a brand new phrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200  # this device stays logged in
    assert other_device.get("/account/").status_code == 302  # the other one is logged out
    client.post("/account/logout")
    assert factories.login(client, person, "a brand new phrase").status_code == 302


def test_change_password_errors_are_shown_next_to_fields(app, client):
    person = _person()
    factories.login(client, person)
    page = client.post(
        "/account/password",
        data={"current_password": "not it at all", "new_password": "short", "confirm": "shirt"},
    ).get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "The passwords differ." in page
    page = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "long enough now",
            "confirm": "long enough now",
        },
    ).get_data(as_text=True)
    assert "This is not your current password." in page
    db.session.expire_all()
    assert verify_password(db.session.get(User, person.id).password_hash, factories.PASSWORD)


def test_profile_saves_language_and_contacts(app, client):
    person = _person()
    factories.login(client, person)
    response = client.post(
        "/account/", data={"preferred_language": "ky", "email": "t@example.org", "phone": ""}
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, person.id)
    assert saved.preferred_language == "ky" and saved.email == "t@example.org"


def test_login_is_rate_limited(make_app):
    app = make_app({"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [
        client.post("/account/login", data={"username": "x", "password": "y"}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
