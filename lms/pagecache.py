"""Serving a page again, unchanged, while nothing in the database has changed.

The busiest pages (a reviewer's queue, a version's diff, a class's progress grid, a
cohort's page, an item analysis, the reports, a certificate's check) are opened again and
again with the same data. The database keeps a *data version*, one number that every
transaction which writes anything increases as it commits (``DataVersion``; a listener on
the engine notes every INSERT, UPDATE and DELETE, whatever issued it). A page rendered at
one version is the page any request at the same version would render, byte for byte, as
long as the request itself is the same: same address, same person in the same session
(their session identity, CSRF token and language choice), same browser language.

``cached_page`` keeps such pages for ``PAGE_CACHE_SECONDS`` (in ``lms.cache``: Redis when
configured, else the process). It never applies to a request with flashed messages to
show, nor to anything but a successful HTML page. Writes made around the application
(``psql``, a bulk import script) do not move the version: run ``lms cache clear`` after
them.

A kept page is found before the view runs, and before the person is loaded from the
database: ``serve_kept_page`` (called by the session check) says why that is safe. A view
of a kept page then costs one SQL statement, the data version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, has_app_context, make_response, request, session
from sqlalchemy import BigInteger, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import cache
from lms.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_WROTE = "lms_wrote_data"
#: Marks a view function as a kept page; ``g`` attributes of the request.
_KEPT_ATTRIBUTE = "lms_kept_page"
_VERSION_ATTRIBUTE = "lms_data_version"
_SERVED_ATTRIBUTE = "lms_kept_page_served"
_LOOKED_ATTRIBUTE = "lms_kept_page_looked"
#: Plain SQL, not an ORM query: it runs on every view of a kept page.
_VERSION_SQL = "SELECT version FROM lms_data_version WHERE id = 1"


class DataVersion(db.Model):
    """One row: how many writing transactions the database has committed (through the app)."""

    __tablename__ = "lms_data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


@event.listens_for(Engine, "after_cursor_execute")
def _note_write(
    connection: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    """Every INSERT, UPDATE or DELETE, from the ORM, Core or plain SQL, marks its connection."""
    if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        connection.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_write(connection: Connection) -> None:
    connection.info.pop(_WROTE, None)


@event.listens_for(Session, "before_commit")
def _bump_version(session: Session) -> None:
    """A transaction that wrote moves the version on, in itself, as the last thing it does.

    Not when a savepoint is released: the row would be locked from then on, and a lock
    taken later in the same transaction (the audit chain's) would come after it, the
    opposite order to other transactions — a deadlock.
    """
    if not session.in_transaction() or session.in_nested_transaction() or not has_app_context():
        return
    session.flush()
    connection = session.connection()
    if connection.info.get(_WROTE):
        session.execute(update(DataVersion).values(version=DataVersion.version + 1))


def data_version() -> int:
    return int(db.session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


def request_version() -> int:
    """The data version this request's page is kept under, read once, as the request's first
    statement.

    Reading it before the person and their permissions are loaded matters: a page is stored
    under a version no newer than the data its checks saw, so a permission taken away (a
    write, which moves the version on) can never be found behind a page stored for the old
    version by a request that raced it.
    """
    if _VERSION_ATTRIBUTE not in g:
        if db.session().in_transaction():
            value = data_version()
        else:
            # Outside a transaction: no BEGIN and ROLLBACK around it, two round trips fewer
            # for a page served from the cache.
            autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as connection:
                value = connection.exec_driver_sql(_VERSION_SQL).scalar()
        setattr(g, _VERSION_ATTRIBUTE, int(value or 0))
    return int(getattr(g, _VERSION_ATTRIBUTE))


def clear() -> None:
    """Forget every kept page and kept report figure (after writes made around the
    application): the data version moves on, which every process's kept pages are keyed on
    (a process's own memory cannot be reached from outside it), and the shared cache, when
    there is one, is emptied. The caller commits."""
    db.session.execute(update(DataVersion).values(version=DataVersion.version + 1))
    cache.cache().clear()


def _page_key() -> str | None:
    seconds = int(current_app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds <= 0 or request.method != "GET" or "_flashes" in session:
        return None
    version = request_version()
    who = "|".join(
        str(part)
        for part in (
            session.get("_user_id", ""),
            session.get("csrf_token", ""),
            session.get("lang", ""),
            request.headers.get("Accept-Language", ""),
        )
    )
    digest = hashlib.sha256(f"{who}|{request.full_path}".encode()).hexdigest()
    return f"page:{request.endpoint}:{version}:{digest}"


def is_kept_endpoint() -> bool:
    """Whether this request is for a view decorated with ``cached_page``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _KEPT_ATTRIBUTE, False))


def served_kept_page() -> bool:
    """Whether this request's response is a stored page (the session check served it)."""
    return bool(g.get(_SERVED_ATTRIBUTE))


def serve_kept_page() -> Response | None:
    """The stored page for this request, before the view, the person or their permissions are
    loaded; or None (then the request goes on as usual).

    The session check calls this once a session has passed every check that needs no
    database (idle and absolute limits, the identity's age, Flask-Login's session
    protection). Why serving it then is safe: the page was stored by a request with the same
    signed session identity (user, session version, time of issue), CSRF token, language and
    address, at the same data version, and only after that request's log-in and permission
    checks passed and it rendered a 200. Those checks read nothing but the database, and
    while the version has not moved the database is what it was: the same user, still
    active, at the same session version, with the same role grants and memberships. Log-out,
    disabling an account, a password change and a grant taken away all write, and so miss.
    This is what lets a kept page cost one SQL statement, not four.
    """
    if not is_kept_endpoint():
        return None
    key = _page_key()
    if key is None:
        return None
    g.setdefault(_LOOKED_ATTRIBUTE, True)
    stored = _stored_response(key)
    if stored is not None:
        g.setdefault(_SERVED_ATTRIBUTE, True)
    return stored


def _stored_response(key: str) -> Response | None:
    stored = cache.get(key)
    if stored is None:
        return None
    body, mimetype = _decoded(stored)
    return Response(body, status=200, mimetype=mimetype)


@lru_cache(maxsize=64)
def _decoded(stored: str) -> tuple[bytes, str]:
    """A stored page's body as the bytes to send, and its type: decoded once per stored
    text. The in-process cache hands back the same text object for every view of a page,
    so its hash and equality are immediate and a repeat view neither parses the JSON nor
    encodes the body again (a tenth of a kept page's time for a 40 KB page)."""
    data = json.loads(stored)
    return data["body"].encode(), data["mimetype"]


def cached_page(view: F) -> F:
    """Serve the stored page when the request and the database are the same as when it was
    rendered; otherwise render it and store it.

    A stored page is normally found before the view and its checks run at all
    (``serve_kept_page``, from the session check); this wrapper finds one only for a request
    that could not take that path (a session restored from a remember-me cookie)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _page_key()
        if key is None:
            return view(*args, **kwargs)
        stored = None if g.get(_LOOKED_ATTRIBUTE) else _stored_response(key)
        if stored is not None:
            return stored
        response = make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and response.mimetype == "text/html"
            and not response.direct_passthrough
            and "_flashes" not in session
        ):
            cache.put(
                key,
                json.dumps(
                    {"body": response.get_data(as_text=True), "mimetype": response.mimetype}
                ),
                int(current_app.config.get("PAGE_CACHE_SECONDS") or 0),
            )
        return response

    setattr(wrapped, _KEPT_ATTRIBUTE, True)  # ``wraps`` carries it to the outer decorators
    return wrapped  # type: ignore[return-value]
