"""Test fixtures: a fresh app and database for every test, on SQLite or PostgreSQL.

The schema is built once per session by running the real Alembic migrations (so every test
also proves the migrations work); each test then gets a copy (SQLite: a file copy) or a
truncated database (PostgreSQL, when ``LMS_TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.accounts import passwords
from lms.config import normalise_database_url
from lms.extensions import db

PG_URL = os.environ.get("LMS_TEST_DATABASE_URL")

# Real argon2id, with the cheapest parameters: hashing is exercised, not paid for, per test.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords.use_hasher(TEST_HASHER)
#: Tables whose rows come from migrations (reference data), kept between tests.
REFERENCE_TABLES = {"alembic_version", "lms_region", "lms_data_version"}


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def _pg_worker_url() -> str:
    """One database per xdist worker: ``test`` becomes ``test_gw0``, ``test_gw1``…"""
    assert PG_URL
    url = make_url(normalise_database_url(PG_URL))
    suffix = _worker_suffix()
    if not suffix:
        return url.render_as_string(hide_password=False)
    name = f"{url.database}{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def migrate_to_head(url: str, instance: Path) -> None:
    """Run the real migrations against ``url``."""
    from flask_migrate import upgrade

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "x" * 32}
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Migrate once per session; tests copy or truncate from here."""
    base = tmp_path_factory.mktemp("db")
    if PG_URL:
        url = _pg_worker_url()
        _reset_postgres(url)
        migrate_to_head(url, base / "instance")
        engine = create_engine(url)
        tables = [t for t in inspect(engine).get_table_names() if t not in REFERENCE_TABLES]
        return {"kind": "postgresql", "url": url, "engine": engine, "tables": tables}
    template = base / "template.sqlite3"
    migrate_to_head(f"sqlite:///{template}", base / "instance")
    return {"kind": "sqlite", "path": template}


def _fresh_database_url(template: dict[str, Any], tmp_path: Path) -> str:
    if template["kind"] == "postgresql":
        tables = ", ".join(f'"{name}"' for name in template["tables"])
        with template["engine"].begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return template["url"]
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(template["path"], path)
    return f"sqlite:///{path}"


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a real server does.

    Tests often hold an app context open to use the database; without this, Flask would
    reuse it for requests, sharing ``g`` (and so the logged-in user) and the database
    session between requests and the test, hiding missing commits.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-" + "x" * 32,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SERVER_NAME": "lms.test",
    # Jobs run at once inside the request, so a test sees their result without waiting.
    "JOBS_IN_BACKGROUND": False,
    # Figures computed afresh on every view: tests change the data between two views.
    "REPORTS_CACHE_SECONDS": 0,
    "PAGE_CACHE_SECONDS": 0,
}


@pytest.fixture
def make_app(database_template: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """Build an app on a fresh database with extra config or plugins: ``make_app(...)``."""
    apps: list[Flask] = []
    url = _fresh_database_url(database_template, tmp_path)

    def factory(config: dict[str, Any] | None = None, *, plugins: tuple[object, ...] = ()) -> Flask:
        settings = {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            **(config or {}),
        }
        app = create_app(settings, plugins=plugins)
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Iterator[Flask]:
    """The app with the built-in plugins, inside an app context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
