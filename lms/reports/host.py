"""The host's indicators: ToT participants trained and completed, and students reached.

Both count people from cohort memberships, which the host owns. Counts are of distinct
people per row (a person in two cohorts of one region counts once for the region), each
computed in one SQL statement with one GROUP BY per level joined by UNION ALL.

Completion is different: who has completed a ToT is decided by each cohort's own rule
(``lms.progress.api.evaluate_completion``), which plugins implement in Python. The ledger
keeps a snapshot of the answer per cohort, refreshed whenever a cohort's records or members
change (``lms.progress.completion``), so completion is read with one query; a cohort whose
snapshot has fallen behind is evaluated again first — up to ``REPORTS_COMPLETION_COHORTS`` of
them on a page (the rest are shown as of their last evaluation, and the page says so), every
one of them in the donor-report job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, cast, distinct, func, literal, select, union_all

from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, SEXES, STUDENT
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
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
    tally,
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


# --- SQL: distinct people per level -------------------------------------------------------


def _levels(base: Select[Any], user_id: Any, levels: dict[str, Any]) -> Select[Any]:
    """One GROUP BY per level (``None``: the total) of distinct ``user_id`` by sex."""
    parts = []
    for name, key in levels.items():
        key_column = cast(key, String) if key is not None else cast(literal(""), String)
        part = base.with_only_columns(
            literal(name).label("level"),
            key_column.label("key"),
            User.sex,
            func.count(distinct(user_id)),
        )
        part = part.group_by(key, User.sex) if key is not None else part.group_by(User.sex)
        parts.append(part)
    return union_all(*parts)  # type: ignore[return-value]


def _by_level(rows: Iterable[Any]) -> dict[str, dict[str, dict[str, int]]]:
    """(level, key, sex, count) rows → level → key → sex → count."""
    result: dict[str, dict[str, dict[str, int]]] = {}
    for level, key, sex, count in rows:
        result.setdefault(level, {}).setdefault(key, {})[sex] = int(count)
    return result


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
    """Trained (one aggregate) and completed (the cohorts' rules, within the cap)."""
    cohorts = filters.cohorts(kind=TOT)
    cohort_rows = db.session.execute(
        select(Cohort, cohorts.c.region_id)
        .join(cohorts, cohorts.c.id == Cohort.id)
        .order_by(Cohort.starts_on.desc().nulls_last(), Cohort.id.desc())
    ).all()
    base = (
        select(Membership.user_id)
        .select_from(Membership)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == PARTICIPANT)
    )
    trained = _by_level(
        db.session.execute(
            _levels(
                base,
                Membership.user_id,
                {
                    "cohort": cohorts.c.id,
                    "region": cohorts.c.region_id,
                    "manual": cohorts.c.manual,
                    "total": None,
                },
            )
        )
    )
    completion = _tot_completion(filters, [cohort for cohort, _ in cohort_rows])
    region_of = {cohort.id: region_id for cohort, region_id in cohort_rows}
    manual_of = {cohort.id: cohort.manual for cohort, _ in cohort_rows}

    def completed(cohort_ids: Iterable[int]) -> dict[str, int]:
        people: dict[int, str] = {}
        for cohort_id in cohort_ids:
            people.update(completion.done.get(cohort_id, {}))
        return tally((None, sex, 1) for sex in people.values()).get(None, {})

    def row(label: str, key: dict[str, str], counts: dict[str, int], ids: list[int]) -> Row:
        values: dict[str, Any] = sex_values(counts, "trained_")
        values.update(sex_values(completed(ids), "completed_"))
        return Row(label, values, key, total=not key)

    all_ids = [cohort.id for cohort, _ in cohort_rows]
    total = row(str(_l("Total")), {}, trained.get("total", {}).get("", {}), all_ids)
    regions = [
        row(
            filters.labels.region(rid),
            {"region": str(rid)},
            trained.get("region", {}).get(str(rid), {}),
            [cid for cid, r in region_of.items() if r == rid],
        )
        for rid in _ordered_regions(filters, set(region_of.values()))
    ]
    by_cohort = [
        row(
            _cohort_label(cohort, filters.labels.region(region_id)),
            {"cohort": str(cohort.id)},
            trained.get("cohort", {}).get(str(cohort.id), {}),
            [cohort.id],
        )
        for cohort, region_id in cohort_rows
    ]
    manuals = [
        row(
            filters.labels.manual(slug),
            {"manual": slug or "-"},
            trained.get("manual", {}).get(slug, {}),
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


def _ordered_regions(filters: ReportFilters, present: set[int | None]) -> list[int]:
    """Regions with figures, in the customary order of the regions."""
    return [rid for rid in filters.labels.regions if rid in present]


def _cohort_label(cohort: Cohort, region: str) -> str:
    when = format_date(cohort.starts_on, "medium") if cohort.starts_on else ""
    return f"{cohort.name} ({', '.join(p for p in (region, when) if p)})"


@dataclass(frozen=True)
class _Completion:
    """Who completed each cohort (user id → sex), and a note when some figures are older."""

    done: dict[int, dict[int, str]]
    note: Any


def _tot_completion(filters: ReportFilters, cohorts: list[Cohort]) -> _Completion:
    """The stored completion of every cohort, after re-evaluating those that fell behind
    (at most the cap on a page; all of them in the background job)."""
    ids = [cohort.id for cohort in cohorts]
    if not ids:
        return _Completion({}, "")
    result = completed_in(ids, cap=None if filters.background else _completion_cap())
    sexes = _sexes_of_participants(ids)
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


def _sexes_of_participants(cohort_ids: list[int]) -> dict[int, str]:
    if not cohort_ids:
        return {}
    return {
        user_id: sex
        for user_id, sex in db.session.execute(
            select(User.id, User.sex)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id.in_(cohort_ids), Membership.role == PARTICIPANT)
        )
    }


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
    """Distinct students per madrasa, per region and in all (one statement)."""
    cohorts = filters.cohorts(kind=CLASS)
    base = (
        select(Membership.user_id)
        .select_from(Membership)
        .join(cohorts, cohorts.c.id == Membership.cohort_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == STUDENT)
    )
    counts = _by_level(
        db.session.execute(
            _levels(
                base,
                Membership.user_id,
                {
                    "madrasa": cohorts.c.madrasa_id,
                    "region": cohorts.c.region_id,
                    "total": None,
                },
            )
        )
    )
    columns = sex_columns()
    labels = filters.labels
    total = Row(str(_l("Total")), sex_values(counts.get("total", {}).get("", {})), {}, True)
    by_region = counts.get("region", {})
    regions = [
        Row(labels.region(rid), sex_values(by_region[str(rid)]), {"region": str(rid)})
        for rid in labels.regions
        if str(rid) in by_region
    ]
    by_madrasa = counts.get("madrasa", {})
    madrasas = [
        Row(
            f"{name} ({labels.region(region_id)})",
            sex_values(by_madrasa[str(mid)]),
            {"madrasa": str(mid)},
        )
        for mid, (name, region_id) in labels.madrasas.items()
        if str(mid) in by_madrasa
    ]
    chart = Chart(("female", "male"), stacked=True)
    return [
        Table("by_region", _l("By region"), _l("Region"), columns, (*regions, total), chart),
        Table("by_madrasa", _l("By madrasa"), _l("Madrasa"), columns, (*madrasas, total)),
    ]


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
