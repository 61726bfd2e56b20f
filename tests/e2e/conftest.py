"""Fixtures of the browser journeys: Chromium, and the demo site served for real.

Each journey gets a fresh database holding ``lms demo``'s data, made the way every other
test's is (``tests/conftest.py``: a copy of the migrated SQLite template, or the worker's
PostgreSQL database truncated; a worker runs one test at a time). It is served by a real
HTTP server with CSRF protection on and jobs in the background, every demo user set to the
journey's language.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lms import create_app
from lms.extensions import db
from tests.conftest import _fresh_database_url
from tests.e2e.harness import (
    AXE,
    BROWSER_LOCALES,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    Journey,
    LiveServer,
    axe_available,
)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test process; the browser tests skip,
    saying why, without it."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("the browser tests need Playwright for Python (pip install playwright)")
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.skip(f"Chromium could not be started by Playwright: {error}")
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def browser(chromium: Any) -> Any:
    """Chromium for the journeys, which also check accessibility with axe-core."""
    if not axe_available():
        pytest.skip(f"the browser tests need axe-core at {AXE} (npm ci --prefix tests/e2e)")
    return chromium


@dataclass
class DemoSite:
    server: LiveServer
    app: Any

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def demo_site(
    database_template: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[..., DemoSite]]:
    """``demo_site(language)``: the demo data served on 127.0.0.1, its users in ``language``."""
    made: list[DemoSite] = []

    def start(language: str = "en", config: dict[str, Any] | None = None) -> DemoSite:
        from lms.accounts.models import User
        from lms.demo import load_demo

        server = LiveServer()
        server.start()
        settings = {
            "SQLALCHEMY_DATABASE_URI": _fresh_database_url(database_template, tmp_path),
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "e2e-secret-key-" + "x" * 32,
            "PUBLIC_URL": server.url,
            "RATELIMIT_ENABLED": False,
            # Pages and figures computed on every view: the journeys change data between views.
            "PAGE_CACHE_SECONDS": 0,
            "REPORTS_CACHE_SECONDS": 0,
            **(config or {}),
        }
        app = create_app(settings)
        with app.app_context():
            load_demo()
            db.session.execute(update(User).values(preferred_language=language))
            db.session.commit()
            db.session.remove()
        server.app = app
        site = DemoSite(server, app)
        made.append(site)
        return site

    yield start
    for site in made:
        site.server.stop()
        with site.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def open_journey(browser: Any) -> Iterator[Callable[..., tuple[Journey, Any]]]:
    """``open_journey(name, site, language, phone=False)`` → (journey, a fresh page)."""
    contexts: list[Any] = []

    def start(
        name: str, site: DemoSite, language: str, *, phone: bool = False, javascript: bool = True
    ) -> tuple[Journey, Any]:
        context = browser.new_context(
            locale=BROWSER_LOCALES[language],
            java_script_enabled=javascript,
            accept_downloads=True,
            **(PHONE if phone else DESKTOP),
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Journey(name, language, site.url), context.new_page()

    yield start
    for context in contexts:
        context.close()
