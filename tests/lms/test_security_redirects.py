"""Open redirects (ASVS 5.1.5): every ``next`` stays on this site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from lms.extensions import db
from lms.urls import is_local_path
from tests import factories

EVIL = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",  # arrives decoded as //evil.example
    "%252F%252Fevil.example",  # arrives as the text %2F%2Fevil.example
    "///evil",
    "/\t/evil.example",  # browsers drop the tab and read //evil.example
    "/\n/evil.example",
    "http:evil.example",
    " //evil.example",
    "data:text/html,<script>alert(1)</script>",
]


def _on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and "evil" not in location
    )


@pytest.fixture
def person(app):
    teacher = factories.user("teacher")
    db.session.commit()
    return teacher


def test_is_local_path_refuses_every_way_out():
    from urllib.parse import unquote

    for target in EVIL:
        assert not is_local_path(unquote(target) if target.startswith("%2F") else target), target


def test_log_in_never_sends_people_to_another_site(app, client, person):
    for target in EVIL:
        # The value as a browser sends it in the query string (percent-encoded as given).
        query = "next=" + (target if target.startswith("%") else quote(target, safe=""))
        response = client.post(
            f"/account/login?{query}",
            data={"username": person.username, "password": factories.PASSWORD},
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", (target, response.headers["Location"])
        # Already logged in, the log-in page redirects at once: the same rule.
        response = client.get(f"/account/login?{query}")
        assert response.headers["Location"] == "/", target
        client.post("/account/logout")


def test_the_language_switch_never_sends_people_to_another_site(app, client):
    for target in EVIL:
        response = client.post("/language", data={"lang": "ru", "next": target})
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target


def test_paths_on_this_site_are_followed(app, client, person):
    response = client.post(
        "/account/login?next=" + quote("/cohorts/?page=2", safe=""),
        data={"username": person.username, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/cohorts/?page=2"
    response = client.post("/language", data={"lang": "ky", "next": "/curriculum/"})
    assert response.headers["Location"] == "/curriculum/"


def test_a_foreign_referer_never_becomes_the_way_back_after_confirming(app, client, monkeypatch):
    from lms.accounts import sessions

    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    real = sessions.now
    monkeypatch.setattr(sessions, "now", lambda: real() + 11 * 60)
    response = client.post(
        "/admin/users/1/roles",
        data={"role": "teacher"},
        headers={"Referer": "https://evil.example/admin/users"},
    )
    assert response.headers["Location"] == "/account/confirm?next=/"
    assert _on_site(response.headers["Location"])
