"""The host's indicators: ToT participants trained and completed, and students reached.

Both count people from cohort memberships, which the host owns. Counts are of distinct
people per row (a person in two cohorts of one region counts once for the region).

Students reached counts over every student membership of the period (some 200,000 at scale
10) in one statement that sorts them once (``_students_first_seen``): ordered by person,
region and madrasa, a membership is the person's first in its madrasa, its region or at all
when the one before it differs in those, which ``lag()`` tells; the firsts are summed per
madrasa, region and sex, and the region rows and the total add those sums up. Counting each
level with its own ``COUNT(DISTINCT)``, as before, sorted the memberships three times, each
time joined to the users again, and took almost twice as long. What is left is reading,
sorting and joining every membership to its person's sex, which no shape of the query
avoids: the figures are about people, not cohorts.

ToT participants are few (a few thousand a year, against 150,000 students), so their
memberships are read once with each person's sex, by the cohorts' ids, and counted per
cohort, region, manual and in all in Python; the same rows give the sexes of those who
completed, which used to be a statement of its own.

Completion is different: who has completed a ToT is decided by each cohort's own rule
(``lms.progress.api.evaluate_completion``), which plugins implement in Python. The ledger
keeps a snapshot of the answer per cohort, refreshed whenever a cohort's records or members
change (``lms.progress.completion``), so completion is read with one query; a cohort whose
snapshot has fallen behind is evaluated again first — up to ``REPORTS_COMPLETION_COHORTS`` of
them on a page (the rest are shown as of their last evaluation, and the page says so), every
one of them in the donor-report job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, distinct, func, literal, null, or_, select, union_all

from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, SEXES, STUDENT
from lms.cohorts.models import (
    CLASS,
    TOT,
    ClassStudentOverlap,
    ClassStudentsKept,
    Cohort,
    Membership,
)
from lms.cohorts.totals import ALL_YEARS, EVERY_MANUAL
from lms.extensions import db
from lms.progress.completion import completed_in
from lms.reports.indicators import (
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    Link,
    ReportFilters,
    Row,
    Table,
    sex_columns,
    sex_values,
)

TOT_ID = "lms.tot_participants"
STUDENTS_ID = "lms.students_reached"


def indicators() -> list[Indicator]:
    return [
        Indicator(
            TOT_ID,
            _l("ToT participants trained and completed"),
            _l(
                "Trained: people enrolled as participants of a Training-of-Trainers cohort"
                " that runs at some time in the period (its dates overlap the period), counted"
                " once per row even when they joined two cohorts. Region is the cohort's"
                " region; manual is the manual it studies. ToT cohorts belong to a region, not"
                " to a madrasa, so choosing a madrasa leaves them out. Completed: participants"
                " the cohort's own completion rule counts as complete, as evaluated when the"
                " cohort's records last changed."
            ),
            compute_tot,
            drill_tot,
            order=10,
        ),
        Indicator(
            STUDENTS_ID,
            _l("Students reached"),
            _l(
                "People enrolled as students of madrasa classes that run at some time in the"
                " period, counted once per row even when they are in two classes. Region is"
                " the madrasa's region."
            ),
            compute_students,
            drill_students,
            order=20,
        ),
    ]


def _completion_cap() -> int:
    return int(current_app.config.get("REPORTS_COMPLETION_COHORTS", 4))


# --- ToT participants ----------------------------------------------------------------------


def _tot_columns() -> tuple[Column, ...]:
    completed = tuple(
        Column(
            f"completed_{column.id}",
            column.label,
            drill={**column.drill, "completed": "1"},
            group=_l("Completed"),
        )
        for column in sex_columns()
    )
    return (*sex_columns("trained_", _l("Trained")), *completed)


def compute_tot(filters: ReportFilters) -> Sequence[Table]:
    """Trained (counted from the participants, read once) and completed (the cohorts'
    rules, within the cap)."""
    cohorts = filters.cohorts(kind=TOT)
    cohort_rows = db.session.execute(
        select(cohorts.c.id, cohorts.c.name, cohorts.c.starts_on, cohorts.c.manual)
        .add_columns(cohorts.c.region_id)
        .order_by(cohorts.c.starts_on.desc().nulls_last(), cohorts.c.id.desc())
    ).all()
    all_ids = [cohort.id for cohort in cohort_rows]
    participants = _participants(all_ids)
    completion = _tot_completion(filters, all_ids, participants.sex_of)
    region_of = {cohort.id: cohort.region_id for cohort in cohort_rows}
    manual_of = {cohort.id: cohort.manual for cohort in cohort_rows}
    dates: dict[Any, str] = {}  # cohorts often start on the same day

    def row(label: str, key: dict[str, str], ids: list[int]) -> Row:
        trained: set[int] = set()
        done: dict[int, str] = {}
        for cohort_id in ids:
            trained.update(participants.of.get(cohort_id, ()))
            done.update(completion.done.get(cohort_id, {}))
        values: dict[str, Any] = sex_values(participants.count(trained), "trained_")
        values.update(sex_values(Counter(done.values()), "completed_"))
        return Row(label, values, key, total=not key)

    total = row(str(_l("Total")), {}, all_ids)
    regions = [
        row(
            filters.labels.region(rid),
            {"region": str(rid)},
            [cid for cid, r in region_of.items() if r == rid],
        )
        for rid in _ordered_regions(filters, set(region_of.values()))
    ]
    by_cohort = [
        row(
            _cohort_label(cohort, filters.labels.region(cohort.region_id), dates),
            {"cohort": str(cohort.id)},
            [cohort.id],
        )
        for cohort in cohort_rows
    ]
    manuals = [
        row(
            filters.labels.manual(slug),
            {"manual": slug or "-"},
            [cid for cid, m in manual_of.items() if m == slug],
        )
        for slug in sorted(set(manual_of.values()), key=filters.labels.manual)
    ]
    columns = _tot_columns()
    chart = Chart(("trained_female", "trained_male"), stacked=True)
    note = completion.note
    return [
        Table("by_region", _l("By region"), _l("Region"), columns, (*regions, total), chart, note),
        Table("by_cohort", _l("By cohort"), _l("Cohort"), columns, (*by_cohort, total), None, note),
        Table("by_manual", _l("By manual"), _l("Manual"), columns, (*manuals, total), None, note),
    ]


@dataclass(frozen=True)
class _Participants:
    """The participants of some ToT cohorts: who is in each cohort, and each one's sex."""

    of: dict[int, set[int]]
    sex_of: dict[int, str]

    def count(self, people: Iterable[int]) -> Counter[str]:
        """Distinct people by sex."""
        return Counter(map(self.sex_of.__getitem__, people))


