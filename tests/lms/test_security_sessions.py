"""Sessions (ASVS 3.2, 3.3, 3.4): a new session at log-in; log-out, a password change and
disabling end every session including remember-me cookies; idle and absolute timeouts;
remember-me bounded on the server; cookie attributes in production."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from flask.testing import FlaskClient

from lms.accounts import sessions
from lms.accounts.models import User
from lms.extensions import db
from tests import factories

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


class Clock:
    """Moves the sessions' clock forward (``lms.accounts.sessions.now``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = sessions.now
        monkeypatch.setattr(sessions, "now", lambda: real() + self.offset)

    def forward(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def person(app):
    teacher = factories.user("teacher", username="gulzat")
    db.session.commit()
    return teacher


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/account/").status_code == 200


def _login(client: FlaskClient, person: User, *, remember: bool = False) -> None:
    data = {"username": person.username, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/account/login", data=data).status_code == 302


def _cookie(client: FlaskClient, name: str):
    found = client.get_cookie(name, domain="lms.test")
    assert found is not None, name
    return found


def _only_cookie(app, name: str, value: str) -> FlaskClient:
    """A new browser holding one copied cookie (what someone who stole it would have)."""
    thief = app.test_client()
    thief.set_cookie(name, value, domain="lms.test")
    return thief


def test_log_in_starts_a_new_session(app, client, person):
    client.get("/account/login")
    with client.session_transaction() as planted:  # e.g. a session an attacker made
        planted["planted"] = "by someone else"
        planted["csrf_token"] = "known-token"
    before = _cookie(client, "session").value
    _login(client, person)
    after = _cookie(client, "session").value
    assert after != before
    with client.session_transaction() as current:
        assert "planted" not in current and current.get("csrf_token") != "known-token"
        assert current["_user_id"].startswith(f"{person.id}:{person.session_version}:")


def test_a_copy_of_the_session_cookie_stops_working_after_log_out(app, client, person):
    _login(client, person)
    copied = _cookie(client, "session").value
    assert _logged_in(_only_cookie(app, "session", copied))
    client.post("/account/logout")
    assert not _logged_in(client)
    assert not _logged_in(_only_cookie(app, "session", copied))


def test_log_out_ends_every_session_including_remember_me(app, person):
    phone, laptop = app.test_client(), app.test_client()
    _login(phone, person, remember=True)
    remember = _cookie(phone, "remember_token").value
    _login(laptop, person)
    assert _logged_in(_only_cookie(app, "remember_token", remember))
    laptop.post("/account/logout")
    assert not _logged_in(phone)
    assert not _logged_in(_only_cookie(app, "remember_token", remember))


def test_disabling_an_account_ends_its_sessions_and_remember_me(app, client, person):
    admin = factories.user("admin")
    db.session.commit()
    _login(client, person, remember=True)
    remember = _cookie(client, "remember_token").value
    office = app.test_client()
    factories.login(office, admin)
    assert office.post(f"/admin/users/{person.id}/active", data={"active": "0"}).status_code == 302
    assert not _logged_in(client)
    assert not _logged_in(_only_cookie(app, "remember_token", remember))


def test_changing_the_password_ends_other_sessions_and_remember_me(app, client, person):
    phone = app.test_client()
    _login(phone, person, remember=True)
    remember = _cookie(phone, "remember_token").value
    _login(client, person, remember=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a brand new phrase",
            "confirm": "a brand new phrase",
        },
    )
    assert response.status_code == 302
    assert _logged_in(client)  # this device continues, its remember-me cookie renewed
    renewed = _cookie(client, "remember_token").value
    assert renewed != remember and _logged_in(_only_cookie(app, "remember_token", renewed))
    assert not _logged_in(phone)
    assert not _logged_in(_only_cookie(app, "remember_token", remember))


def test_an_idle_session_ends_with_a_message(app, client, person, clock):
    _login(client, person)
    clock.forward(29 * MINUTE)
    assert _logged_in(client)  # activity restarts the idle time
    clock.forward(29 * MINUTE)
    assert _logged_in(client)
    clock.forward(31 * MINUTE)
    response = client.get("/cohorts/")
    assert response.status_code == 302
    assert "/account/login?next=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were logged out after 30 minutes without activity." in page
    assert not _logged_in(client)


def test_a_session_ends_after_its_maximum_age_however_active(make_app, clock):
    app = make_app({"SESSION_MAX_HOURS": 2})
    client = app.test_client()
    with app.app_context():
        person = factories.user("teacher")
        db.session.commit()
        _login(client, person)
    for _ in range(4):
        clock.forward(25 * MINUTE)
        assert _logged_in(client)
    clock.forward(25 * MINUTE)  # 125 minutes after logging in
    response = client.get("/account/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were logged out because you logged in more than 2 hours ago." in page


def test_a_form_sent_after_the_session_ended_is_not_carried_out(app, client, person, clock):
    _login(client, person)
    clock.forward(31 * MINUTE)
    response = client.post("/account/", data={"preferred_language": "ky", "email": "", "phone": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    db.session.expire_all()
    assert db.session.get(User, person.id).preferred_language == "en"


def test_remember_me_outlives_the_session_but_not_its_term(app, client, person, clock):
    _login(client, person, remember=True)
    expires = _cookie(client, "remember_token").expires
    assert expires is not None
    left = (expires.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 14 * DAY - HOUR < left <= 14 * DAY + MINUTE
    clock.forward(3 * HOUR)  # idle: the session ends, the phone stays logged in
    assert _logged_in(client)
    with client.session_transaction() as current:
        assert current["_fresh"] is False  # restored, so not a fresh log-in
    clock.forward(13 * HOUR)  # beyond the session's maximum age: restored again
    assert _logged_in(client)
    clock.forward(14 * DAY)  # the cookie's term is over: refused even if the browser kept it
    assert not _logged_in(client)
    assert client.get_cookie("remember_token", domain="lms.test") is None  # and deleted


def test_cookies_are_secure_httponly_and_samesite_lax_in_production(make_app):
    app = make_app(
        {
            "ENV": "production",
            "SECRET_KEY": "a-long-production-secret-key-" + "k" * 40,
            "PUBLIC_URL": "https://lms.example.org",
        }
    )
    with app.app_context():
        person = factories.user("teacher")
        db.session.commit()
        username = person.username
    client = app.test_client()
    response = client.post(
        "/account/login",
        data={"username": username, "password": factories.PASSWORD, "remember": "y"},
        base_url="https://lms.test",
    )
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"session", "remember_token"}
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in attributes, cookies[name]
        assert "httponly" in attributes, cookies[name]
        assert "samesite=lax" in attributes, cookies[name]
    expires = parsedate_to_datetime(
        next(p for p in cookies["remember_token"].split(";") if "Expires" in p).split("=", 1)[1]
    )
    assert (expires - datetime.now(UTC)).days in (13, 14)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_cookies_are_httponly_and_samesite_lax_in_development(app, client, person):
    response = client.post(
        "/account/login",
        data={"username": person.username, "password": factories.PASSWORD, "remember": "y"},
    )
    for header in response.headers.getlist("Set-Cookie"):
        attributes = [part.strip().lower() for part in header.split(";")]
        assert "httponly" in attributes and "samesite=lax" in attributes, header
        assert "secure" not in attributes  # a laptop serves plain HTTP
    assert "Strict-Transport-Security" not in response.headers
