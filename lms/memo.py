"""Remembering an answer for the rest of a page view.

A page asks the same question of several plugins' code (the progress items of a cohort,
its latest ledger records, the edition it teaches from): the grid, the completion rule and
a section each ask once. Within one GET request the data cannot change under them, so the
first answer is kept in ``g`` and reused. Outside a GET request (a form being saved, a job,
the command line) nothing is kept: the code asks the database each time, as before.

Answers are database objects of the session that read them, so they are kept only while
that session lives: when the request's session is removed and another begins (a script or
a test running much work inside one request context), what was kept is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import g, has_request_context, request

T = TypeVar("T")

_STORE = "_lms_memo"
_SESSION = "_lms_memo_session"


def remembering() -> bool:
    """Whether answers are kept: inside a GET (or HEAD) request."""
    return has_request_context() and request.method in ("GET", "HEAD")


def remembered(namespace: str, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its earlier answer for (namespace, key) in this GET request."""
    if not remembering():
        return compute()
    from lms.extensions import db

    session = db.session()
    if g.get(_SESSION) is not session:
        g.setdefault(_STORE, {}).clear()
        setattr(g, _SESSION, session)
    store: dict[tuple[str, Hashable], object] = g.setdefault(_STORE, {})
    full_key = (namespace, key)
    if full_key not in store:
        store[full_key] = compute()
    return store[full_key]  # type: ignore[return-value]


def forget(namespace: str | None = None) -> None:
    """Drop remembered answers (of one namespace, or all), e.g. after a write."""
    if not has_request_context():
        return
    store: dict[tuple[str, Hashable], object] | None = g.get(_STORE)
    if store is None:
        return
    if namespace is None:
        store.clear()
    else:
        for key in [k for k in store if k[0] == namespace]:
            del store[key]
