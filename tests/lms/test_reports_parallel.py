"""On PostgreSQL a report page counts its indicators at once, each on its own connection,
and shows exactly what counting them one after the other shows, in the viewer's language."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from lms.extensions import db
from lms.reports import service
from tests import factories
from tests.conftest import PG_URL
from tests.reports import build_world

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (LMS_TEST_DATABASE_URL)")


def _page(make_app: Any, workers: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, set[str]]:
    """The report page for 2025 in Russian, and the threads the indicators were counted in."""
    app = make_app({"REPORTS_WORKERS": workers, "REPORTS_CACHE_SECONDS": 0})
    threads: set[str] = set()
    counted = service.compute

    def compute(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return counted(*args, **kwargs)

    monkeypatch.setattr(service, "compute", compute)
    with app.app_context():
        if not db.session.execute(db.select(factories.User).limit(1)).first():
            build_world()
        officer = factories.user("monitor", language="ru")
        db.session.commit()
        client = app.test_client()
        factories.login(client, officer)
    response = client.get("/reports/?year=2025")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The tables, after the filters and the donor-report forms (whose CSRF tokens and the
    # moment of counting differ between two runs).
    return "</form>".join(html.split("</form>")[2:]), threads


def test_indicators_are_counted_at_once_with_the_same_figures(make_app, monkeypatch):
    at_once, threads = _page(make_app, 2, monkeypatch)
    assert any(name.startswith("lms-report") for name in threads)
    assert "Охвачено учащихся" in at_once  # the page's language reached the threads
    in_turn, threads = _page(make_app, 1, monkeypatch)
    assert not any(name.startswith("lms-report") for name in threads)
    assert at_once == in_turn
