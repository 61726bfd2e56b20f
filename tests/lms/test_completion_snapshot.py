"""The stored answer to "who completed this cohort" follows the ledger and the members."""

from __future__ import annotations

from sqlalchemy import select

from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.completion import completed_in, stale_clause
from lms.progress.models import CohortCompletion
from tests import factories


def _stored(cohort_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(CohortCompletion.user_id).where(CohortCompletion.cohort_id == cohort_id)
        )
    )


def _mark(cohort, person, outcome="completed"):
    progress.record(
        user_id=person.id,
        cohort_id=cohort.id,
        item_type="lms.cohort",
        item_id=cohort.id,
        outcome=outcome,
        source="test",
    )


def test_the_snapshot_is_refreshed_in_the_transaction_that_records_progress(app):
    cohort = factories.cohort(completion_rule="marked-complete")
    first, second = factories.user(), factories.user()
    for person in (first, second):
        factories.member(cohort, person, "participant")
    _mark(cohort, first)
    db.session.commit()
    assert _stored(cohort.id) == {first.id}

    _mark(cohort, second)
    _mark(cohort, first, "not_completed")  # a correction is a newer record
    db.session.commit()
    assert _stored(cohort.id) == {second.id}
    assert db.session.scalars(select(Cohort.id).where(stale_clause())).all() == []


def test_a_learner_who_leaves_drops_out_of_the_snapshot(app):
    cohort = factories.cohort(completion_rule="marked-complete")
    person = factories.user()
    membership = factories.member(cohort, person, "participant")
    _mark(cohort, person)
    db.session.commit()
    db.session.delete(membership)
    db.session.commit()
    assert _stored(cohort.id) == set()


def test_a_changed_rule_makes_the_snapshot_stale_until_evaluated_again(app):
    cohort = factories.cohort(completion_rule="marked-complete")
    person = factories.user()
    factories.member(cohort, person, "participant")
    _mark(cohort, person)
    db.session.commit()
    cohort.completion_rule = "all-required-items"  # no required items: nobody completes
    db.session.commit()
    assert db.session.scalars(select(Cohort.id).where(stale_clause())).all() == [cohort.id]
    assert completed_in([cohort.id]).of(cohort.id) == set()
    db.session.commit()
    assert db.session.scalars(select(Cohort.id).where(stale_clause())).all() == []
