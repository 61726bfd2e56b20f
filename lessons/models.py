"""Lessons models: teaching sessions and attendance, practice lessons with rubric scores,
and monitoring visits. Module versions come from the curriculum; cohorts, madrasas and
people from the host.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.timeutil import utcnow

PLANNED, HELD, CANCELLED = "planned", "held", "cancelled"
PRESENT, ABSENT, EXCUSED = "present", "absent", "excused"
TOT_STAGES = ("I", "II", "III", "IV")


class TeachingSession(db.Model):
    """A lesson or ToT session for a cohort: planned (the schedule) or held (recorded)."""

    __tablename__ = "lessons_session"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'held', 'cancelled')", name="status"),
        CheckConstraint("stage IS NULL OR stage IN ('I', 'II', 'III', 'IV')", name="stage"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 600", name="duration"),
        Index("ix_lessons_session_cohort_date", "cohort_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    #: The module version taught (from a published edition); empty for ToT sessions such as
    #: "basics of effective training" that teach no module.
    module_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("curriculum_module_version.id")
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    stage: Mapped[str | None] = mapped_column(String(4))
    day: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    held_on: Mapped[date]
    duration_minutes: Mapped[int] = mapped_column(default=45)
    status: Mapped[str] = mapped_column(String(16), default=PLANNED)
    taught_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    taught_by: Mapped[User | None] = relationship(foreign_keys=[taught_by_id])
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class Attendance(db.Model):
    """Whether one member was at one session."""

    __tablename__ = "lessons_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint("status IN ('present', 'absent', 'excused')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lessons_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TeachingSession] = relationship(back_populates="attendance")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PracticeRubric(db.Model):
    """The criteria and scale practice lessons of one cohort are scored on."""

    __tablename__ = "lessons_practice_rubric"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    #: [{"id": "objectives", "label": "…", "dimension": "content" | "methodology"}, …]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)


class PracticeLesson(db.Model):
    """Stage III of a ToT: a participant teaches a module to the group."""

    __tablename__ = "lessons_practice_lesson"
    __table_args__ = (UniqueConstraint("cohort_id", "participant_id", "module_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"), index=True)
    module_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("curriculum_module_version.id")
    )
    taught_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[User] = relationship(foreign_keys=[participant_id])
    scores: Mapped[list[PracticeScore]] = relationship(
        back_populates="practice", cascade="all, delete-orphan"
    )


class PracticeScore(db.Model):
    """One scorer's rubric scores and comment for a practice lesson."""

    __tablename__ = "lessons_practice_score"
    __table_args__ = (
        UniqueConstraint("practice_id", "scorer_id"),
        CheckConstraint("role IN ('trainer', 'peer')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("lessons_practice_lesson.id", ondelete="CASCADE"), index=True
    )
    scorer_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"))
    role: Mapped[str] = mapped_column(String(16))
    #: criterion id → score on the rubric's scale
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    practice: Mapped[PracticeLesson] = relationship(back_populates="scores")
    scorer: Mapped[User] = relationship(foreign_keys=[scorer_id])


class MonitoringVisit(db.Model):
    """A monitoring officer's visit to a madrasa, with an observed lesson and a checklist."""

    __tablename__ = "lessons_monitoring_visit"
    __table_args__ = (Index("ix_lessons_monitoring_visit_madrasa", "madrasa_id", "visited_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    madrasa_id: Mapped[int] = mapped_column(ForeignKey("lms_madrasa.id"))
    visited_on: Mapped[date]
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    #: Other visitors, e.g. external specialists (free text: names and roles).
    visitors: Mapped[str] = mapped_column(Text, default="")
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("lms_cohort.id", ondelete="SET NULL"))
    module_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("curriculum_module_version.id")
    )
    #: checklist item id → score
    checklist: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    findings: Mapped[str] = mapped_column(Text, default="")
    follow_ups: Mapped[str] = mapped_column(Text, default="")
    follow_ups_done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    madrasa: Mapped[Madrasa] = relationship()
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    cohort: Mapped[Cohort | None] = relationship()


class LearnerYearAttendance(db.Model):
    """Kept totals: one learner's present marks at held sessions of one cohort in one year.

    Derived data, kept by ``lessons.totals`` in the same transaction as the attendance,
    sessions or sex they come from, so the report can count learners attending over whole
    years without reading millions of marks. ``lms lessons rebuild-totals`` makes them again
    from the marks (after writes made around the application).
    """

    __tablename__ = "lessons_learner_year"
    __table_args__ = (
        Index("ix_lessons_learner_year_year_user", "year", "user_id"),
        # The rows of learners with several in a year: few, so a partial index finds them.
        Index(
            "ix_lessons_learner_year_several",
            "year",
            postgresql_where=text("year_rows > 1"),
            sqlite_where=text("year_rows > 1"),
        ),
    )

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    marks: Mapped[int] = mapped_column(default=0)
    #: The learner's sex, copied (kept when it changes) so counting needs no join to people.
    sex: Mapped[str] = mapped_column(String(8))
    #: How many rows the learner has in this year (in any cohort): more than one means
    #: cohort totals summed over a year count them more than once.
    year_rows: Mapped[int] = mapped_column(default=1)


class CohortYearTotals(db.Model):
    """Kept totals of one cohort in one year: held sessions and their minutes, and learners
    attending and present marks by sex (see ``LearnerYearAttendance``)."""

    __tablename__ = "lessons_cohort_year"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sessions: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)
    learners_female: Mapped[int] = mapped_column(default=0)
    learners_male: Mapped[int] = mapped_column(default=0)
    marks_female: Mapped[int] = mapped_column(default=0)
    marks_male: Mapped[int] = mapped_column(default=0)
