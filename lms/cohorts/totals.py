"""Students reached, kept ahead of time: the report counts a year without sorting memberships.

The report's "students reached" counts distinct students of the classes running in the
period, per madrasa, per region and in all, by sex. At ten times today's size a year holds
200,000 student memberships, and sorting them by person took half a second. For periods of
whole calendar years (a year, or no dates at all) the indicator reads two small tables
instead (``lms.cohorts.models``):

- ``ClassStudentsKept``: per year, manual (and ``"*"`` for every manual), madrasa, region and
  sex, the distinct students of the madrasa's classes running in that year — a few rows per
  madrasa, so a country is a few thousand rows;
- ``ClassStudentOverlap``: how many students have the same places (madrasa and region) in
  a year and manual when they have several — such a student is in the rows above once per
  place, and the report takes the excess off. It is counted from ``ClassStudentMover``
  (one row per such student and place), so a change to a few students recounts only
  their sets of places.

A class runs in every calendar year from its start to its end (only its start year when it
has no end, as the report's period filter reads it). Year 0 (``ALL_YEARS``) covers all time.
A class without a start date runs in every year before its end, which no table of years can
hold: the report then counts from the memberships, as before.

The figures are derived data, made again inside the transaction that changes what they come
from, before it commits: a session listener sees memberships, classes, a madrasa's region
and a person's sex or deletion change (as ``lessons.totals`` does for attendance). Writes
made around the application are not seen: ``lms cohorts rebuild-totals`` makes them again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, inspect, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError

from lms.accounts.models import User
from lms.accounts.roles import STUDENT
from lms.cohorts.models import (
    CLASS,
    ClassStudentMover,
    ClassStudentOverlap,
    ClassStudentsKept,
    Cohort,
    Membership,
)
from lms.db import batches, upsert
from lms.extensions import db
from lms.organisations.models import Madrasa

#: The year of the rows that cover all time.
ALL_YEARS = 0
#: The manual of the rows that cover every manual.
EVERY_MANUAL = "*"
#: Cohort attributes that move a class's students to other figures.
_PLACING = (
    "kind",
    "madrasa_id",
    "madrasa",
    "region_id",
    "region",
    "starts_on",
    "ends_on",
    "manual",
)
_KEPT_KEY = ["year", "manual", "madrasa_id", "region_id", "sex"]
_MOVER_KEY = ["user_id", "year", "manual", "madrasa_id", "region_id"]
_OVERLAP_KEY = ["year", "manual", "sex", "places", "madrasa_id", "region_id"]
_MADRASAS = "lms_students_madrasas"
_PEOPLE = "lms_students_people"
_COHORTS = "lms_students_cohorts"
_MOVED_COHORTS = "lms_students_moved_cohorts"
_MOVED_MADRASAS = "lms_students_moved_madrasas"
_REFRESHING = "lms_students_refreshing"


def years_of(starts_on: date | None, ends_on: date | None) -> list[int]:
    """The calendar years a class runs in, as the report's period filter reads its dates,
    and ``ALL_YEARS``; only ``ALL_YEARS`` when it has no start (it runs in every year)."""
    if starts_on is None:
        return [ALL_YEARS]
    last = (ends_on or starts_on).year
    return [ALL_YEARS, *range(starts_on.year, last + 1)]


def _batches(ids: Collection[int]) -> Iterator[Sequence[int]]:
    return batches(sorted(ids))


def _student_places(*condition: Any) -> Iterable[Any]:
    """Student memberships of classes: person, sex, madrasa, region, manual and dates."""
    return db.session.execute(
        select(
            Membership.user_id,
            User.sex,
            Cohort.madrasa_id,
            func.coalesce(Cohort.region_id, Madrasa.region_id),
            Cohort.manual,
            Cohort.starts_on,
            Cohort.ends_on,
        )
        .select_from(Membership)
        .join(Cohort, Cohort.id == Membership.cohort_id)
        .join(Madrasa, Madrasa.id == Cohort.madrasa_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == STUDENT, Cohort.kind == CLASS, *condition)
    )


def _groups(row: Any) -> Iterator[tuple[int, str]]:
    """(year, manual) of every figure a membership counts in."""
    for year in years_of(row[5], row[6]):
        yield year, row[4]
        yield year, EVERY_MANUAL


def recompute_madrasas(madrasa_ids: Collection[int]) -> None:
    """Make the kept student figures of these madrasas again from their memberships."""
    for ids in _batches(madrasa_ids):
        people: dict[tuple[int, str, int, int, str], set[int]] = defaultdict(set)
        for row in _student_places(Cohort.madrasa_id.in_(ids)):
            user_id, sex, madrasa_id, region_id = row[0], row[1], row[2], row[3]
            for year, manual in _groups(row):
                people[(year, manual, madrasa_id, region_id, sex)].add(user_id)
        db.session.execute(delete(ClassStudentsKept).where(ClassStudentsKept.madrasa_id.in_(ids)))
        rows = [
            {
                "year": year,
                "manual": manual,
                "madrasa_id": madrasa_id,
                "region_id": region_id,
                "sex": sex,
                "students": len(users),
            }
            for (year, manual, madrasa_id, region_id, sex), users in people.items()
        ]
        # Delete, then insert-or-update: two transactions making one madrasa again at once
        # (two teachers enrolling students) must not collide on the primary keys.
        for chunk in batches(rows):
            statement = upsert(ClassStudentsKept).values(chunk)
            db.session.execute(
                statement.on_conflict_do_update(
                    index_elements=_KEPT_KEY, set_={"students": statement.excluded.students}
                )
            )


def places_key(places: Iterable[tuple[int, int]]) -> str:
    """A student's places (madrasa, region) as one text, the same for the same set."""
    return ",".join(f"{madrasa}:{region}" for madrasa, region in sorted(places))