def _participants(cohort_ids: list[int]) -> _Participants:
    """One statement for the participants of the cohorts, with their sexes.

    The cohorts' ids (a few hundred at most a year) let PostgreSQL reach their memberships
    through the (cohort, user) index and each user by primary key; a join to the cohorts'
    subquery instead read every membership, as the ToT memberships are a few percent of them.
    """
    of: dict[int, set[int]] = {}
    sex_of: dict[int, str] = {}
    if not cohort_ids:
        return _Participants(of, sex_of)
    for cohort_id, user_id, sex in db.session.execute(
        select(Membership.cohort_id, Membership.user_id, User.sex)
        .join(User, User.id == Membership.user_id)
        .where(Membership.cohort_id.in_(cohort_ids), Membership.role == PARTICIPANT)
    ):
        of.setdefault(cohort_id, set()).add(user_id)
        sex_of[user_id] = sex
    return _Participants(of, sex_of)


def _ordered_regions(filters: ReportFilters, present: set[int | None]) -> list[int]:
    """Regions with figures, in the customary order of the regions."""
    return [rid for rid in filters.labels.regions if rid in present]


def _cohort_label(cohort: Any, region: str, dates: dict[Any, str]) -> str:
    """``Name (Region, 1 Mar 2026)`` for a row with the cohort's name and start."""
    when = ""
    if cohort.starts_on:
        when = dates.get(cohort.starts_on) or dates.setdefault(
            cohort.starts_on, format_date(cohort.starts_on, "medium")
        )
    return f"{cohort.name} ({', '.join(p for p in (region, when) if p)})"


@dataclass(frozen=True)
class _Completion:
    """Who completed each cohort (user id → sex), and a note when some figures are older."""

    done: dict[int, dict[int, str]]
    note: Any


