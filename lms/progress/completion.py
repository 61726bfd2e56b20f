"""A stored snapshot of who has completed each cohort, for counting across many cohorts.

Completion is decided by each cohort's rule (``lms.progress.api.evaluate_completion``),
which plugins implement in Python; evaluating it for hundreds of cohorts on every report
would cost a few queries per cohort. So the answer is kept (``CohortCompletion``), with
what it was made from (``CompletionState``: the rule, the newest progress record, the
learners), and refreshed:

- in the same transaction as anything that adds progress records or changes a cohort's
  members (a session listener, so no plugin has to remember);
- by the reports, for any cohort whose snapshot has fallen behind in the meantime (its rule
  changed, a newer record or membership exists, or it is older than ``MAX_AGE``, which
  covers what the ledger does not see, such as a newly published quiz).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, and_, delete, event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError

from lms.accounts.roles import LEARNER_ROLES
from lms.cohorts.models import Cohort, Membership
from lms.db import upsert
from lms.extensions import db
from lms.progress.models import CohortCompletion, CompletionState, ProgressRecord
from lms.timeutil import utcnow

#: A snapshot older than this is evaluated again even if nothing the ledger shows changed.
MAX_AGE = timedelta(days=1)
_DIRTY = "lms_completion_dirty"
_REFRESHING = "lms_completion_refreshing"


def _marks(cohort_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """Per cohort: (newest progress record id, learner count, newest learner membership id)."""
    ledger = dict(
        db.session.execute(
            select(ProgressRecord.cohort_id, func.max(ProgressRecord.id))
            .where(ProgressRecord.cohort_id.in_(cohort_ids))
            .group_by(ProgressRecord.cohort_id)
        ).all()
    )
    members = {
        cohort_id: (int(count), int(newest))
        for cohort_id, count, newest in db.session.execute(
            select(Membership.cohort_id, func.count(Membership.id), func.max(Membership.id))
            .where(Membership.cohort_id.in_(cohort_ids), Membership.role.in_(LEARNER_ROLES))
            .group_by(Membership.cohort_id)
        )
    }
    return {
        cohort_id: (int(ledger.get(cohort_id) or 0), *members.get(cohort_id, (0, 0)))
        for cohort_id in cohort_ids
    }


def refresh(cohorts: Sequence[Cohort]) -> dict[int, set[int]]:
    """Evaluate the cohorts' rules and store the answers; cohort id → who completed it."""
    from lms.progress.api import DEFAULT_RULE, evaluate_completion_many

    if not cohorts:
        return {}
    ids = [cohort.id for cohort in cohorts]
    marks = _marks(ids)
    results = evaluate_completion_many(cohorts)
    done = {
        cohort_id: {uid for uid, result in results.get(cohort_id, {}).items() if result.completed}
        for cohort_id in ids
    }
    # Upserts, not delete-and-insert: two transactions refreshing one cohort at once (two
    # teachers saving attendance) must not collide on the primary keys.
    for cohort_id, users in done.items():
        stale = delete(CohortCompletion).where(CohortCompletion.cohort_id == cohort_id)
        if users:
            stale = stale.where(CohortCompletion.user_id.not_in(users))
        db.session.execute(stale)
    rows = [{"cohort_id": cid, "user_id": uid} for cid, users in done.items() for uid in users]
    if rows:
        db.session.execute(upsert(CohortCompletion).values(rows).on_conflict_do_nothing())
    now = utcnow()
    states = [
        {
            "cohort_id": cohort.id,
            "rule": cohort.completion_rule or DEFAULT_RULE,
            "ledger_mark": marks[cohort.id][0],
            "learners": marks[cohort.id][1],
            "members_mark": marks[cohort.id][2],
            "evaluated_at": now,
        }
        for cohort in cohorts
    ]
    statement = upsert(CompletionState).values(states)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[CompletionState.cohort_id],
            set_={
                name: statement.excluded[name]
                for name in ("rule", "ledger_mark", "learners", "members_mark", "evaluated_at")
            },
        )
    )
    return done


def stale_clause(cohort: Any = Cohort) -> ColumnElement[bool]:
    """SQL: the cohort's snapshot is missing or behind (for ``select(Cohort.id).where(…)``).

    Each subquery is correlated to the outer cohort explicitly: nested two levels deep, it
    would otherwise be computed over every cohort.
    """
    learners = and_(Membership.cohort_id == cohort.id, Membership.role.in_(LEARNER_ROLES))
    newest_record = (
        select(func.coalesce(func.max(ProgressRecord.id), 0))
        .where(ProgressRecord.cohort_id == cohort.id)
        .correlate(cohort)
        .scalar_subquery()
    )
    learner_count = select(func.count(Membership.id)).where(learners).correlate(cohort)
    newest_learner = (
        select(func.coalesce(func.max(Membership.id), 0)).where(learners).correlate(cohort)
    )
    state = CompletionState
    current = (
        select(state.cohort_id)
        .where(
            state.cohort_id == cohort.id,
            state.rule
            == func.coalesce(func.nullif(cohort.completion_rule, ""), "all-required-items"),
            state.ledger_mark >= newest_record,
            state.evaluated_at >= utcnow() - MAX_AGE,
            state.learners == learner_count.scalar_subquery(),
            state.members_mark >= newest_learner.scalar_subquery(),
        )
        .correlate(cohort)
    )
    return ~current.exists()