def recompute_people(user_ids: Collection[int] | None) -> None:
    """Make the mover rows of these people (everyone's with None) again, and the overlap
    counts of every set of places they had or have."""
    runs: Iterable[Sequence[int] | None] = [None] if user_ids is None else _batches(user_ids)
    for ids in runs:
        movers = ClassStudentMover
        mine = () if ids is None else (movers.user_id.in_(ids),)
        touched: set[tuple[int, str, str, str]] = {
            (year, manual, sex, key)
            for year, manual, sex, key in db.session.execute(
                select(movers.year, movers.manual, movers.sex, movers.places)
                .where(*mine)
                .distinct()
            )
        }
        places: dict[tuple[int, int, str], set[tuple[int, int]]] = defaultdict(set)
        sexes: dict[int, str] = {}
        condition = () if ids is None else (Membership.user_id.in_(ids),)
        for row in _student_places(*condition):
            sexes[row[0]] = row[1]
            for year, manual in _groups(row):
                places[(row[0], year, manual)].add((row[2], row[3]))
        db.session.execute(delete(movers).where(*mine))
        rows = []
        for (user_id, year, manual), where in places.items():
            if len(where) < 2:
                continue
            key = places_key(where)
            touched.add((year, manual, sexes[user_id], key))
            rows.extend(
                {
                    "user_id": user_id,
                    "year": year,
                    "manual": manual,
                    "madrasa_id": madrasa_id,
                    "region_id": region_id,
                    "sex": sexes[user_id],
                    "places": key,
                }
                for madrasa_id, region_id in where
            )
        for chunk in batches(rows):
            statement = upsert(movers).values(chunk)
            db.session.execute(
                statement.on_conflict_do_update(
                    index_elements=_MOVER_KEY,
                    set_={"sex": statement.excluded.sex, "places": statement.excluded.places},
                )
            )
        _recount_overlaps(None if ids is None else touched)


