"""The progress ledger is append-only, and completion is decided by the cohort's rule."""

from __future__ import annotations

import pytest

from lms.accounts.roles import PARTICIPANT, TRAINER
from lms.errors import Invalid
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.models import LedgerIsAppendOnly, ProgressRecord
from lms.progress.rules import COHORT_ITEM_TYPE
from tests import factories


def _cohort_with_learners(rule: str, n: int = 2):
    group = factories.cohort(completion_rule=rule)
    factories.member(group, factories.user(), TRAINER)
    learners = [factories.user() for _ in range(n)]
    for learner in learners:
        factories.member(group, learner, PARTICIPANT)
    return group, learners


def test_records_cannot_be_changed_or_deleted(app):
    learner = factories.user()
    entry = progress.record(
        user_id=learner.id, item_type="x", item_id=1, outcome="attended", source="test"
    )
    db.session.commit()
    entry.outcome = "absent"
    with pytest.raises(LedgerIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(ProgressRecord, entry.id))
    with pytest.raises(LedgerIsAppendOnly):
        db.session.commit()


def test_latest_record_per_item_counts(app):
    group, (learner, _) = _cohort_with_learners("marked-complete")
    for outcome in ("completed", "not_completed", "completed"):
        progress.record(
            user_id=learner.id,
            cohort_id=group.id,
            item_type=COHORT_ITEM_TYPE,
            item_id=str(group.id),
            outcome=outcome,
            source="test",
        )
    db.session.commit()
    latest = progress.latest_for_cohort(group.id)
    assert latest[(learner.id, COHORT_ITEM_TYPE, str(group.id))].outcome == "completed"
    assert len(progress.records_for_learner(learner.id)) == 3


def test_marked_complete_rule(app):
    group, (done, pending) = _cohort_with_learners("marked-complete")
    progress.record(
        user_id=done.id,
        cohort_id=group.id,
        item_type=COHORT_ITEM_TYPE,
        item_id=str(group.id),
        outcome="completed",
        source="test",
    )
    progress.record(
        user_id=pending.id,
        cohort_id=group.id,
        item_type=COHORT_ITEM_TYPE,
        item_id=str(group.id),
        outcome="completed",
        source="test",
    )
    progress.record(
        user_id=pending.id,
        cohort_id=group.id,
        item_type=COHORT_ITEM_TYPE,
        item_id=str(group.id),
        outcome="not_completed",
        source="test",
    )
    db.session.commit()
    results = progress.evaluate_completion(group)
    assert set(results) == {done.id, pending.id}  # learners only, not the trainer
    assert results[done.id].completed and not results[pending.id].completed


def test_all_required_items_without_items_completes_nobody(app):
    group, learners = _cohort_with_learners("all-required-items")
    results = progress.evaluate_completion(group)
    assert all(not results[learner.id].completed for learner in learners)


def test_unknown_rule_is_reported(app):
    group, _ = _cohort_with_learners("no-such-rule")
    with pytest.raises(Invalid):
        progress.evaluate_completion(group)
