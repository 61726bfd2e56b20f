"""Cohort logic: creating ToT cohorts and classes, and managing who is in them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.cohorts.models import Cohort, Membership
from lms.extensions import db


def cohorts_of(user: User) -> list[Membership]:
    """The user's memberships with their cohorts, newest cohort first (one query)."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.cohort)
            .where(Membership.user_id == user.id, Cohort.archived.is_(False))
            .options(joinedload(Membership.cohort))
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )
