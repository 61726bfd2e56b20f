"""Audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class AuditEntry(db.Model):
    """Who did what to which object, when; each entry's hash covers the previous one.

    Append-only three times over: these ORM events refuse changes from the application,
    database triggers (migration 0009) refuse ``UPDATE`` and ``DELETE`` from anyone who does
    not own the table, and ``lms audit verify`` shows any change made around both.
    """

    __tablename__ = "lms_audit_entry"
    __table_args__ = (
        # A person's entries (privacy export) and an object's history (certificate pages).
        Index("ix_lms_audit_entry_actor_id", "actor_id"),
        Index("ix_lms_audit_entry_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_: object) -> None:
    raise AuditLogIsAppendOnly("audit entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_: object) -> None:
    raise AuditLogIsAppendOnly("audit entries are never deleted")
