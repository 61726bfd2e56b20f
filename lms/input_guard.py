"""Refuse requests that carry a NUL character, before any view runs; bound ids in addresses.

No browser sends NUL from typed text, and PostgreSQL cannot hold it in text: a NUL in any
value that reaches a query (a field, a query-string filter, an address like
``/curriculum/%00``, a JSON string) made the query fail with a 500. So a request with NUL in
its address, query string, form fields, file names or JSON strings is answered with 400 and
a message in the user's language. (Other control characters are refused field by field, with
the field's other errors: ``lms.forms.no_control_characters``.) An id in an address beyond
the database's integers is a 404; numbers out of range elsewhere are a 400 (lms.errors).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug import routing

from lms.errors import Invalid

NUL = "\x00"
#: How deep a JSON body is searched (deeper bodies are refused by the API's own checks).
MAX_DEPTH = 32

MESSAGE = _l(
    "What was sent contains a NUL character (U+0000), which no text can hold. Go back, "
    "delete it (or type the text again instead of pasting it) and send it again."
)


#: The largest id in an address: PostgreSQL's ``integer`` (SQLite takes 64 bits).
MAX_ID = 2**31 - 1


class IntegerConverter(routing.IntegerConverter):
    """``<int:…>`` up to the database's largest integer: ``/cohorts/99999999999`` is a 404
    like any other id that does not exist, not a query the database refuses. (It keeps
    Werkzeug's name: tools and tests recognise an id in an address by it.)"""

    def __init__(self, map: routing.Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Called before any blueprint is registered, so every ``<int:…>`` rule is bounded."""
    app.url_map.converters["int"] = IntegerConverter
    app.before_request(refuse_nul)


def _has_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return NUL in value
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item, depth + 1) for item in value)
    return False


def refuse_nul() -> None:
    """``before_request``: raise ``Invalid`` (400) when the request carries a NUL."""
    if NUL in request.path or any(
        _has_nul(key) or _has_nul(value) for key, value in request.args.items(multi=True)
    ):
        raise Invalid(MESSAGE)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if _has_nul(key) or _has_nul(value):
                raise Invalid(MESSAGE)
        for key, upload in request.files.items(multi=True):
            if _has_nul(key) or _has_nul(upload.filename or ""):
                raise Invalid(MESSAGE)
    elif request.is_json and _has_nul(request.get_json(silent=True)):
        raise Invalid(MESSAGE)
