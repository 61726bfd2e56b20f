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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, has_app_context, make_response, request, session
from sqlalchemy import BigInteger, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import cache
from lms.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_WROTE = "lms_wrote_data"


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


def clear() -> None:
    """Forget every kept page (after writes made around the application)."""
    cache.cache().clear()


def _page_key() -> str | None:
    seconds = int(current_app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds <= 0 or request.method != "GET" or "_flashes" in session:
        return None
    version = data_version()
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


def cached_page(view: F) -> F:
    """Serve the stored page when the request and the database are the same as when it was
    rendered; otherwise render it and store it."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _page_key()
        if key is None:
            return view(*args, **kwargs)
        stored = cache.get(key)
        if stored is not None:
            data = json.loads(stored)
            return Response(data["body"], status=200, mimetype=data["mimetype"])
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

    return wrapped  # type: ignore[return-value]
