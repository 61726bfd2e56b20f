"""Administrators manage accounts and roles; nobody else can, and nobody can lock themselves out."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from lms.accounts.models import RoleGrant, User
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests import factories


def _admin_client(app: Flask, **fields: Any) -> tuple[User, FlaskClient]:
    admin = factories.user("admin", **fields)
    db.session.commit()
    client = app.test_client()
    assert factories.login(client, admin).status_code == 302
    return admin, client


def _text(response: Any) -> str:
    """The page as a reader sees it (entities decoded), markup included."""
    return html.unescape(response.get_data(as_text=True))


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- who may use the pages ---

ROUTES = [
    ("get", "/admin/users"),
    ("get", "/admin/users/new"),
    ("post", "/admin/users/new"),
    ("get", "/admin/users/{id}"),
    ("post", "/admin/users/{id}"),
    ("post", "/admin/users/{id}/password"),
    ("post", "/admin/users/{id}/active"),
    ("post", "/admin/users/{id}/roles"),
    ("get", "/admin/users/{id}/roles/{grant}/revoke"),
    ("post", "/admin/users/{id}/roles/{grant}/revoke"),
    ("get", "/admin/users/import"),
    ("post", "/admin/users/import"),
    ("get", "/admin/users/import/template.csv"),
]


def test_a_teacher_gets_403_everywhere_and_a_visitor_is_sent_to_log_in(app, client):
    teacher = factories.user("teacher")
    other = factories.user("student")
    grant = other.grants[0]
    db.session.commit()
    visitor = app.test_client()
    factories.login(client, teacher)
    for method, route in ROUTES:
        url = route.format(id=other.id, grant=grant.id)
        assert getattr(client, method)(url).status_code == 403, url
        response = getattr(visitor, method)(url)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"], url
    db.session.expire_all()
    assert db.session.get(User, other.id).active
    assert _count(RoleGrant) == 2


def test_a_scoped_admin_is_not_an_administrator(app):
    place = factories.madrasa()
    person = factories.user()
    factories.grant(person, "teacher", scope=place)
    db.session.commit()
    client = app.test_client()
    factories.login(client, person)
    assert client.get("/admin/users").status_code == 403


# --- the list ---


def test_admin_lists_and_searches_users(app):
    _, client = _admin_client(app, name="Admin Person", username="boss")
    place = factories.madrasa("Madrasa Nur")
    aida = factories.user(name="Aida Toktogulova", username="aida.t", sex="female", language="ky")
    factories.grant(aida, "teacher", scope=place)
    factories.grant(aida, "reviewer", expertise="theology")
    factories.user(name="Bakyt Osmonov", username="bakyt", sex="male", active=False)
    db.session.commit()

    page = _text(client.get("/admin/users"))
    for expected in (
        "Aida Toktogulova",
        "aida.t",
        "Bakyt Osmonov",
        "Teacher · Madrasa Nur",
        "Expert reviewer · Theology",
        "Кыргызча",
        "Female",
        "Disabled",
    ):
        assert expected in page, expected

    found = _text(client.get("/admin/users", query_string={"q": "toktog"}))
    assert "Aida Toktogulova" in found and "Bakyt Osmonov" not in found
    found = _text(client.get("/admin/users", query_string={"q": "BAKYT"}))
    assert "Bakyt Osmonov" in found and "Aida Toktogulova" not in found
    found = _text(client.get("/admin/users", query_string={"role": "reviewer"}))
    assert "Aida Toktogulova" in found and "Bakyt Osmonov" not in found
    found = _text(client.get("/admin/users", query_string={"status": "disabled"}))
    assert "Bakyt Osmonov" in found and "Aida Toktogulova" not in found
    found = _text(client.get("/admin/users", query_string={"q": "%"}))
    assert "0 people found." in found
    # A tampered filter is ignored rather than failing.
    assert client.get("/admin/users", query_string={"role": "pope"}).status_code == 200


def test_the_list_is_paginated_and_keeps_the_filters(make_app):
    app = make_app({"USERS_PER_PAGE": 2})
    with app.app_context():
        _, client = _admin_client(app, name="Zed Admin")
        for n in range(5):
            factories.user("student", name=f"Student {n}")
        db.session.commit()
        first = _text(client.get("/admin/users", query_string={"role": "student"}))
        assert "Student 0" in first and "Student 2" not in first
        assert "Page 1 of 3" in first
        assert "role=student" in first and "page=2" in first
        second = _text(client.get("/admin/users", query_string={"role": "student", "page": 2}))
        assert "Student 2" in second and "Student 0" not in second


def _queries_for(client: FlaskClient, url: str) -> int:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_list_uses_a_bounded_number_of_queries(app):
    _, client = _admin_client(app)
    place = factories.madrasa()
    group = factories.cohort()
    for _ in range(2):
        person = factories.user("teacher", scope=place)
        factories.grant(person, "trainer", scope=group)
    db.session.commit()
    few = _queries_for(client, "/admin/users")
    for _ in range(10):
        person = factories.user("teacher", scope=place)
        factories.grant(person, "trainer", scope=group)
    db.session.commit()
    assert _queries_for(client, "/admin/users") == few


# --- creating accounts ---


def _new_user(**overrides: str) -> dict[str, str]:
    return {
        "username": "Nurlan.K",
        "name": "Nurlan Kadyrov",
        "sex": "male",
        "preferred_language": "ru",
        "email": "nurlan@example.org",
        "phone": "+996 555 000 111",
        "password": "a long enough password",
        "role": "",
        "scope": "",
        "expertise": "",
        **overrides,
    }


def test_admin_creates_a_user_with_a_first_role(app):
    admin, client = _admin_client(app)
    place = factories.madrasa("Madrasa Iman")
    db.session.commit()
    response = client.post(
        "/admin/users/new", data=_new_user(role="teacher", scope=f"madrasa:{place.id}")
    )
    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.username == "nurlan.k"))
    assert person is not None and person.name == "Nurlan Kadyrov" and person.sex == "male"
    assert [(g.role, g.scope_type, g.scope_id) for g in person.grants] == [
        ("teacher", "madrasa", place.id)
    ]
    assert _audit("user.create")[0].actor_id == admin.id
    assert _audit("role.grant")[0].details["scope_id"] == place.id
    page = _text(client.get(response.headers["Location"]))
    assert "Teacher · Madrasa Iman" in page

    newcomer = app.test_client()
    assert factories.login(newcomer, person, "a long enough password").status_code == 302


def test_a_duplicate_user_name_is_a_field_error_and_creates_nothing(app):
    _, client = _admin_client(app)
    factories.user(username="aida")
    db.session.commit()
    before = _count(User)
    response = client.post("/admin/users/new", data=_new_user(username=" AIDA "))
    assert response.status_code == 200
    page = _text(response)
    assert "This user name is already taken." in page
    assert 'id="username-errors"' in page and 'aria-invalid="true"' in page
    assert _count(User) == before


def test_a_user_name_taken_at_the_same_moment_is_still_a_field_error(app, monkeypatch):
    from lms.accounts import services

    _, client = _admin_client(app)
    factories.user(username="aida")
    db.session.commit()
    monkeypatch.setattr(services, "username_taken", lambda *a, **k: False)  # lose the race
    response = client.post("/admin/users/new", data=_new_user(username="aida"))
    assert response.status_code == 200
    assert "This user name is already taken." in _text(response)
    assert _count(User) == 2


def test_creating_shows_every_mistake_next_to_its_field(app):
    _, client = _admin_client(app)
    response = client.post(
        "/admin/users/new",
        data=_new_user(
            username="no spaces", email="not-an-address", role="trainer", scope="region:1"
        ),
    )
    page = _text(response)
    assert response.status_code == 200
    assert 'id="username-errors"' in page
    assert 'id="email-errors"' in page
    assert 'id="scope-errors"' in page and "cannot be limited to a region" in page
    assert _count(User) == 1


def test_a_short_password_is_refused(app):
    _, client = _admin_client(app)
    response = client.post("/admin/users/new", data=_new_user(password="short"))
    assert 'id="password-errors"' in _text(response)
    assert _count(User) == 1


# --- the user page: details, password, disabling ---


def test_admin_edits_a_persons_details(app):
    _, client = _admin_client(app)
    person = factories.user(name="Old Name")
    db.session.commit()
    response = client.post(
        f"/admin/users/{person.id}",
        data={
            "name": "New Name",
            "sex": "male",
            "preferred_language": "ky",
            "email": "",
            "phone": "0555",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert (person.name, person.sex, person.preferred_language, person.phone) == (
        "New Name",
        "male",
        "ky",
        "0555",
    )
    assert _audit("user.update")[0].details == {
        "fields": ["name", "phone", "preferred_language", "sex"]
    }


def test_disabling_a_user_logs_them_out_and_keeps_them_out(app):
    _, admin_client = _admin_client(app)
    person = factories.user("teacher")
    db.session.commit()
    theirs = app.test_client()
    factories.login(theirs, person)
    assert theirs.get("/account/").status_code == 200

    response = admin_client.post(f"/admin/users/{person.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert "is disabled and logged out" in _text(admin_client.get(response.headers["Location"]))

    assert theirs.get("/account/").status_code == 302  # their session has ended
    again = app.test_client()
    assert factories.login(again, person).status_code == 200  # the log-in form, refused
    assert again.get("/account/").status_code == 302
    assert [e.action for e in _audit("user.disable")] == ["user.disable"]

    admin_client.post(f"/admin/users/{person.id}/active", data={"active": "1"})
    assert factories.login(app.test_client(), person).status_code == 302


def test_an_admin_cannot_disable_themselves(app):
    admin, client = _admin_client(app)
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert "You cannot disable your own account" in _text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(User, admin.id).active
    assert client.get("/admin/users").status_code == 200  # still logged in


def test_setting_a_password_ends_the_persons_sessions(app):
    _, admin_client = _admin_client(app)
    person = factories.user("student")
    db.session.commit()
    theirs = app.test_client()
    factories.login(theirs, person)
    response = admin_client.post(
        f"/admin/users/{person.id}/password", data={"new_password": "brand new secret"}
    )
    assert response.status_code == 302
    assert theirs.get("/account/").status_code == 302
    assert factories.login(app.test_client(), person, "brand new secret").status_code == 302
    assert factories.login(app.test_client(), person).status_code == 200
    assert _audit("user.password")

    short = admin_client.post(f"/admin/users/{person.id}/password", data={"new_password": "x"})
    assert 'id="new_password-errors"' in _text(short)


def test_an_admin_resetting_their_own_password_stays_logged_in(app):
    admin, client = _admin_client(app)
    client.post(f"/admin/users/{admin.id}/password", data={"new_password": "my new password"})
    assert client.get("/admin/users").status_code == 200


# --- roles ---


def test_granting_a_scoped_role_and_revoking_it_are_audited(app):
    admin, client = _admin_client(app)
    place = factories.madrasa("Madrasa Nur")
    person = factories.user()
    db.session.commit()

    user_page = _text(client.get(f"/admin/users/{person.id}"))
    assert f'value="madrasa:{place.id}"' in user_page and "<optgroup" in user_page
    assert 'value="manual:' not in user_page

    response = client.post(
        f"/admin/users/{person.id}/roles", data={"role": "teacher", "scope": f"madrasa:{place.id}"}
    )
    assert response.status_code == 302
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == person.id))
    assert (grant.role, grant.scope_type, grant.scope_id) == ("teacher", "madrasa", place.id)
    [entry] = _audit("role.grant")
    assert entry.actor_id == admin.id and entry.object_id == str(person.id)
    assert entry.details["role"] == "teacher" and entry.details["scope"] == "madrasa"

    confirm = client.get(f"/admin/users/{person.id}/roles/{grant.id}/revoke")
    assert confirm.status_code == 200
    assert "Teacher · Madrasa Nur" in _text(confirm)
    response = client.post(f"/admin/users/{person.id}/roles/{grant.id}/revoke")
    assert response.status_code == 302
    assert _count(RoleGrant) == 1  # the admin's own
    [entry] = _audit("role.revoke")
    assert entry.actor_id == admin.id and entry.details["scope_id"] == place.id


@pytest.mark.parametrize(
    ("role", "scope", "expertise", "field", "message"),
    [
        ("trainer", "madrasa", "", "scope", "cannot be limited to a madrasa"),
        ("admin", "region", "", "scope", "Possible: everywhere"),
        ("reviewer", "", "", "expertise", "Choose the reviewer's expertise."),
        ("teacher", "", "health", "expertise", "Only expert reviewers have an expertise"),
        ("", "", "", "role", "Choose a role."),
    ],
)
def test_a_wrong_role_combination_is_explained(app, role, scope, expertise, field, message):
    _, client = _admin_client(app)
    place = factories.madrasa()
    person = factories.user()
    db.session.commit()
    value = {"madrasa": f"madrasa:{place.id}", "region": f"region:{place.region_id}"}.get(scope, "")
    response = client.post(
        f"/admin/users/{person.id}/roles",
        data={"role": role, "scope": value, "expertise": expertise},
    )
    page = _text(response)
    assert response.status_code == 200
    assert f'id="{field}-errors"' in page and message in page
    assert db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == person.id)) is None


def test_a_reviewer_gets_an_expertise_and_a_duplicate_grant_is_explained(app):
    _, client = _admin_client(app)
    person = factories.user()
    db.session.commit()
    data = {"role": "reviewer", "scope": "", "expertise": "health"}
    assert client.post(f"/admin/users/{person.id}/roles", data=data).status_code == 302
    assert "Expert reviewer · Health" in _text(client.get(f"/admin/users/{person.id}"))
    again = client.post(f"/admin/users/{person.id}/roles", data=data)
    assert "already has this role" in _text(again)
    assert len(_audit("role.grant")) == 1


def test_a_scope_that_is_not_offered_is_refused(app):
    _, client = _admin_client(app)
    person = factories.user()
    db.session.commit()
    for value in ("madrasa:999", "manual:1", "nonsense"):
        response = client.post(
            f"/admin/users/{person.id}/roles", data={"role": "teacher", "scope": value}
        )
        assert 'id="scope-errors"' in _text(response), value
    assert _count(RoleGrant) == 1


def test_an_admin_cannot_revoke_their_own_admin_role(app):
    admin, client = _admin_client(app)
    own = admin.grants[0]
    db.session.commit()
    assert "cannot be revoked by you" in _text(client.get(f"/admin/users/{admin.id}"))
    response = client.post(f"/admin/users/{admin.id}/roles/{own.id}/revoke")
    page = _text(client.get(response.headers["Location"]))
    assert "You cannot take away your own administrator role" in page
    db.session.expire_all()
    assert db.session.get(RoleGrant, own.id) is not None
    assert not _audit("role.revoke")


def test_another_admin_can_revoke_an_admins_role(app):
    _, client = _admin_client(app)
    other = factories.user("admin")
    db.session.commit()
    grant_id = other.grants[0].id
    client.post(f"/admin/users/{other.id}/roles/{grant_id}/revoke")
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant_id) is None


def test_a_grant_of_another_user_is_not_found(app):
    admin, client = _admin_client(app)
    person = factories.user()
    db.session.commit()
    url = f"/admin/users/{person.id}/roles/{admin.grants[0].id}/revoke"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.get("/admin/users/99999").status_code == 404