def _tot_completion(filters: ReportFilters, ids: list[int], sexes: dict[int, str]) -> _Completion:
    """The stored completion of every cohort, after re-evaluating those that fell behind
    (at most the cap on a page; all of them in the background job). Only participants of
    the cohorts (``sexes``: their sexes) are counted."""
    if not ids:
        return _Completion({}, "")
    result = completed_in(ids, cap=None if filters.background else _completion_cap())
    done = {
        cohort_id: {uid: sexes[uid] for uid in result.of(cohort_id) if uid in sexes}
        for cohort_id in ids
    }
    note: Any = ""
    if result.behind:
        note = _l(
            "Completion of %(count)s ToT cohorts is as of their last evaluation (the oldest on"
            " %(when)s): their records changed since and this page re-evaluates only a few"
            " at a time. The donor report re-evaluates all of them.",
            count=len(result.behind),
            when=format_date(result.oldest, "medium") if result.oldest else "—",
        )
    return _Completion(done, note)


def drill_tot(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The participants behind a figure: everyone trained, or those who completed."""
    request.only("region", "cohort", "manual", "sex", "completed")
    cohorts = filters.cohorts(kind=TOT)
    query = (
        select(User.id, User.name, User.sex)
        .select_from(User)
        .join(Membership, Membership.user_id == User.id)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .where(Membership.role == PARTICIPANT)
    )
    query = _narrow(query, request, cohorts)
    if request.key.get("completed") == "1":
        query = query.where(User.id.in_(_completed_ids(filters, request)))
    return _people_page(query, request, cohorts, _l("ToT cohort"))


def _completed_ids(filters: ReportFilters, request: DrillRequest) -> list[int]:
    cohorts = filters.cohorts(kind=TOT)
    query = select(Cohort.id).join(cohorts, cohorts.c.id == Cohort.id)
    chosen = list(db.session.scalars(_narrow(query, request, cohorts, with_sex=False)))
    result = completed_in(chosen, cap=None if filters.background else _completion_cap())
    return sorted({uid for cohort_id in chosen for uid in result.of(cohort_id)})


# --- students reached --------------------------------------------------------------------


def compute_students(filters: ReportFilters) -> Sequence[Table]:
    """Distinct students per madrasa, per region and in all.

    A year, or all time, is read from the kept figures (``lms.cohorts.totals``, one
    statement over a few thousand rows); any other period, a cohort filter or a viewer
    limited to some cohorts from the memberships themselves (one statement, and a second
    for the madrasa figures only when some madrasa has classes in two regions).
    """
    kept = _students_from_kept(filters)
    if kept is not None:
        by_madrasa, by_region, everyone = kept
    else:
        by_madrasa, by_region, everyone = _students_from_memberships(filters)
    columns = sex_columns()
    labels = filters.labels
    total = Row(str(_l("Total")), sex_values(everyone), {}, True)
    regions = [
        Row(labels.region(rid), sex_values(by_region[rid]), {"region": str(rid)})
        for rid in labels.regions
        if rid in by_region
    ]
    madrasas = [
        Row(
            f"{name} ({labels.region(region_id)})",
            sex_values(by_madrasa[mid]),
            {"madrasa": str(mid)},
        )
        for mid, (name, region_id) in labels.madrasas.items()
        if mid in by_madrasa
    ]
    chart = Chart(("female", "male"), stacked=True)
    return [
        Table("by_region", _l("By region"), _l("Region"), columns, (*regions, total), chart),
        Table("by_madrasa", _l("By madrasa"), _l("Madrasa"), columns, (*madrasas, total)),
    ]


Counts = dict[Any, Counter[str]]


def _students_from_memberships(filters: ReportFilters) -> tuple[Counts, Counts, Counter[str]]:
    """The figures counted over the student memberships of the classes in the filters."""
    cohorts = filters.cohorts(kind=CLASS)
    by_madrasa: Counts = {}
    by_region: Counts = {}
    everyone: Counter[str] = Counter()
    region_of: dict[Any, Any] = {}
    one_region_each = True
    for madrasa_id, region_id, sex, in_madrasa, in_region, at_all in db.session.execute(
        _students_first_seen(cohorts)
    ):
        by_madrasa.setdefault(madrasa_id, Counter())[sex] += in_madrasa
        by_region.setdefault(region_id, Counter())[sex] += in_region
        everyone[sex] += at_all
        one_region_each &= region_of.setdefault(madrasa_id, region_id) == region_id
    if not one_region_each:
        by_madrasa = _students_per_madrasa(cohorts)
    return by_madrasa, by_region, everyone


def _students_from_kept(filters: ReportFilters) -> tuple[Counts, Counts, Counter[str]] | None:
    """The figures from the kept ones, or None when they cannot answer the filters.

    Each kept row counts the distinct students of one madrasa (and region) in the year; a
    student in the rows of two madrasas is then counted once too many above the madrasa,
    so every level takes off, per set of places such students share, their number times
    the places in that level less one. One statement reads the rows, the overlaps and how
    many classes without a start date run in the year (such a class runs in every year
    before its end, which the kept rows cannot hold: the figures are then counted from the
    memberships).
    """
    year = _one_whole_year(filters)
    scope = filters.scope
    if year is None or filters.cohort_id is not None or scope.cohort_ids:
        return None
    manual = filters.manual or EVERY_MANUAL

    def narrowed(table: Any) -> list[Any]:
        clauses = [table.year == year, table.manual == manual]
        if filters.region_id is not None:
            clauses.append(table.region_id == filters.region_id)
        if filters.madrasa_id is not None:
            clauses.append(table.madrasa_id == filters.madrasa_id)
        if not scope.everywhere:
            clauses.append(
                or_(table.region_id.in_(scope.region_ids), table.madrasa_id.in_(scope.madrasa_ids))
            )
        return clauses

    kept, overlap = ClassStudentsKept, ClassStudentOverlap
    parts = [
        select(
            literal("kept"), kept.madrasa_id, kept.region_id, kept.sex, kept.students, null()
        ).where(*narrowed(kept)),
        select(
            literal("overlap"),
            overlap.madrasa_id,
            overlap.region_id,
            overlap.sex,
            overlap.students,
            overlap.places,
        ).where(*narrowed(overlap)),
    ]
    if year != ALL_YEARS:
        parts.append(
            select(literal("undated"), null(), null(), null(), func.count(Cohort.id), null()).where(
                Cohort.kind == CLASS,
                Cohort.starts_on.is_(None),
                or_(Cohort.ends_on.is_(None), Cohort.ends_on >= date(year, 1, 1)),
            )
        )
    by_madrasa: Counts = {}
    by_region: Counts = {}
    everyone: Counter[str] = Counter()
    # Per set of places and sex: (how many students, their places in the filters).
    overlaps: dict[tuple[str, str], tuple[int, list[tuple[int, int]]]] = {}
    for kind, madrasa_id, region_id, sex, value, places in db.session.execute(union_all(*parts)):
        if kind == "undated":
            if value:
                return None
            continue
        if kind == "kept":
            by_madrasa.setdefault(madrasa_id, Counter())[sex] += int(value)
            by_region.setdefault(region_id, Counter())[sex] += int(value)
            everyone[sex] += int(value)
            continue
        overlaps.setdefault((places, sex), (int(value), []))[1].append((madrasa_id, region_id))
    for (_places, sex), (students, where) in overlaps.items():
        levels = (
            (by_madrasa, Counter(madrasa for madrasa, _region in where)),
            (by_region, Counter(region for _madrasa, region in where)),
        )
        for figures, rows in levels:
            for place, count in rows.items():
                figures[place][sex] -= students * (count - 1)
        everyone[sex] -= students * (len(where) - 1)
    return by_madrasa, by_region, everyone


def _one_whole_year(filters: ReportFilters) -> int | None:
    """The period's year when it is one whole calendar year, ``ALL_YEARS`` without dates,
    else None."""
    years = filters.whole_years()
    if years is None or years[0] != years[1]:
        return None
    return ALL_YEARS if years[0] is None else years[0]


def _students_first_seen(cohorts: Any) -> Select[Any]:
    """Per madrasa, region and sex: how many students are counted there for the first time
    in that madrasa, in that region and at all.

    The student memberships are sorted once by person, region and madrasa; a membership is
    the person's first in its madrasa (region; at all) when the one before it is of another
    person, region or madrasa (another person, or region; another person), which ``lag()``
    tells. Summing those firsts gives distinct people per madrasa, region and in all without
    a ``COUNT(DISTINCT)`` per level (each of which sorted all the memberships again, joined
    to the users again). The users are joined once, after the window, for their sex.

    The madrasa figures are exact when each madrasa's classes are in one region, as the
    services make them (a class takes its madrasa's region): a person's memberships in one
    madrasa are then next to each other in this order. ``compute_students`` sees from the
    rows when they are not, and then counts the madrasas with ``_students_per_madrasa``.
    """
    order = (Membership.user_id, cohorts.c.region_id, cohorts.c.madrasa_id)

    def before(column: Any) -> Any:
        return func.lag(column).over(order_by=order)

    ordered = (
        select(
            Membership.user_id.label("user_id"),
            cohorts.c.region_id.label("region_id"),
            cohorts.c.madrasa_id.label("madrasa_id"),
            before(Membership.user_id).label("user_before"),
            before(cohorts.c.region_id).label("region_before"),
            before(cohorts.c.madrasa_id).label("madrasa_before"),
        )
        .select_from(Membership)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .where(Membership.role == STUDENT)
        .subquery("ordered")
    )
    same_person = ordered.c.user_before == ordered.c.user_id
    same_region = and_(
        same_person, ordered.c.region_before.is_not_distinct_from(ordered.c.region_id)
    )
    same_madrasa = and_(
        same_region, ordered.c.madrasa_before.is_not_distinct_from(ordered.c.madrasa_id)
    )

    def firsts(same: Any) -> Any:
        # The first membership has no one before it: the comparison is NULL, so it counts.
        return func.sum(case((same, 0), else_=1))

    return (
        select(
            ordered.c.madrasa_id,
            ordered.c.region_id,
            User.sex,
            firsts(same_madrasa),
            firsts(same_region),
            firsts(same_person),
        )
        .join(User, User.id == ordered.c.user_id)
        .group_by(ordered.c.madrasa_id, ordered.c.region_id, User.sex)
    )


def _students_per_madrasa(cohorts: Any) -> dict[Any, Counter[str]]:
    """Distinct students per madrasa and sex, counted directly.

    Only needed when some madrasa's classes lie in two regions (a class given a region of
    its own), where ``_students_first_seen`` could count a person in both for the madrasa.
    """
    query = (
        select(cohorts.c.madrasa_id, User.sex, func.count(distinct(Membership.user_id)))
        .select_from(Membership)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == STUDENT)
        .group_by(cohorts.c.madrasa_id, User.sex)
    )
    result: dict[Any, Counter[str]] = {}
    for madrasa_id, sex, count in db.session.execute(query):
        result.setdefault(madrasa_id, Counter())[sex] += int(count)
    return result


def drill_students(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    request.only("region", "madrasa", "sex")
    cohorts = filters.cohorts(kind=CLASS)
    query = (
        select(User.id, User.name, User.sex)
        .select_from(User)
        .join(Membership, Membership.user_id == User.id)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .where(Membership.role == STUDENT)
    )
    return _people_page(_narrow(query, request, cohorts), request, cohorts, _l("Class"))


# --- drill-down helpers --------------------------------------------------------------------


def _narrow(query: Any, request: DrillRequest, cohorts: Any, *, with_sex: bool = True) -> Any:
    """Apply a drill key's region, madrasa, cohort, manual and sex to a cohort query."""
    for name, column in (
        ("region", cohorts.c.region_id),
        ("madrasa", cohorts.c.madrasa_id),
        ("cohort", cohorts.c.id),
    ):
        value = request.get_int(name)
        if value is not None:
            query = query.where(column == value)
    if "manual" in request.key:
        manual = request.key["manual"]
        query = query.where(cohorts.c.manual == ("" if manual == "-" else manual))
    if with_sex and request.sex is not None:
        query = query.where(User.sex == request.sex)
    return query


def _people_page(query: Any, request: DrillRequest, cohorts: Any, what: Any) -> DrillPage:
    """Distinct people, each with one of their cohorts (a link) and how many they are in."""
    grouped = query.with_only_columns(
        User.id,
        User.name,
        User.sex,
        func.min(cohorts.c.id),
        func.count(distinct(cohorts.c.id)),
    ).group_by(User.id, User.name, User.sex)
    rows, total = request.fetch(grouped.order_by(User.name, User.id))
    names = dict(
        db.session.execute(
            select(Cohort.id, Cohort.name).where(Cohort.id.in_({r[3] for r in rows}))
        ).all()
    )
    return DrillPage(
        columns=(_l("Name"), _l("Sex"), what, _l("Cohorts")),
        rows=[
            (
                name,
                str(SEXES.get(sex, sex)),
                Link(names.get(cohort_id, ""), url_for("cohorts.view", cohort_id=cohort_id)),
                count,
            )
            for _uid, name, sex, cohort_id, count in rows
        ],
        total=total,
    )
