"""The append-only progress ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class ProgressRecord(db.Model):
    """One fact about one learner: attended a session, passed a quiz, completed a module.

    Records are never changed or deleted; a correction is a newer record about the same item,
    and the latest record per (learner, item) is the one that counts.
    """

    __tablename__ = "lms_progress_record"
    __table_args__ = (
        Index("ix_lms_progress_record_learner_item", "user_id", "item_type", "item_id"),
        Index("ix_lms_progress_record_cohort", "cohort_id", "item_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("lms_cohort.id"))
    item_type: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a progress record."""


@event.listens_for(ProgressRecord, "before_update")
def _refuse_update(*_: object) -> None:
    raise LedgerIsAppendOnly("progress records are never changed; record a newer one instead")


@event.listens_for(ProgressRecord, "before_delete")
def _refuse_delete(*_: object) -> None:
    raise LedgerIsAppendOnly("progress records are never deleted; record a newer one instead")
