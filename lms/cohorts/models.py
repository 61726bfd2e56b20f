"""Cohorts and memberships."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
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
