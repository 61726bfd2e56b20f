"""Busy pages are served again unchanged while the database is unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
    assert len(second) <= 4 < len(first)  # the person, their grants, the version
    assert again.headers["Cache-Control"] == "no-store"  # still private to the browser


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
