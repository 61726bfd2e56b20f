"""Lessons logic."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.accounts.roles import LEADER_ROLES, LEARNER_ROLES
from lms.cohorts.models import Cohort, Membership
from lms.extensions import db


@dataclass(frozen=True)
class TaughtGroup:
    """A cohort someone leads, with its learners counted by sex."""

    cohort: Cohort
    role: str
    female: int
    male: int

    @property
    def learners(self) -> int:
        return self.female + self.male


def groups_led_by(user: User) -> list[TaughtGroup]:
    """The classes and ToT cohorts ``user`` teaches or trains, in two queries."""
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.cohort)
            .where(
                Membership.user_id == user.id,
                Membership.role.in_(LEADER_ROLES),
                Cohort.archived.is_(False),
            )
            .options(
                joinedload(Membership.cohort).joinedload(Cohort.madrasa),
                joinedload(Membership.cohort).joinedload(Cohort.region),
            )
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )
    ids = [m.cohort_id for m in memberships]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        rows = db.session.execute(
            select(Membership.cohort_id, User.sex, func.count())
            .join(User, User.id == Membership.user_id)
            .where(Membership.cohort_id.in_(ids), Membership.role.in_(LEARNER_ROLES))
            .group_by(Membership.cohort_id, User.sex)
        )
        counts = {(cohort_id, sex): n for cohort_id, sex, n in rows}
    return [
        TaughtGroup(
            cohort=m.cohort,
            role=m.role,
            female=counts.get((m.cohort_id, "female"), 0),
            male=counts.get((m.cohort_id, "male"), 0),
        )
        for m in memberships
    ]