def _recount_overlaps(keys: Collection[tuple[int, str, str, str]] | None) -> None:
    """Count the movers of these (year, manual, sex, places) again (all with None)."""
    movers, overlap = ClassStudentMover, ClassStudentOverlap
    columns = (movers.year, movers.manual, movers.sex, movers.places)
    counted = select(*columns, movers.madrasa_id, movers.region_id, func.count()).group_by(
        *columns, movers.madrasa_id, movers.region_id
    )
    names = ["year", "manual", "sex", "places", "madrasa_id", "region_id", "students"]
    if keys is None:
        db.session.execute(delete(overlap))
        db.session.execute(overlap.__table__.insert().from_select(names, counted))
        return
    for chunk in batches(sorted(keys)):
        db.session.execute(
            delete(overlap).where(
                tuple_(overlap.year, overlap.manual, overlap.sex, overlap.places).in_(chunk)
            )
        )
        statement = upsert(overlap).from_select(names, counted.where(tuple_(*columns).in_(chunk)))
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=_OVERLAP_KEY, set_={"students": statement.excluded.students}
            )
        )


def rebuild_all() -> int:
    """Every madrasa's figures and every mover row made again; the number of madrasas."""
    ids = list(db.session.scalars(select(Madrasa.id)))
    db.session.execute(delete(ClassStudentsKept))
    recompute_madrasas(ids)
    recompute_people(None)
    return len(ids)


# --- keeping the figures current ------------------------------------------------------------


def _madrasas_of(session: Session, people: Collection[int]) -> set[int]:
    """The madrasas whose classes these people are in (in any role)."""
    found: set[int] = set()
    for ids in _batches(people):
        found.update(
            session.scalars(
                select(Cohort.madrasa_id)
                .join(Membership, Membership.cohort_id == Cohort.id)
                .where(Membership.user_id.in_(ids), Cohort.madrasa_id.is_not(None))
                .distinct()
            )
        )
    return found


def _noted(session: Session, key: str) -> set[int]:
    found: set[int] = session.info.setdefault(key, set())
    return found


def _changed(session: Session) -> Iterable[Any]:
    return (*session.new, *session.dirty, *session.deleted)


def _old_and_new(obj: Any, attribute: str, relation: str) -> set[int]:
    """The id in ``attribute`` now and before this flush. A change made through the
    relationship (``cohort.madrasa = other``) leaves no history on the id column, which
    the flush sets itself: the old object is in the relationship's history."""
    state = inspect(obj)
    values = {getattr(obj, attribute), *state.attrs[attribute].history.deleted}
    values.update(getattr(old, "id", None) for old in state.attrs[relation].history.deleted)
    return {value for value in values if value is not None}


