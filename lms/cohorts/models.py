"""Cohorts and memberships."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Madrasa, Region
from lms.timeutil import utcnow

TOT = "tot"
CLASS = "class"


class Cohort(db.Model):
    """A group of learners: a Training-of-Trainers cohort or a class in a madrasa."""

    __tablename__ = "lms_cohort"
    __table_args__ = (
        CheckConstraint("kind IN ('tot', 'class')", name="kind"),
        CheckConstraint(
            "(kind = 'tot' AND region_id IS NOT NULL)"
            " OR (kind = 'class' AND madrasa_id IS NOT NULL)",
            name="placed",
        ),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("lms_region.id"), index=True)
    madrasa_id: Mapped[int | None] = mapped_column(ForeignKey("lms_madrasa.id"), index=True)
    venue: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    #: Which manual the cohort studies (a curriculum manual slug); the edition comes later.
    manual: Mapped[str] = mapped_column(String(64), default="")
    #: Id of a completion rule registered through ``register_completion_rules``.
    completion_rule: Mapped[str] = mapped_column(String(64), default="")
    completion_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    region: Mapped[Region | None] = relationship()
    madrasa: Mapped[Madrasa | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="Membership.id"
    )

    @property
    def is_tot(self) -> bool:
        return self.kind == TOT

    @property
    def effective_region_id(self) -> int | None:
        """The region of the cohort, or of its madrasa for a class."""
        if self.region_id is not None:
            return self.region_id
        return self.madrasa.region_id if self.madrasa else None

    def __str__(self) -> str:
        return self.name


class Membership(db.Model):
    """A person's place in a cohort: trainer or participant (ToT), teacher or student (class)."""

    __tablename__ = "lms_membership"
    #: One role per person per cohort: the database, not a read-then-write, decides.
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class ClassStudentsKept(db.Model):
    """Kept figures: distinct students of a madrasa's classes in one year, by manual and sex.

    Derived data, kept by ``lms.cohorts.totals`` in the same transaction as the memberships,
    classes, madrasas and people they come from, so the report counts the students reached
    in a year without sorting every membership. ``year`` 0 covers all time and ``manual``
    ``"*"`` every manual. ``lms cohorts rebuild-totals`` makes them again.
    """

    __tablename__ = "lms_class_students"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    manual: Mapped[str] = mapped_column(String(64), primary_key=True)
    madrasa_id: Mapped[int] = mapped_column(
        ForeignKey("lms_madrasa.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    #: The classes' region (a class's own, or its madrasa's).
    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sex: Mapped[str] = mapped_column(String(8), primary_key=True)
    students: Mapped[int] = mapped_column(default=0)


class ClassStudentMover(db.Model):
    """A student counted in more than one madrasa (or region) in the same year and manual,
    one row per place: what ``ClassStudentOverlap`` is counted from."""

    __tablename__ = "lms_class_student_mover"
    __table_args__ = (
        Index("ix_lms_class_student_mover_places", "year", "manual", "sex", "places"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    manual: Mapped[str] = mapped_column(String(64), primary_key=True)
    madrasa_id: Mapped[int] = mapped_column(
        ForeignKey("lms_madrasa.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sex: Mapped[str] = mapped_column(String(8))
    #: All the student's places in the year and manual ("madrasa:region" joined by ","):
    #: the students with the same places are counted together in ``ClassStudentOverlap``.
    places: Mapped[str] = mapped_column(Text)


class ClassStudentOverlap(db.Model):
    """How many students of one sex have exactly the same places (madrasa and region) in a
    year and manual, when that is more than one place; one row per place.

    Summing ``ClassStudentsKept`` over places counts such a student once per place; the
    report takes the excess off from these rows, which are as few as the different sets
    of places (not one per student).
    """

    __tablename__ = "lms_class_student_overlap"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    manual: Mapped[str] = mapped_column(String(64), primary_key=True)
    sex: Mapped[str] = mapped_column(String(8), primary_key=True)
    places: Mapped[str] = mapped_column(Text, primary_key=True)
    madrasa_id: Mapped[int] = mapped_column(
        ForeignKey("lms_madrasa.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    students: Mapped[int] = mapped_column(default=0)
