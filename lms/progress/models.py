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
        # The newest record of a cohort (is its completion snapshot current?) from the index.
        Index("ix_lms_progress_record_cohort_newest", "cohort_id", "id"),
        # The newest record of one item (a practice lesson's current scores) from the index.
        Index("ix_lms_progress_record_item_newest", "item_type", "item_id", "id"),
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


class CohortCompletion(db.Model):
    """Who has completed a cohort, as its rule last decided (a snapshot, not the truth).

    The truth is ``evaluate_completion``; this copy lets reports count completion over
    hundreds of cohorts with one aggregate. It is refreshed in the transaction that adds
    progress records or changes a cohort's members, and the reports re-evaluate any cohort
    whose snapshot has fallen behind (``lms.progress.completion``).
    """

    __tablename__ = "lms_cohort_completion"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )


class CompletionState(db.Model):
    """What a cohort's completion snapshot was made from, to tell when it is out of date."""

    __tablename__ = "lms_completion_state"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(64))
    #: The newest progress record of the cohort when it was evaluated (0: none).
    ledger_mark: Mapped[int] = mapped_column(default=0)
    #: How many learners it had, and the newest learner membership (0: none).
    learners: Mapped[int] = mapped_column(default=0)
    members_mark: Mapped[int] = mapped_column(default=0)
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
