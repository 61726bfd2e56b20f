"""Domain errors raised by services, and the pages they turn into.

Services raise ``NotAllowed``, ``NotFound``, ``Conflict`` or ``Invalid`` with a message in
the user's language (a lazy string); the app turns them into the right status code and an
error page, or JSON under ``/api/``. Nothing a user types ever becomes a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class LmsError(Exception):
    """Base of the domain errors; ``message`` is shown to the user."""

    status_code = 400
    default_message: Any = _l("The request could not be processed.")

    def __init__(self, message: Any = None, *, field_errors: dict[str, list[Any]] | None = None):
        self.message = message if message is not None else self.default_message
        self.field_errors = field_errors or {}
        super().__init__(str(self.message))


class Invalid(LmsError):
    """The input is wrong; the message (and field errors) say what to fix."""

    status_code = 400
    default_message = _l("Some of the information is not valid.")


class NotAllowed(LmsError):
    """The user may not do this to this object."""

    status_code = 403
    default_message = _l("You do not have permission to do this.")


class NotFound(LmsError):
    """The object does not exist (or the user may not know that it does)."""

    status_code = 404
    default_message = _l("The page or item you asked for does not exist.")


class Conflict(LmsError):
    """The change clashes with another one (someone else saved first, a duplicate)."""

    status_code = 409
    default_message = _l("Someone else changed this at the same time. Reload and try again.")


TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}

MESSAGES = {
    400: _l("The request could not be understood. Please check what you sent."),
    403: _l("You do not have permission to see this page."),
    404: _l("The page or item you asked for does not exist."),
    405: _l("This page cannot be used that way."),
    409: _l("Someone else changed this at the same time. Reload and try again."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
}


OUT_OF_RANGE = _l(
    "Something sent does not fit: a number that is too large, or a text that is too long or "
    "holds a character that cannot be stored. Go back and check what you entered."
)

CSRF_MESSAGE = _l(
    "The form has expired or did not come from this site. Go back, reload the page and try again."
)


def render_error(code: int, message: Any = None) -> tuple[Any, int]:
    """An error page (or JSON body) in the user's language."""
    text = message if message is not None else MESSAGES.get(code, MESSAGES[500])
    title = TITLES.get(code, TITLES[500])
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"status": code, "title": str(title), "message": str(text)}}), code
    return render_template("lms/error.html", code=code, title=title, message=text), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LmsError)
    def _domain_error(error: LmsError) -> tuple[Any, int]:
        return render_error(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[Any, int]:
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = error.code or 500
        if code < 400:
            return error
        return render_error(code)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(error: Exception) -> tuple[Any, int]:
        # The database refused a value sent: an id beyond its integers (PostgreSQL: DataError;
        # SQLite: OverflowError past 64 bits), a NUL, a text longer than its column. The
        # input is at fault, not the server: a 400 that says so, and a note in the log.
        log.warning("a value out of range on %s %s: %s", request.method, request.path, error)
        try:
            from lms.extensions import db

            db.session.rollback()
        except Exception:  # pragma: no cover - the database itself may be what failed
            log.exception("rollback after a value out of range failed")
        return render_error(400, OUT_OF_RANGE)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Any, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            from lms.extensions import db

            db.session.rollback()
        except Exception:  # pragma: no cover - the database itself may be what failed
            log.exception("rollback after an unhandled error failed")
        return render_error(500)
