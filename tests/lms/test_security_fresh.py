"""Fresh log-in for sensitive actions (ASVS 3.7.1): deciding on a module version, revoking or
reissuing a certificate and changing roles need a password typed in the last
``FRESH_LOGIN_MINUTES``; otherwise the person confirms it on ``/account/confirm`` and goes
back to the form's page, and the refused request is never carried out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from lms.accounts import sessions
from lms.accounts.models import RoleGrant
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests import factories

#: (route, form) of every sensitive POST; the objects need not exist: the check comes first.
SENSITIVE = [
    ("/curriculum/versions/999/decide", {"decision": "approve", "reasons": ""}),
    ("/certificates/999/revoke", {"reason": "a mistake"}),
    ("/certificates/999/reissue", {"name": "New Name", "reason": "a typo"}),
    ("/admin/users/999/roles", {"role": "teacher", "scope": "", "expertise": ""}),
    ("/admin/users/999/roles/999/revoke", {}),
]


@pytest.fixture
def clock(monkeypatch):
    offset = {"seconds": 0.0}
    real = sessions.now
    monkeypatch.setattr(sessions, "now", lambda: real() + offset["seconds"])
    return offset


def _changes() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(RoleGrant.id))),
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action.notlike("login%"))
        ),
    )


@pytest.mark.parametrize(("url", "form"), SENSITIVE, ids=[u for u, _ in SENSITIVE])
def test_a_sensitive_action_needs_a_recent_password(app, client, clock, url, form):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    assert client.post(url, data=form).status_code == 404  # fresh: through to the view
    clock["seconds"] += 11 * 60
    before = _changes()
    response = client.post(url, data=form, headers={"Referer": "http://lms.test/admin/users"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/confirm"
    assert parse_qs(location.query)["next"] == ["/admin/users"]
    assert _changes() == before


def test_confirming_the_password_leads_back_to_the_form_and_then_the_action_works(
    app, client, clock
):
    admin = factories.user("admin")
    person = factories.user(username="asel")
    db.session.commit()
    factories.login(client, admin)
    clock["seconds"] += 11 * 60
    form_page = f"/admin/users/{person.id}"
    grant = {"role": "teacher", "scope": "", "expertise": ""}
    response = client.post(
        f"{form_page}/roles", data=grant, headers={"Referer": f"http://lms.test{form_page}"}
    )
    confirm = response.headers["Location"]
    page = client.get(confirm).get_data(as_text=True)
    assert "Confirm your password" in page and "please enter your password again" in page
    assert "This is not your password." in client.post(
        confirm, data={"password": "not my password"}
    ).get_data(as_text=True)
    assert (
        client.post(f"{form_page}/roles", data=grant)
        .headers["Location"]
        .startswith("/account/confirm")
    )
    response = client.post(confirm, data={"password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == form_page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(RoleGrant.user_id == person.id)) == 0
    assert client.post(f"{form_page}/roles", data=grant).status_code == 302  # now it works
    assert db.session.scalar(select(func.count()).where(RoleGrant.user_id == person.id)) == 1
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "login.confirm" in actions and "login.confirm_failure" in actions


def test_a_session_restored_from_remember_me_is_never_fresh(app, client, clock):
    admin = factories.user("admin")
    db.session.commit()
    client.post(
        "/account/login",
        data={"username": admin.username, "password": factories.PASSWORD, "remember": "y"},
    )
    clock["seconds"] += 40 * 60  # idle: the session ends, remember-me starts a new one
    assert client.get("/account/").status_code == 200
    url, form = SENSITIVE[3]
    response = client.post(url, data=form)
    assert response.headers["Location"].startswith("/account/confirm")


def test_the_confirmation_page_is_throttled_and_stays_on_site(make_app):
    app = make_app({"RATELIMIT_ENABLED": True, "LOGIN_ACCOUNT_RATE_LIMIT": "2 per minute"})
    with app.app_context():
        admin = factories.user("admin")
        db.session.commit()
        username = admin.username
    client = app.test_client()
    client.post("/account/login", data={"username": username, "password": factories.PASSWORD})
    for _ in range(2):
        assert client.post("/account/confirm", data={"password": "wrong"}).status_code == 200
    assert client.post("/account/confirm", data={"password": "wrong"}).status_code == 429
    other = app.test_client()
    client.post("/account/logout")
    # The per-account count is the same one the log-in page uses.
    refused = other.post("/account/login", data={"username": username, "password": "wrong"})
    assert refused.status_code == 429


def test_confirmation_goes_back_only_to_this_site(app, client):
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/account/confirm", query_string={"next": evil}, data={"password": factories.PASSWORD}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/", evil


def test_sensitive_views_carry_the_decorator(app):
    """The routes above are the ones named in the requirement (a guard against a rename)."""
    views = app.view_functions
    for endpoint in (
        "curriculum.decide",
        "certificates.revoke",
        "certificates.reissue",
        "admin.grant_role",
        "admin.revoke_role",
    ):
        view = views[endpoint]
        while not getattr(view, "fresh_login_required", False) and hasattr(view, "__wrapped__"):
            view = view.__wrapped__
        assert getattr(view, "fresh_login_required", False), endpoint
