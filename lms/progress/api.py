"""What plugins call to write progress and to ask who has completed a cohort.

``record`` appends to the ledger; the ``*_for_*`` queries read it; ``evaluate_completion``
is the one function that decides completion (certificates call it), using the rule the
cohort names and the progress items every plugin declares for the cohort;
``evaluate_completion_many`` gives the same answers for several cohorts with fewer queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from lms.accounts.roles import LEARNER_ROLES
from lms.cohorts.models import Cohort, Membership
from lms.errors import Invalid
from lms.extensions import db
from lms.memo import forget, remembered
from lms.plugins import CompletionContext, CompletionResult, ProgressItem
from lms.progress.models import ProgressRecord

DEFAULT_RULE = "all-required-items"


def record(
    *,
    user_id: int,
    item_type: str,
    item_id: str | int,
    outcome: str,
    source: str,
    cohort_id: int | None = None,
    score: float | None = None,
    recorded_by_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> ProgressRecord:
    """Append one record in the caller's transaction; the caller commits."""
    entry = ProgressRecord(
        user_id=user_id,
        cohort_id=cohort_id,
        item_type=item_type,
        item_id=str(item_id),
        outcome=outcome,
        score=score,
        source=source,
        recorded_by_id=recorded_by_id,
        details=details or {},
    )
    db.session.add(entry)
    forget("progress.latest")
    return entry


def records_for_learner(user_id: int, cohort_id: int | None = None) -> list[ProgressRecord]:
    """Every record about one learner, newest first (optionally within one cohort)."""
    query = select(ProgressRecord).where(ProgressRecord.user_id == user_id)
    if cohort_id is not None:
        query = query.where(ProgressRecord.cohort_id == cohort_id)
    return list(db.session.scalars(query.order_by(ProgressRecord.id.desc())))


def latest_for_cohort(cohort_id: int) -> dict[tuple[int, str, str], ProgressRecord]:
    """The latest record per (learner, item) in a cohort, in one query (once per page)."""
    return remembered("progress.latest", cohort_id, lambda: _latest_for_cohort(cohort_id))


def _latest_for_cohort(cohort_id: int) -> dict[tuple[int, str, str], ProgressRecord]:
    newest = (
        select(func.max(ProgressRecord.id))
        .where(ProgressRecord.cohort_id == cohort_id)
        .group_by(ProgressRecord.user_id, ProgressRecord.item_type, ProgressRecord.item_id)
    )
    rows = db.session.scalars(select(ProgressRecord).where(ProgressRecord.id.in_(newest)))
    return {(r.user_id, r.item_type, r.item_id): r for r in rows}


def progress_items(cohort: Cohort) -> list[ProgressItem]:
    """Every item the plugins say makes up progress in this cohort (asked once per page)."""
    pm = current_app.extensions["lms"].pm
    return remembered(
        "progress.items",
        cohort.id,
        lambda: [
            item
            for result in pm.hook.register_progress_items(cohort=cohort)
            for item in result or ()
        ],
    )


def learner_ids(cohort: Cohort) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id)
            .where(Membership.cohort_id == cohort.id, Membership.role.in_(LEARNER_ROLES))
            .order_by(Membership.user_id)
        )
    )


def evaluate_completion(cohort: Cohort) -> dict[int, CompletionResult]:
    """Who has completed ``cohort``: learner id → result, decided by the cohort's rule."""
    rules = current_app.extensions["lms"].registries.completion_rules
    rule_id = cohort.completion_rule or DEFAULT_RULE
    rule = rules.get(rule_id)
    if rule is None:
        raise Invalid(f"unknown completion rule {rule_id!r}")
    context = CompletionContext(
        cohort=cohort,
        items=progress_items(cohort),
        learner_ids=learner_ids(cohort),
        latest=latest_for_cohort(cohort.id),
        params=cohort.completion_params or {},
    )
    return rule.evaluate(context)


def evaluate_completion_many(cohorts: Sequence[Cohort]) -> dict[int, dict[int, CompletionResult]]:
    """``evaluate_completion`` for several cohorts: cohort id → learner id → result.

    The learners and the latest ledger records of every cohort come in two queries; the
    progress items (a hook) and the rule still run per cohort, because plugins decide
    those and may query, so callers bound how many cohorts they pass (the reports page
    does). Cohorts naming a rule nobody registers are left out of the answer.
    """
    if not cohorts:
        return {}
    rules = current_app.extensions["lms"].registries.completion_rules
    ids = [cohort.id for cohort in cohorts]
    learners: dict[int, list[int]] = {cohort_id: [] for cohort_id in ids}
    for cohort_id, user_id in db.session.execute(
        select(Membership.cohort_id, Membership.user_id)
        .where(Membership.cohort_id.in_(ids), Membership.role.in_(LEARNER_ROLES))
        .order_by(Membership.cohort_id, Membership.user_id)
    ):
        learners[cohort_id].append(user_id)
    newest = (
        select(func.max(ProgressRecord.id))
        .where(ProgressRecord.cohort_id.in_(ids))
        .group_by(
            ProgressRecord.cohort_id,
            ProgressRecord.user_id,
            ProgressRecord.item_type,
            ProgressRecord.item_id,
        )
    )
    latest: dict[int, dict[tuple[int, str, str], ProgressRecord]] = {i: {} for i in ids}
    for record in db.session.scalars(select(ProgressRecord).where(ProgressRecord.id.in_(newest))):
        if record.cohort_id is not None:
            latest[record.cohort_id][(record.user_id, record.item_type, record.item_id)] = record
    results: dict[int, dict[int, CompletionResult]] = {}
    for cohort in cohorts:
        rule = rules.get(cohort.completion_rule or DEFAULT_RULE)
        if rule is None:
            continue
        context = CompletionContext(
            cohort=cohort,
            items=progress_items(cohort),
            learner_ids=learners[cohort.id],
            latest=latest[cohort.id],
            params=cohort.completion_params or {},
        )
        results[cohort.id] = rule.evaluate(context)
    return results
