"""Building blocks for the certificate tests: a cohort whose learners have completed it."""

from __future__ import annotations

from typing import Any

from certificates import issuance
from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.progress import api as progress
from tests import factories


def mark_completed(cohort: Cohort, person: User, outcome: str = "completed") -> None:
    """What a trainer's "Mark completed" button records (the ``marked-complete`` rule)."""
    progress.record(
        user_id=person.id,
        item_type="lms.cohort",
        item_id=cohort.id,
        outcome=outcome,
        source="test",
        cohort_id=cohort.id,
    )


def completed_cohort(
    names: list[str] | None = None,
    *,
    not_completed: int = 0,
    kind: str = "tot",
    **fields: Any,
) -> tuple[Cohort, list[User], User]:
    """A cohort (rule ``marked-complete``) with a trainer, learners who completed it and
    ``not_completed`` more who did not. Returns (cohort, completed learners, trainer)."""
    names = names if names is not None else ["Айгүл Токтосунова", "Бакыт Осмонов"]
    cohort = factories.cohort(kind, completion_rule="marked-complete", **fields)
    leader_role, learner_role = (
        ("trainer", "participant") if kind == "tot" else ("teacher", "student")
    )
    trainer = factories.user(name="Гүлнара Исмаилова")
    factories.member(cohort, trainer, leader_role)
    done = []
    for name in names:
        person = factories.user(name=name)
        factories.member(cohort, person, learner_role)
        mark_completed(cohort, person)
        done.append(person)
    for n in range(not_completed):
        person = factories.user(name=f"Not Yet {n}")
        factories.member(cohort, person, learner_role)
    db.session.flush()
    return cohort, done, trainer


def issue(cohort: Cohort, actor: User) -> list[Any]:
    made = issuance.issue_to_completers(cohort, actor=actor)
    db.session.commit()
    return made
