"""Attendance totals kept ahead of time, so the report counts a year without reading its marks.

The report's sessions-and-attendance indicator counts, per region, manual and kind of cohort
and by sex, the held sessions and their hours, the present marks, and the distinct learners
with at least one present mark. At ten times today's size a year holds 1.8 million marks,
and reading them took three seconds. For periods of whole calendar years (a year, or no
dates at all) the indicator reads two small tables instead:

- ``LearnerYearAttendance``: per cohort, learner and year, the learner's present marks at
  held sessions (about one row per learner and year), and how many rows the learner has in
  that year;
- ``CohortYearTotals``: per cohort and year, held sessions and minutes, and learners and
  marks by sex — the sums of the rows above, so the figures of thousands of cohorts are a
  few thousand rows.

Both also hold rows for ``ALL_YEARS`` (year 0): the same over all time, for the report
without dates.

Summing learners over cohorts counts a person in two cohorts (or two years) twice; the
indicator takes the excess off, computed from the rows of the few people with more than one
row in the period (see ``lessons.indicators``).

The totals are derived data, made again from the marks for every cohort a transaction
touched, inside that transaction, before it commits: a session listener sees attendance
marks, sessions and a person's sex change (so no view or service has to remember), as
``lms.progress.completion`` does for completion. Writes made around the application (plain
SQL, a bulk load) are not seen: ``lms lessons rebuild-totals`` makes every total again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, extract, func, inspect, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import ObjectDeletedError

from lessons.models import (
    HELD,
    PRESENT,
    Attendance,
    CohortYearTotals,
    LearnerYearAttendance,
    TeachingSession,
)
from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.db import batches, upsert
from lms.extensions import db

#: The year of the rows that cover every year: per cohort and learner, and per cohort, the
#: totals over all time (the report without dates reads them like one year's).
ALL_YEARS = 0
_SESSIONS = "lessons_totals_sessions"
_COHORTS = "lessons_totals_cohorts"
_REFRESHING = "lessons_totals_refreshing"


def _year(column: Any) -> Any:
    return extract("year", column)


def recompute(cohort_ids: Iterable[int], *, count_rows: bool = True) -> None:
    """Make the kept totals of these cohorts again from their sessions and marks (and, with
    ``count_rows``, the rows per year of the learners concerned)."""
    for ids in batches(sorted(set(cohort_ids))):
        _recompute_batch(list(ids), count_rows=count_rows)


def rebuild_all() -> int:
    """Every cohort's totals made again (after writes made around the application); the
    number of cohorts."""
    ids = list(db.session.scalars(select(Cohort.id).order_by(Cohort.id)))
    recompute(ids, count_rows=False)
    _count_rows_per_year(None)  # once for everyone, not per batch
    return len(ids)


def _recompute_batch(ids: list[int], *, count_rows: bool) -> None:
    session_year = _year(TeachingSession.held_on)
    learner_rows = db.session.execute(
        select(
            TeachingSession.cohort_id,
            Attendance.user_id,
            session_year.label("year"),
            User.sex,
            func.count(),
        )
        .select_from(Attendance)
        .join(TeachingSession, TeachingSession.id == Attendance.session_id)
        .join(User, User.id == Attendance.user_id)
        .where(
            TeachingSession.cohort_id.in_(ids),
            TeachingSession.status == HELD,
            Attendance.status == PRESENT,
        )
        .group_by(TeachingSession.cohort_id, Attendance.user_id, session_year, User.sex)
    ).all()
    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(_TOTAL_COLUMNS, 0)
    )
    for cohort_id, year, count, minutes in db.session.execute(
        select(
            TeachingSession.cohort_id,
            session_year,
            func.count(),
            func.coalesce(func.sum(TeachingSession.duration_minutes), 0),
        )
        .where(TeachingSession.cohort_id.in_(ids), TeachingSession.status == HELD)
        .group_by(TeachingSession.cohort_id, session_year)
    ):
        for key in ((cohort_id, int(year)), (cohort_id, ALL_YEARS)):
            totals[key]["sessions"] += int(count)
            totals[key]["minutes"] += int(minutes)
    per_year: dict[tuple[int, int, int], tuple[str, int]] = {}
    for cohort_id, user_id, year, sex, marks in learner_rows:
        per_year[(cohort_id, user_id, int(year))] = (sex, int(marks))
        every = per_year.get((cohort_id, user_id, ALL_YEARS), (sex, 0))
        per_year[(cohort_id, user_id, ALL_YEARS)] = (sex, every[1] + int(marks))
    learners = []
    for (cohort_id, user_id, year), (sex, marks) in per_year.items():
        learners.append(
            {
                "cohort_id": cohort_id,
                "user_id": user_id,
                "year": year,
                "marks": marks,
                "sex": sex,
                "year_rows": 1,
            }
        )
        row = totals[(cohort_id, year)]
        row[f"learners_{sex}"] += 1
        row[f"marks_{sex}"] += marks
    people: set[int] = set()
    if count_rows:
        people.update(
            db.session.scalars(
                select(LearnerYearAttendance.user_id)
                .where(LearnerYearAttendance.cohort_id.in_(ids))
                .distinct()
            )
        )
        people.update(row["user_id"] for row in learners)
    # Delete, then insert-or-update: two transactions making one cohort again at once (two
    # teachers saving attendance) must not collide on the primary keys.
    db.session.execute(
        delete(LearnerYearAttendance).where(LearnerYearAttendance.cohort_id.in_(ids))
    )
    db.session.execute(delete(CohortYearTotals).where(CohortYearTotals.cohort_id.in_(ids)))
    for chunk in batches(learners):
        statement = upsert(LearnerYearAttendance).values(chunk)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["cohort_id", "user_id", "year"],
                set_={"marks": statement.excluded.marks, "sex": statement.excluded.sex},
            )
        )
    if count_rows:
        _count_rows_per_year(people)
    rows = [
        {"cohort_id": cohort_id, "year": year, **values}
        for (cohort_id, year), values in totals.items()
    ]
    for chunk in batches(rows):
        statement = upsert(CohortYearTotals).values(chunk)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["cohort_id", "year"],
                set_={name: statement.excluded[name] for name in _TOTAL_COLUMNS},
            )
        )


def _count_rows_per_year(people: Collection[int] | None) -> None:
    """Set ``year_rows`` on these people's rows (everyone's with None): their rows in the
    same year, in any cohort."""
    other = aliased(LearnerYearAttendance)
    rows = LearnerYearAttendance
    count = (
        select(func.count())
        .where(other.user_id == rows.user_id, other.year == rows.year)
        .scalar_subquery()
    )
    if people is None:
        db.session.execute(update(rows).values(year_rows=count))
        return
    for ids in batches(sorted(people)):
        db.session.execute(update(rows).where(rows.user_id.in_(ids)).values(year_rows=count))


_TOTAL_COLUMNS = (
    "sessions",
    "minutes",
    "learners_female",
    "learners_male",
    "marks_female",
    "marks_male",
)


# --- keeping the totals current as marks, sessions and people change ------------------------


def _changed(session: Session) -> Iterable[Any]:
    return (*session.new, *session.dirty, *session.deleted)


@event.listens_for(Session, "before_flush")
def _note_people(session: Session, _context: Any, _instances: Any) -> None:
    """A person whose sex changes, or who is deleted, moves the totals of every cohort they
    have marks in: found now, while their rows are still there."""
    if session.info.get(_REFRESHING):
        return
    people = [
        obj.id
        for obj in _changed(session)
        if isinstance(obj, User)
        and obj.id is not None
        and (obj in session.deleted or inspect(obj).attrs.sex.history.has_changes())
    ]
    if people:
        with session.no_autoflush:
            cohorts = session.scalars(
                select(LearnerYearAttendance.cohort_id)
                .where(LearnerYearAttendance.user_id.in_(people))
                .distinct()
            )
            session.info.setdefault(_COHORTS, set()).update(cohorts)


@event.listens_for(Session, "after_flush")
def _note_marks_and_sessions(session: Session, _context: Any) -> None:
    """Marks and sessions flushed (``session.new``, ``dirty`` and ``deleted`` still list
    them here, with their ids assigned)."""
    if session.info.get(_REFRESHING):
        return
    cohorts: set[int] = session.info.setdefault(_COHORTS, set())
    sessions: set[int] = session.info.setdefault(_SESSIONS, set())
    for obj in _changed(session):
        try:
            if isinstance(obj, Attendance):
                sessions.update(_old_and_new(obj, "session_id"))
            elif isinstance(obj, TeachingSession):
                cohorts.update(_old_and_new(obj, "cohort_id"))
        except ObjectDeletedError:  # gone before this flush: noted when it was deleted
            continue


def _old_and_new(obj: Any, attribute: str) -> set[int]:
    history = inspect(obj).attrs[attribute].history
    values = {getattr(obj, attribute), *history.deleted}
    return {value for value in values if value is not None}


@event.listens_for(Session, "before_commit", insert=True)
def _recompute_changed(session: Session) -> None:
    """Make the totals of the cohorts this transaction touched again, inside it.

    Registered first among the commit listeners: its writes must come before the data
    version's (``lms.pagecache``), which locks that row to the end of the transaction.
    """
    if session.in_nested_transaction() or session.info.get(_REFRESHING):
        return
    if not has_app_context() or "lms" not in current_app.extensions:
        return
    session.flush()
    sessions = session.info.pop(_SESSIONS, None) or set()
    cohorts = set(session.info.pop(_COHORTS, None) or set())
    if not sessions and not cohorts:
        return
    session.info[_REFRESHING] = True
    try:
        if sessions:
            cohorts.update(_cohorts_of_sessions(sessions))
        recompute(cohorts)
    finally:
        session.info.pop(_REFRESHING, None)


def _cohorts_of_sessions(session_ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    for ids in batches(sorted(session_ids)):
        found.update(
            db.session.scalars(
                select(TeachingSession.cohort_id).where(TeachingSession.id.in_(ids)).distinct()
            )
        )
    return found


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_SESSIONS, None)
    session.info.pop(_COHORTS, None)


def mark_dirty(*cohort_ids: int) -> None:
    """Ask for these cohorts' totals to be made again when the current transaction commits
    (for writes the listener cannot see, such as a bulk insert of marks)."""
    db.session.info.setdefault(_COHORTS, set()).update(cohort_ids)