def completed_in(cohort_ids: Iterable[int] | Any, *, cap: int | None = None) -> Completion:
    """Who completed each cohort: stale snapshots are refreshed first (at most ``cap``).

    ``cohort_ids`` may be a list or a subquery of cohort ids. Refreshing writes the new
    snapshot in the caller's transaction; callers that only read (a report page) simply do
    not commit it, and it is written again when it next changes.
    """
    id_filter = (
        Cohort.id.in_(list(cohort_ids))
        if isinstance(cohort_ids, list | tuple | set | frozenset)
        else Cohort.id.in_(cohort_ids)
    )
    stale = list(
        db.session.scalars(select(Cohort).where(id_filter, stale_clause()).order_by(Cohort.id))
    )
    refreshed = stale if cap is None else stale[:cap]
    fresh = refresh(refreshed) if refreshed else {}
    left = {cohort.id for cohort in stale[len(refreshed) :]}
    done: dict[int, set[int]] = {}
    for cohort_id, user_id in db.session.execute(
        select(CohortCompletion.cohort_id, CohortCompletion.user_id)
        .join(Cohort, Cohort.id == CohortCompletion.cohort_id)
        .where(id_filter)
    ):
        done.setdefault(cohort_id, set()).add(user_id)
    done.update(fresh)
    oldest = (
        db.session.scalar(
            select(func.min(CompletionState.evaluated_at)).where(
                CompletionState.cohort_id.in_(left)
            )
        )
        if left
        else None
    )
    return Completion(done=done, behind=left, oldest=oldest)


class Completion:
    """Who completed which cohort; ``behind``: cohorts whose snapshot could not be brought
    up to date within the cap (their figures are as of their last evaluation)."""

    def __init__(self, *, done: dict[int, set[int]], behind: set[int], oldest: Any) -> None:
        self.done = done
        self.behind = behind
        self.oldest = oldest

    def of(self, cohort_id: int) -> set[int]:
        return self.done.get(cohort_id, set())


# --- keeping snapshots current as records are written ---------------------------------------


def _note(session: Session) -> None:
    dirty: set[int] = session.info.setdefault(_DIRTY, set())
    # No autoflush: reading an expired cohort_id must not flush (and so delete) the very
    # membership being looked at.
    with session.no_autoflush:
        for obj in (*session.new, *session.deleted):
            if not isinstance(obj, ProgressRecord | Membership):
                continue
            try:
                cohort_id = obj.cohort_id
            except ObjectDeletedError:  # already gone, noted when it was flushed
                continue
            if cohort_id is not None:
                dirty.add(cohort_id)


@event.listens_for(Session, "after_flush")
def _note_changed_cohorts(session: Session, _context: Any) -> None:
    """Objects flushed before the commit (``session.new`` still lists them here)."""
    if not session.info.get(_REFRESHING):
        _note(session)


@event.listens_for(Session, "before_commit")
def _refresh_changed_cohorts(session: Session) -> None:
    """Re-evaluate the cohorts this transaction touched, inside it, before it commits.

    ``before_commit`` runs before the commit's own flush, so objects still pending are
    noted here too.
    """
    if session.in_nested_transaction():
        return  # a savepoint: the whole transaction commits later
    _note(session)
    dirty = session.info.pop(_DIRTY, None)
    if not dirty or not has_app_context() or "lms" not in current_app.extensions:
        return
    session.info[_REFRESHING] = True
    try:
        session.flush()
        cohorts = list(session.scalars(select(Cohort).where(Cohort.id.in_(dirty))))
        refresh(cohorts)
    finally:
        session.info.pop(_REFRESHING, None)


@event.listens_for(Session, "after_rollback")
def _forget_changed_cohorts(session: Session) -> None:
    session.info.pop(_DIRTY, None)


def mark_dirty(*cohort_ids: int) -> None:
    """Ask for these cohorts to be re-evaluated when the current transaction commits.

    For writes the listener cannot see (bulk inserts, or items changing, such as a newly
    published required quiz).
    """
    db.session.info.setdefault(_DIRTY, set()).update(cohort_ids)


__all__ = ["Completion", "completed_in", "mark_dirty", "refresh", "stale_clause"]
