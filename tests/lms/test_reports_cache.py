"""Report figures are kept for a few minutes: repeated views are cheap, "count again" is not."""

from __future__ import annotations

import pytest

from lms import cache
from lms.extensions import db
from lms.reports.host import STUDENTS_ID
from tests import factories
from tests.reports import build_world, count_statements, read_csv


@pytest.fixture
def cached_app(make_app):
    app = make_app({"REPORTS_CACHE_SECONDS": 600})
    with app.app_context():
        yield app


def _students_in_csv(client) -> str:
    rows = read_csv(client.get(f"/reports/{STUDENTS_ID}/by_region.csv").data)
    return rows[-1][-1]  # the total of the total row


def test_repeated_views_come_from_the_cache_until_counted_again(cached_app):
    world = build_world()
    db.session.commit()
    client = cached_app.test_client()
    factories.login(client, world["admin"])

    with count_statements(cached_app) as first:
        page = client.get("/reports/")
    assert page.status_code == 200 and "Figures as of" in page.get_data(as_text=True)
    before = _students_in_csv(client)

    # A new student arrives; the figures seen a moment ago stay until counted again.
    klass = world["cohorts"]["Nur class"]
    factories.member(klass, factories.user(name="Late Student"), "student")
    db.session.commit()
    with count_statements(cached_app) as second:
        assert client.get("/reports/").status_code == 200
    assert len(second) < len(first) - 10  # the indicators were not computed again
    assert _students_in_csv(client) == before  # downloads match the page

    again = client.get("/reports/", query_string={"fresh": "1"})
    assert again.status_code == 200
    assert int(_students_in_csv(client)) == int(before) + 1


def test_the_cache_is_per_language_and_per_scope(cached_app):
    world = build_world()
    officer = factories.user("monitor", scope=world["osh"])
    db.session.commit()
    for person in (world["admin"], officer):
        client = cached_app.test_client()
        factories.login(client, person)
        for language in ("en", "ru"):
            client.post("/language", data={"lang": language})
            page = client.get("/reports/").get_data(as_text=True)
            if person is officer:
                assert "Chuy" not in page and "Чуй" not in page
            assert ("Programme indicators" in page) == (language == "en")


def test_an_entry_expires(monkeypatch):
    store = cache.MemoryCache(entries=2)
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    store.set("a", "1", 60)
    assert store.get("a") == "1"
    now[0] += 61
    assert store.get("a") is None
    store.set("b", "2", 60)
    store.set("c", "3", 60)
    store.set("d", "4", 60)  # the oldest goes when the map is full
    assert store.get("b") is None and store.get("d") == "4"


def test_an_unreachable_redis_is_an_empty_cache():
    store = cache.RedisCache("redis://127.0.0.1:1/0")
    store.set("key", "value", 60)
    assert store.get("key") is None


def test_redis_shares_entries_between_workers():
    import redis

    url = "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(url, socket_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    first, second = cache.RedisCache(url), cache.RedisCache(url)
    first.set("lms:test:shared", "figures", 60)
    assert second.get("lms:test:shared") == "figures"
    second.clear()
    assert first.get("lms:test:shared") is None
