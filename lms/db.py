"""Transaction helpers that make SQLite behave under concurrent writers.

PostgreSQL decides races with row locks (``SELECT … FOR UPDATE``). SQLite has one writer
at a time, and a transaction that has already read cannot always become a writer once
another writer has committed ("database is locked", at once, whatever the busy timeout).
``begin_write`` starts the transaction as a writer (``BEGIN IMMEDIATE``) before it reads,
so it waits its turn instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from lms.extensions import db

_WROTE = "lms_wrote"
#: Ids in one IN list, or rows in one multi-row INSERT (of a few columns), at most: the
#: databases cap the parameters of one statement.
BATCH = 400
T = TypeVar("T")


@event.listens_for(Session, "after_flush")
def _mark_written(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _clear_written(session: Session) -> None:
    session.info.pop(_WROTE, None)


def is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """Call first in a service that reads then writes; a no-op on PostgreSQL.

    On SQLite: a transaction that has written already holds the write lock, and one with
    unsaved changes takes it by flushing them; a read-only one is ended (objects reload on
    next use) and a write transaction opened in its place.
    """
    if not is_sqlite():
        return
    session = db.session
    if session.info.get(_WROTE):
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
        return
    session.rollback()
    session.execute(text("BEGIN IMMEDIATE"))


def upsert(model: Any) -> Any:
    """INSERT … ON CONFLICT for the database in use (SQLite and PostgreSQL both have it)."""
    if is_sqlite():
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    return dialect_insert(model)


def batches(values: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """``values`` in runs of at most ``size``, in their order (sort ids first, so that two
    transactions touch the same rows in the same order)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