def _moved(obj: Any, attributes: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "before_flush")
def _note_what_leaves(session: Session, _context: Any, _instances: Any) -> None:
    """What changed rows were before this flush, read while the database still has it: a
    class's madrasa, a membership's person and class, a person's madrasas (when their sex
    changes or they are deleted). An object loaded before the last commit carries no old
    values in its history, so the database is asked."""
    if session.info.get(_REFRESHING):
        return
    people: list[int] = []
    cohorts: list[int] = []
    memberships: list[int] = []
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, User) and obj.id is not None:
            if obj in session.deleted or inspect(obj).attrs.sex.history.has_changes():
                people.append(obj.id)
        elif isinstance(obj, Cohort) and obj.id is not None:
            if obj in session.deleted or _moved(obj, _PLACING):
                cohorts.append(obj.id)
        elif isinstance(obj, Membership) and obj.id is not None:
            memberships.append(obj.id)
    if not (people or cohorts or memberships):
        return
    madrasas, noted_people = _noted(session, _MADRASAS), _noted(session, _PEOPLE)
    noted_people.update(people)
    with session.no_autoflush:
        madrasas.update(_madrasas_of(session, people))
        for ids in _batches(cohorts):
            madrasas.update(
                session.scalars(
                    select(Cohort.madrasa_id).where(
                        Cohort.id.in_(ids), Cohort.madrasa_id.is_not(None)
                    )
                )
            )
        for ids in _batches(memberships):
            for user_id, madrasa_id in session.execute(
                select(Membership.user_id, Cohort.madrasa_id)
                .join(Cohort, Cohort.id == Membership.cohort_id)
                .where(Membership.id.in_(ids))
            ):
                noted_people.add(user_id)
                if madrasa_id is not None:
                    madrasas.add(madrasa_id)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    """Memberships, classes and madrasas flushed (their ids and histories still at hand)."""
    if session.info.get(_REFRESHING):
        return
    for obj in _changed(session):
        try:
            if isinstance(obj, Membership):
                _noted(session, _PEOPLE).update(_old_and_new(obj, "user_id", "user"))
                _noted(session, _COHORTS).update(_old_and_new(obj, "cohort_id", "cohort"))
            elif isinstance(obj, Cohort):
                if obj in session.new or obj in session.deleted or _moved(obj, _PLACING):
                    _noted(session, _MADRASAS).update(_old_and_new(obj, "madrasa_id", "madrasa"))
                    _noted(session, _MOVED_COHORTS).add(obj.id)
            elif isinstance(obj, Madrasa) and (
                obj in session.deleted or _moved(obj, ("region_id", "region"))
            ):
                _noted(session, _MADRASAS).add(obj.id)
                _noted(session, _MOVED_MADRASAS).add(obj.id)
        except ObjectDeletedError:  # gone before this flush: noted when it was deleted
            continue


@event.listens_for(Session, "before_commit", insert=True)
def _recompute_changed(session: Session) -> None:
    """Make the figures this transaction touched again, inside it (registered first among
    the commit listeners, like ``lessons.totals``: before the data version's row lock)."""
    if session.in_nested_transaction() or session.info.get(_REFRESHING):
        return
    if not has_app_context() or "lms" not in current_app.extensions:
        return
    session.flush()
    madrasas = set(session.info.pop(_MADRASAS, None) or ())
    people = set(session.info.pop(_PEOPLE, None) or ())
    cohorts = set(session.info.pop(_COHORTS, None) or ())
    moved_cohorts = set(session.info.pop(_MOVED_COHORTS, None) or ())
    moved_madrasas = set(session.info.pop(_MOVED_MADRASAS, None) or ())
    if not (madrasas or people or cohorts or moved_cohorts):
        return
    session.info[_REFRESHING] = True
    try:
        for ids in _batches(moved_cohorts):
            people.update(
                session.scalars(select(Membership.user_id).where(Membership.cohort_id.in_(ids)))
            )
        for ids in _batches(moved_madrasas):
            people.update(
                session.scalars(
                    select(Membership.user_id)
                    .join(Cohort, Cohort.id == Membership.cohort_id)
                    .where(Cohort.madrasa_id.in_(ids))
                )
            )
        for ids in _batches(cohorts | moved_cohorts):
            madrasas.update(
                session.scalars(
                    select(Cohort.madrasa_id)
                    .where(Cohort.id.in_(ids), Cohort.madrasa_id.is_not(None))
                    .distinct()
                )
            )
        madrasas.update(_madrasas_of(session, people))
        recompute_madrasas(madrasas)
        recompute_people(people)
    finally:
        session.info.pop(_REFRESHING, None)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (_MADRASAS, _PEOPLE, _COHORTS, _MOVED_COHORTS, _MOVED_MADRASAS):
        session.info.pop(key, None)


def mark_dirty(*, madrasa_ids: Iterable[int] = (), user_ids: Iterable[int] = ()) -> None:
    """Ask for these madrasas' figures and these people's rows to be made again when the
    current transaction commits (for writes the listener cannot see)."""
    _noted(db.session, _MADRASAS).update(madrasa_ids)
    _noted(db.session, _PEOPLE).update(user_ids)
