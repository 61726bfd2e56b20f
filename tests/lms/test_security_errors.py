"""Error pages (ASVS 7.4.1, 14.3.2): an unexpected error or a failing SQL statement becomes a
plain page (or JSON body) in the user's language, without traceback, SQL or exception text,
and the error is logged for the operators."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest
from flask import Blueprint, Flask
from sqlalchemy import text

from lms import hookimpl
from lms.extensions import db

SECRET = "secret internals 7f3a"


class BrokenPlugin:
    """A plugin whose pages fail: one raises, one runs SQL the database refuses."""

    @hookimpl
    def register_blueprints(self, app: Flask) -> Iterable[Blueprint]:
        bp = Blueprint("broken", __name__)

        @bp.get("/broken/raise")
        def raise_error():
            raise RuntimeError(f"{SECRET}: password_hash of user 1 is $argon2id$…")

        @bp.get("/broken/sql")
        def sql_error():
            db.session.execute(text("SELECT secret_column_7f3a FROM no_such_table_7f3a"))
            return "unreachable"

        @bp.get("/api/v1/broken/sql")
        def api_sql_error():
            db.session.execute(text("SELECT secret_column_7f3a FROM no_such_table_7f3a"))
            return "unreachable"

        return [bp]


LEAKS = [
    "Traceback",
    'File "',
    SECRET,
    "argon2",
    "secret_column_7f3a",
    "no_such_table_7f3a",
    "SELECT",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "RuntimeError",
    "OperationalError",
    "ProgrammingError",
]


@pytest.fixture
def broken_app(make_app):
    return make_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": False}, plugins=(BrokenPlugin(),))


@pytest.mark.parametrize("url", ["/broken/raise", "/broken/sql", "/api/v1/broken/sql"])
def test_errors_show_no_internals_and_are_logged(broken_app, url, caplog):
    client = broken_app.test_client()
    with caplog.at_level(logging.ERROR, logger="lms.errors"):
        response = client.get(url, headers={"Accept-Language": "ru"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in body, leak
    if url.startswith("/api/"):
        assert response.json["error"]["status"] == 500
    else:
        assert "Что-то пошло не так" in body  # in the visitor's language
    assert response.headers["Cache-Control"] == "no-store"
    logged = [r for r in caplog.records if r.name == "lms.errors" and r.exc_info]
    assert logged, "the error was not logged"
    assert url in logged[-1].getMessage()
    # The app goes on working: the failed transaction was rolled back.
    assert client.get("/healthz").status_code == 200
