"""Busy pages are served again unchanged while the database is unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lms.accounts.services import revoke_role
from lms.extensions import db
from tests import factories
from tests.reports import count_statements


@pytest.fixture
def cached_app(make_app):
    app = make_app({"PAGE_CACHE_SECONDS": 300, "REPORTS_CACHE_SECONDS": 0})
    with app.app_context():
        yield app


def _monitor_client(app):
    officer = factories.user("monitor", name="Officer")
    db.session.commit()
    client = app.test_client()
    factories.login(client, officer)
    client.get("/")  # the session gets its CSRF token, as on any first page
    return officer, client


def test_the_second_view_of_an_unchanged_page_is_served_from_the_cache(cached_app):
    _officer, client = _monitor_client(cached_app)
    with count_statements(cached_app) as first:
        page = client.get("/reports/")
    with count_statements(cached_app) as second:
        again = client.get("/reports/")
    assert page.status_code == again.status_code == 200
    assert again.data == page.data
    assert len(second) == 1 < len(first)  # the data version, nothing else
    assert again.headers["Cache-Control"] == "no-store"  # still private to the browser


def test_a_kept_page_is_not_served_once_the_permission_to_see_it_is_taken_away(cached_app):
    officer, client = _monitor_client(cached_app)
    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/").status_code == 200  # now kept
    revoke_role(officer.grants[0].id, actor_id=None)
    db.session.commit()
    assert client.get("/reports/").status_code == 403


def test_a_kept_page_is_not_served_to_a_session_that_was_logged_out_elsewhere(cached_app):
    _officer, client = _monitor_client(cached_app)
    copy = cached_app.test_client()
    cookie = client.get_cookie("session", domain="lms.test").value
    copy.set_cookie("session", cookie, domain="lms.test")
    assert copy.get("/reports/").status_code == 200  # kept, for this session
    client.post("/account/logout")
    response = copy.get("/reports/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_an_idle_session_ends_on_a_kept_page_too(cached_app, monkeypatch):
    from lms.accounts import sessions

    _officer, client = _monitor_client(cached_app)
    client.get("/reports/")
    real = sessions.now
    monkeypatch.setattr(sessions, "now", lambda: real() + 31 * 60)
    response = client.get("/reports/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_a_kept_page_from_another_browser_loads_the_person_again(cached_app):
    """Flask-Login's session protection sees a different browser: the page is not served
    from the shortcut, and the session no longer counts as a fresh log-in."""
    _officer, client = _monitor_client(cached_app)
    client.get("/reports/")
    with count_statements(cached_app) as statements:
        response = client.get("/reports/", headers={"User-Agent": "another browser"})
    assert response.status_code == 200 and len(statements) > 1
    with client.session_transaction() as session:
        assert session["_fresh"] is False


def test_a_change_in_the_database_renders_the_page_again(cached_app):
    _officer, client = _monitor_client(cached_app)
    before = client.get("/reports/").get_data(as_text=True)
    factories.madrasa("A madrasa added meanwhile")
    db.session.commit()
    with count_statements(cached_app) as statements:
        after = client.get("/reports/").get_data(as_text=True)
    assert len(statements) > 4 and after != before


def test_each_person_gets_their_own_page(cached_app):
    _officer, client = _monitor_client(cached_app)
    other = factories.user("monitor", name="Another Officer")
    db.session.commit()
    second = cached_app.test_client()
    factories.login(second, other)
    assert "Officer" in client.get("/reports/").get_data(as_text=True)
    page = second.get("/reports/").get_data(as_text=True)
    assert "Another Officer" in page


def test_a_page_with_a_message_to_show_is_not_kept(cached_app):
    _officer, client = _monitor_client(cached_app)
    client.get("/reports/")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Saved just now")]
    assert "Saved just now" in client.get("/reports/").get_data(as_text=True)
    assert "Saved just now" not in client.get("/reports/").get_data(as_text=True)


def test_a_write_moves_the_data_version_on_and_a_read_does_not(cached_app):
    from lms.pagecache import data_version

    start = data_version()
    factories.user("monitor")
    db.session.commit()
    assert data_version() == start + 1
    db.session.commit()  # nothing written
    assert data_version() == start + 1
    db.session.execute(text("UPDATE lms_user SET phone = '1'"))  # plain SQL counts too
    db.session.commit()
    assert data_version() == start + 2


def test_lms_cache_clear_forgets_kept_pages_after_writes_made_around_the_application(
    cached_app,
):
    _officer, client = _monitor_client(cached_app)
    factories.madrasa("Nur")  # a madrasa, not a region: regions are reference data kept
    db.session.commit()  # between tests on PostgreSQL, and this test renames it
    assert "Nur (" in client.get("/reports/").get_data(as_text=True)
    with db.engine.begin() as connection:  # as psql would: no data version moves
        connection.execute(text("UPDATE lms_madrasa SET name = 'Renamed madrasa'"))
    assert "Renamed madrasa" not in client.get("/reports/").get_data(as_text=True)  # kept
    result = cached_app.test_cli_runner().invoke(args=["cache", "clear"])
    assert result.exit_code == 0 and "forgotten" in result.output
    assert "Renamed madrasa" in client.get("/reports/").get_data(as_text=True)
