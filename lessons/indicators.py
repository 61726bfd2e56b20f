"""The lessons plugin's report indicators: sessions and attendance, practice lessons,
monitoring visits.

Each table comes from one or two aggregate statements over the plugin's own tables, joined
to the host's ``ReportFilters.cohorts()`` or ``.madrasas()`` (which apply the filters and
the viewer's scope). The attendance table — the big one, millions of rows at scale — is
read once per report: one pass groups it per learner and cohort facet in a materialised
CTE, and the levels (region, manual, kind, total) are counted from that small result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import format_date, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from curriculum import api as curriculum
from lessons.models import (
    HELD,
    PRESENT,
    Attendance,
    CohortYearTotals,
    LearnerYearAttendance,
    MonitoringVisit,
    PracticeLesson,
    TeachingSession,
)
from lessons.practice import ITEM_TYPE as PRACTICE_ITEM_TYPE
from lessons.totals import ALL_YEARS
from lms.accounts.models import User
from lms.accounts.roles import SEXES
from lms.cohorts.models import CLASS, TOT
from lms.errors import Invalid
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.progress.models import ProgressRecord
from lms.reports.indicators import (
    SEX_KEYS,
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    Link,
    ReportFilters,
    Row,
    Table,
    mean,
    sex_columns,
    sex_values,
)

SESSIONS_ID = "lessons.sessions"
PRACTICE_ID = "lessons.practice"
VISITS_ID = "lessons.visits"
KINDS = {CLASS: _l("Madrasa classes"), TOT: _l("ToT cohorts")}


def indicators() -> list[Indicator]:
    return [
        Indicator(
            SESSIONS_ID,
            _l("Teaching sessions delivered and learner attendances"),
            _l(
                "Sessions: lessons and ToT sessions recorded as held, dated in the period."
                " Attendances: present marks recorded at those sessions (one learner at one"
                " session). Learners attending: distinct people with at least one present mark,"
                " counted once per row. Planned and cancelled sessions are not counted."
            ),
            compute_sessions,
            drill_sessions,
            order=30,
        ),
        Indicator(
            PRACTICE_ID,
            _l("Practice-lesson rubric averages"),
            _l(
                "Practice lessons taught by ToT participants, dated in the period, and the mean"
                " of each scored lesson's average (trainer and peer scores together), overall"
                " and on the content and the methodology criteria. Every lesson weighs the"
                " same. Scores are on the cohort's rubric scale (1 to 5 unless the cohort"
                " chose another)."
            ),
            compute_practice,
            drill_practice,
            order=40,
        ),
        Indicator(
            VISITS_ID,
            _l("Monitoring visits and open follow-ups"),
            _l(
                "Visits monitoring officers recorded to madrasas, dated in the period."
                " A visit has an open follow-up when it lists follow-up actions not yet marked"
                " done. With a manual or cohort chosen, only visits that observed a class of"
                " that manual or cohort count."
            ),
            compute_visits,
            drill_visits,
            order=60,
        ),
    ]


def _manual_key(slug: str | None) -> str:
    return slug or "-"


# --- sessions and attendance -------------------------------------------------------------


def _session_columns() -> tuple[Column, ...]:
    def by_sex(prefix: str, what: str, group: Any) -> tuple[Column, ...]:
        return tuple(
            Column(f"{prefix}{c.id}", c.label, drill={**c.drill, "what": what}, group=group)
            for c in sex_columns()
        )

    return (
        Column("sessions", _l("Sessions held"), drill={"what": "sessions"}),
        Column("hours", _l("Hours taught"), kind="number"),
        *by_sex("att_", "attendances", _l("Attendances")),
        *by_sex("ppl_", "learners", _l("Learners attending")),
    )


def compute_sessions(filters: ReportFilters) -> Sequence[Table]:
    """Held sessions, present marks and learners attending per level and sex.

    A period of whole calendar years (a year, or no dates) is read from the kept totals
    (``lessons.totals``, two statements over small tables); any other period from the
    sessions and marks themselves (two statements, one pass over the marks).
    """
    years = filters.whole_years()
    if years is None:
        sessions, people, marks = _figures_from_marks(filters)
    else:
        sessions, people, marks = _figures_from_totals(filters, *years)
    return _session_tables(filters, sessions, people, marks)


Figures = dict[tuple[str, str], Any]


def _levels(region_id: Any, manual: str | None, kind: str) -> tuple[tuple[str, str], ...]:
    return (("region", str(region_id)), ("manual", manual or ""), ("kind", kind), ("total", ""))


def _in_years(column: Any, first: int | None, last: int | None) -> Any:
    """The kept rows of the years from ``first`` to ``last``: the all-time rows when both
    are open, else the rows of real years in between."""
    if first is None and last is None:
        return column == ALL_YEARS
    clauses = [column != ALL_YEARS]
    if first is not None:
        clauses.append(column >= first)
    if last is not None:
        clauses.append(column <= last)
    return and_(*clauses)


def _figures_from_totals(
    filters: ReportFilters, first: int | None, last: int | None
) -> tuple[Figures, Figures, Figures]:
    """The figures from the kept totals.

    Learners are first summed over the cohorts' yearly totals, which counts a person once
    per cohort and year they attended; the excess is then taken off, computed from the rows
    of the only people who can have any: those with more than one row in the period (one
    learner in thirty in a year at scale 10).
    """
    cohorts = filters.cohorts(in_period=False)
    totals = CohortYearTotals
    sessions: Figures = {}
    people: Figures = {}
    marks: Figures = {}
    for region_id, manual, kind, count, minutes, *by_sex in _execute(
        select(
            cohorts.c.region_id,
            cohorts.c.manual,
            cohorts.c.kind,
            func.sum(totals.sessions),
            func.sum(totals.minutes),
            func.sum(totals.learners_female),
            func.sum(totals.learners_male),
            func.sum(totals.marks_female),
            func.sum(totals.marks_male),
        )
        .select_from(totals)
        .join(cohorts, cohorts.c.id == totals.cohort_id)
        .where(_in_years(totals.year, first, last))
        .group_by(cohorts.c.region_id, cohorts.c.manual, cohorts.c.kind)
    ):
        learners = dict(zip(SEX_KEYS, (int(v or 0) for v in by_sex[:2]), strict=True))
        present = dict(zip(SEX_KEYS, (int(v or 0) for v in by_sex[2:]), strict=True))
        for level in _levels(region_id, manual, kind):
            totals_here = sessions.setdefault(level, [0, 0])
            totals_here[0] += int(count or 0)
            totals_here[1] += int(minutes or 0)
            for sex in SEX_KEYS:
                if learners[sex]:
                    counts = people.setdefault(level, {})
                    counts[sex] = counts.get(sex, 0) + learners[sex]
                    sums = marks.setdefault(level, {})
                    sums[sex] = sums.get(sex, 0) + present[sex]
    rows = LearnerYearAttendance
    in_period = _in_years(rows.year, first, last)
    their_rows = (
        select(cohorts.c.region_id, cohorts.c.manual, cohorts.c.kind, rows.user_id, rows.sex)
        .select_from(rows)
        .join(cohorts, cohorts.c.id == rows.cohort_id)
        .where(in_period)
    )
    if first == last:
        # One year, or all time: each row knows how many its learner has in it.
        their_rows = their_rows.where(rows.year_rows > 1)
    else:
        several = (
            select(rows.user_id)
            .where(in_period)
            .group_by(rows.user_id)
            .having(func.count() > 1)
            .subquery("several_rows")
        )
        their_rows = their_rows.join(several, several.c.user_id == rows.user_id)
    their_rows = their_rows.cte("several_learners").prefix_with("MATERIALIZED")
    excess_rows = _per_level_and_sex(
        their_rows, func.count() - func.count(distinct(their_rows.c.user_id))
    )
    for level, key, sex, excess in _execute(excess_rows):
        if excess:
            people[(level, key or "")][sex] -= int(excess)
    return sessions, people, marks


def _per_level_and_sex(rows: Any, *aggregates: Any) -> Any:
    """``(level, key, sex, *aggregates)`` over ``rows`` (a CTE with ``region_id``,
    ``manual``, ``kind`` and ``sex``): one GROUP BY per level, the total included, joined by
    UNION ALL — one statement reading the CTE once per level."""
    parts = []
    for level, key in (
        ("region", rows.c.region_id),
        ("manual", rows.c.manual),
        ("kind", rows.c.kind),
        ("total", None),
    ):
        key_column = cast(key if key is not None else literal(""), String)
        grouping = [key, rows.c.sex] if key is not None else [rows.c.sex]
        parts.append(
            select(
                literal(level).label("level"), key_column.label("key"), rows.c.sex, *aggregates
            ).group_by(*grouping)
        )
    return union_all(*parts)


def _figures_from_marks(filters: ReportFilters) -> tuple[Figures, Figures, Figures]:
    """Held sessions (one statement) and attendance per level (one pass over the marks)."""
    cohorts = filters.cohorts(in_period=False)
    held = and_(TeachingSession.status == HELD, filters.on_dates(TeachingSession.held_on))
    sessions: Figures = {}
    for region_id, manual, kind, count, minutes in _execute(
        select(
            cohorts.c.region_id,
            cohorts.c.manual,
            cohorts.c.kind,
            func.count(TeachingSession.id),
            func.sum(TeachingSession.duration_minutes),
        )
        .select_from(TeachingSession)
        .join(cohorts, cohorts.c.id == TeachingSession.cohort_id)
        .where(held)
        .group_by(cohorts.c.region_id, cohorts.c.manual, cohorts.c.kind)
    ):
        for level in _levels(region_id, manual, kind):
            totals = sessions.setdefault(level, [0, 0])
            totals[0] += count
            totals[1] += minutes or 0

    per_learner = (
        select(
            cohorts.c.region_id,
            cohorts.c.manual,
            cohorts.c.kind,
            Attendance.user_id,
            User.sex,
            func.count().label("marks"),
        )
        .select_from(Attendance)
        .join(TeachingSession, TeachingSession.id == Attendance.session_id)
        .join(cohorts, cohorts.c.id == TeachingSession.cohort_id)
        .join(User, User.id == Attendance.user_id)
        .where(held, Attendance.status == PRESENT)
        .group_by(
            cohorts.c.region_id, cohorts.c.manual, cohorts.c.kind, Attendance.user_id, User.sex
        )
        .cte("per_learner")
        .prefix_with("MATERIALIZED")
    )
    per_level = _per_level_and_sex(
        per_learner, func.count(distinct(per_learner.c.user_id)), func.sum(per_learner.c.marks)
    )
    people: Figures = {}
    marks: Figures = {}
    for level, key, sex, learners, count in _execute(per_level):
        people.setdefault((level, key or ""), {})[sex] = int(learners)
        marks.setdefault((level, key or ""), {})[sex] = int(count or 0)
    return sessions, people, marks


def _session_tables(
    filters: ReportFilters, sessions: Figures, people: Figures, marks: Figures
) -> list[Table]:
    """The three tables from the figures per level: (level, key) → [sessions, minutes],
    and (level, key) → sex → learners attending, and present marks."""

    def row(label: str, level: str, key: str, drill: dict[str, str]) -> Row:
        count, minutes = sessions.get((level, key), [0, 0])
        values: dict[str, Any] = {"sessions": int(count), "hours": round(minutes / 60, 2)}
        values.update(sex_values(marks.get((level, key), {}), "att_"))
        values.update(sex_values(people.get((level, key), {}), "ppl_"))
        return Row(label, values, drill, total=level == "total")

    present = {key for level, key in {*sessions, *people} if level == "region"}
    regions = [
        row(filters.labels.region(rid), "region", str(rid), {"region": str(rid)})
        for rid in filters.labels.regions
        if str(rid) in present
    ]
    manuals = sorted(
        {key for level, key in {*sessions, *people} if level == "manual"},
        key=filters.labels.manual,
    )
    by_manual = [
        row(filters.labels.manual(slug), "manual", slug, {"manual": _manual_key(slug)})
        for slug in manuals
    ]
    by_kind = [
        row(str(label), "kind", kind, {"kind": kind})
        for kind, label in KINDS.items()
        if ("kind", kind) in sessions or ("kind", kind) in people
    ]
    total = row(str(_l("Total")), "total", "", {})
    columns = _session_columns()
    chart = Chart(("att_female", "att_male"), stacked=True)
    return [
        Table("by_region", _l("By region"), _l("Region"), columns, (*regions, total), chart),
        Table("by_kind", _l("By kind of cohort"), _l("Cohorts"), columns, (*by_kind, total)),
        Table("by_manual", _l("By manual"), _l("Manual"), columns, (*by_manual, total)),
    ]


def _execute(statement: Any) -> Iterable[Any]:
    return db.session.execute(statement)


def _narrow_cohorts(query: Any, request: DrillRequest, cohorts: Any) -> Any:
    region = request.get_int("region")
    if region is not None:
        query = query.where(cohorts.c.region_id == region)
    cohort = request.get_int("cohort")
    if cohort is not None:
        query = query.where(cohorts.c.id == cohort)
    manual = request.get("manual")
    if manual is not None:
        query = query.where(cohorts.c.manual == ("" if manual == "-" else manual))
    kind = request.get("kind")
    if kind is not None:
        if kind not in KINDS:
            return query.where(literal(False))
        query = query.where(cohorts.c.kind == kind)
    return query


def drill_sessions(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The sessions, present marks or learners behind a figure."""
    request.only("region", "manual", "kind", "sex", "what")
    cohorts = filters.cohorts(in_period=False)
    held = and_(TeachingSession.status == HELD, filters.on_dates(TeachingSession.held_on))
    what = request.get("what")
    if what == "sessions":
        query = _narrow_cohorts(
            select(TeachingSession, cohorts.c.name)
            .join(cohorts, cohorts.c.id == TeachingSession.cohort_id)
            .where(held),
            request,
            cohorts,
        ).order_by(TeachingSession.held_on.desc(), TeachingSession.id.desc())
        rows, total = request.fetch(query)
        versions = curriculum.versions_by_id(
            sorted({s.module_version_id for s, _ in rows if s.module_version_id is not None})
        )
        return DrillPage(
            (_l("Date"), _l("Cohort"), _l("Lesson"), _l("Minutes")),
            [
                (
                    format_date(session.held_on, "medium"),
                    _cohort_link(session.cohort_id, name),
                    versions[session.module_version_id].title
                    if session.module_version_id in versions
                    else session.title,
                    session.duration_minutes,
                )
                for session, name in rows
            ],
            total,
        )
    base = (
        select(Attendance.user_id)
        .select_from(Attendance)
        .join(TeachingSession, TeachingSession.id == Attendance.session_id)
        .join(cohorts, cohorts.c.id == TeachingSession.cohort_id)
        .join(User, User.id == Attendance.user_id)
        .where(held, Attendance.status == PRESENT)
    )
    base = _narrow_cohorts(base, request, cohorts)
    if request.sex is not None:
        base = base.where(User.sex == request.sex)
    if what == "attendances":
        query = base.with_only_columns(
            TeachingSession.held_on, User.name, User.sex, cohorts.c.id, cohorts.c.name
        ).order_by(TeachingSession.held_on.desc(), User.name, Attendance.id)
        rows, total = request.fetch(query)
        return DrillPage(
            (_l("Date"), _l("Learner"), _l("Sex"), _l("Cohort")),
            [
                (format_date(day, "medium"), name, str(SEXES[sex]), _cohort_link(cid, cname))
                for day, name, sex, cid, cname in rows
            ],
            total,
        )
    if what == "learners":
        query = (
            base.with_only_columns(User.id, User.name, User.sex, func.count(Attendance.id))
            .group_by(User.id, User.name, User.sex)
            .order_by(User.name, User.id)
        )
        rows, total = request.fetch(query)
        return DrillPage(
            (_l("Learner"), _l("Sex"), _l("Attendances")),
            [(name, str(SEXES[sex]), count) for _uid, name, sex, count in rows],
            total,
        )
    raise _bad_key()


def _bad_key() -> Exception:
    return Invalid(_l("This figure cannot be opened."))


def _cohort_link(cohort_id: int, name: str) -> Link:
    return Link(name, url_for("cohorts.view", cohort_id=cohort_id))


# --- practice lessons --------------------------------------------------------------------


def _practice_columns() -> tuple[Column, ...]:
    return (
        Column("lessons", _l("Practice lessons"), drill={}),
        Column("scored", _l("Scored"), drill={"scored": "1"}),
        Column("overall", _l("Mean score"), kind="number"),
        Column("content", _l("Content"), kind="number", group=_l("Mean by criteria")),
        Column("methodology", _l("Methodology"), kind="number", group=_l("Mean by criteria")),
    )


@dataclass(frozen=True)
class _LatestRecord:
    """Each practice lesson's latest ledger record (its current averages), to outer-join."""

    record: Any
    on: Any

    @property
    def score(self) -> Any:
        return self.record.score

    @property
    def content(self) -> Any:
        return self.record.details["content"].as_float()

    @property
    def methodology(self) -> Any:
        return self.record.details["methodology"].as_float()


def _latest_practice_record(cohorts: Any) -> _LatestRecord:
    """The newest record of each practice lesson is found per lesson, through the ledger's
    (item type, item, id) index: only the period's lessons are looked up. (Grouping every
    record of the cohorts first, then joining, was planned as a nested loop over the groups
    when a region was chosen: 3.7 s at scale 10.)"""
    newest = (
        select(func.max(ProgressRecord.id))
        .where(
            ProgressRecord.item_type == PRACTICE_ITEM_TYPE,
            ProgressRecord.item_id == cast(PracticeLesson.id, String),
            ProgressRecord.cohort_id.in_(select(cohorts.c.id)),
        )
        .correlate(PracticeLesson)
        .scalar_subquery()
    )
    record = aliased(ProgressRecord, name="practice_latest")
    return _LatestRecord(record, record.id == newest)


def compute_practice(filters: ReportFilters) -> Sequence[Table]:
    """Lessons and mean scores per cohort and participant sex (one statement), rolled up."""
    cohorts = filters.cohorts(kind=TOT, in_period=False)
    latest = _latest_practice_record(cohorts)
    scored = latest.score.is_not(None)
    statement = (
        select(
            cohorts.c.id,
            cohorts.c.name,
            cohorts.c.region_id,
            User.sex,
            func.count(PracticeLesson.id),
            func.count(case((scored, 1))),
            func.sum(latest.score),
            func.count(latest.content),
            func.sum(cast(latest.content, Float)),
            func.count(latest.methodology),
            func.sum(cast(latest.methodology, Float)),
        )
        .select_from(PracticeLesson)
        .join(cohorts, cohorts.c.id == PracticeLesson.cohort_id)
        .join(User, User.id == PracticeLesson.participant_id)
        .outerjoin(latest.record, latest.on)
        .where(filters.on_dates(PracticeLesson.taught_on))
        .group_by(cohorts.c.id, cohorts.c.name, cohorts.c.region_id, User.sex)
    )
    sums: dict[tuple[str, str], list[float]] = {}
    names: dict[str, str] = {}
    regions: set[int] = set()
    for cid, name, region_id, sex, *figures in _execute(statement):
        names[str(cid)] = name
        regions.add(region_id)
        levels = (("cohort", str(cid)), ("region", str(region_id)), ("sex", sex), ("total", ""))
        for level in levels:
            acc = sums.setdefault(level, [0.0] * 7)
            for index, value in enumerate(figures):
                acc[index] += float(value or 0)

    def row(label: str, level: tuple[str, str], key: dict[str, str]) -> Row:
        lessons, scored_n, score, n_content, content, n_method, method = sums.get(level, [0] * 7)
        return Row(
            label,
            {
                "lessons": int(lessons),
                "scored": int(scored_n),
                "overall": mean(score, int(scored_n)),
                "content": mean(content, int(n_content)),
                "methodology": mean(method, int(n_method)),
            },
            key,
            total=level[0] == "total",
        )

    columns = _practice_columns()
    total = row(str(_l("Total")), ("total", ""), {})
    by_cohort = [
        row(name, ("cohort", cid), {"cohort": cid})
        for cid, name in sorted(names.items(), key=lambda item: item[1])
    ]
    by_region = [
        row(filters.labels.region(rid), ("region", str(rid)), {"region": str(rid)})
        for rid in filters.labels.regions
        if rid in regions
    ]
    by_sex = [
        row(str(SEXES[sex]), ("sex", sex), {"sex": sex}) for sex in SEX_KEYS if ("sex", sex) in sums
    ]
    return [
        Table("by_cohort", _l("By ToT cohort"), _l("Cohort"), columns, (*by_cohort, total)),
        Table("by_region", _l("By region"), _l("Region"), columns, (*by_region, total)),
        Table(
            "by_sex",
            _l("By sex of the participant"),
            _l("Sex"),
            columns,
            (*by_sex, total),
            Chart(("content", "methodology")),
        ),
    ]


def drill_practice(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    request.only("cohort", "region", "sex", "scored")
    cohorts = filters.cohorts(kind=TOT, in_period=False)
    latest = _latest_practice_record(cohorts)
    query = (
        select(
            PracticeLesson.id,
            PracticeLesson.taught_on,
            User.name,
            User.sex,
            cohorts.c.id,
            cohorts.c.name,
            latest.score,
        )
        .select_from(PracticeLesson)
        .join(cohorts, cohorts.c.id == PracticeLesson.cohort_id)
        .join(User, User.id == PracticeLesson.participant_id)
        .outerjoin(latest.record, latest.on)
        .where(filters.on_dates(PracticeLesson.taught_on))
    )
    query = _narrow_cohorts(query, request, cohorts)
    if request.sex is not None:
        query = query.where(User.sex == request.sex)
    if request.get("scored") == "1":
        query = query.where(latest.score.is_not(None))
    rows, total = request.fetch(query.order_by(PracticeLesson.taught_on.desc(), PracticeLesson.id))
    return DrillPage(
        (_l("Practice lesson"), _l("Participant"), _l("Sex"), _l("Cohort"), _l("Mean score")),
        [
            (
                Link(
                    format_date(day, "medium"),
                    url_for("lessons.practice_lesson", practice_id=pid),
                ),
                name,
                str(SEXES[sex]),
                _cohort_link(cid, cname),
                None if score is None else round(score, 2),
            )
            for pid, day, name, sex, cid, cname, score in rows
        ],
        total,
    )


# --- monitoring visits ---------------------------------------------------------------------


def _open_follow_up() -> Any:
    return and_(
        func.trim(MonitoringVisit.follow_ups) != "", MonitoringVisit.follow_ups_done.is_(False)
    )


def _visits(filters: ReportFilters, *columns: Any) -> Any:
    """Visits to madrasas in the filters and scope, dated in the period; with a manual or
    cohort filter, only visits that observed a class of it."""
    madrasas = filters.madrasas()
    query = (
        select(*columns)
        .select_from(MonitoringVisit)
        .join(madrasas, madrasas.c.id == MonitoringVisit.madrasa_id)
        .where(filters.on_dates(MonitoringVisit.visited_on))
    )
    if filters.manual or filters.cohort_id is not None:
        cohorts = filters.cohorts(in_period=False)
        query = query.join(cohorts, cohorts.c.id == MonitoringVisit.cohort_id)
    return query, madrasas


def compute_visits(filters: ReportFilters) -> Sequence[Table]:
    """Visits, follow-ups and open follow-ups per madrasa (one statement), rolled up."""
    query, _madrasas = _visits(
        filters,
        MonitoringVisit.madrasa_id,
        func.count(MonitoringVisit.id),
        func.count(case((func.trim(MonitoringVisit.follow_ups) != "", 1))),
        func.count(case((_open_follow_up(), 1))),
    )
    per_madrasa = {
        madrasa_id: (int(visits), int(follow_ups), int(open_))
        for madrasa_id, visits, follow_ups, open_ in _execute(
            query.group_by(MonitoringVisit.madrasa_id)
        )
    }
    labels = filters.labels
    region_of = {mid: labels.madrasas.get(mid, ("", None))[1] for mid in per_madrasa}

    def values(ids: Iterable[int]) -> dict[str, Any]:
        chosen = [per_madrasa[mid] for mid in ids]
        return {
            "visits": sum(v for v, _, _ in chosen),
            "madrasas": sum(1 for v, _, _ in chosen if v),
            "follow_ups": sum(f for _, f, _ in chosen),
            "open": sum(o for _, _, o in chosen),
        }

    columns = (
        Column("visits", _l("Visits")),
        Column("madrasas", _l("Madrasas visited"), drill={"what": "madrasas"}),
        Column("follow_ups", _l("With follow-up actions"), drill={"follow_ups": "1"}),
        Column("open", _l("Follow-ups still open"), drill={"open": "1"}),
    )
    total = Row(str(_l("Total")), values(per_madrasa), {}, total=True)
    by_region = [
        Row(
            labels.region(rid),
            values(m for m, r in region_of.items() if r == rid),
            {"region": str(rid)},
        )
        for rid in labels.regions
        if rid in region_of.values()
    ]
    by_madrasa = [
        Row(f"{name} ({labels.region(rid)})", values([mid]), {"madrasa": str(mid)})
        for mid, (name, rid) in labels.madrasas.items()
        if mid in per_madrasa
    ]
    chart = Chart(("visits", "open"))
    return [
        Table("by_region", _l("By region"), _l("Region"), columns, (*by_region, total), chart),
        Table("by_madrasa", _l("By madrasa"), _l("Madrasa"), columns, (*by_madrasa, total)),
    ]


def drill_visits(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    request.only("region", "madrasa", "what", "follow_ups", "open")
    query, madrasas = _visits(
        filters,
        MonitoringVisit.id,
        MonitoringVisit.visited_on,
        Madrasa.name,
        MonitoringVisit.follow_ups,
        MonitoringVisit.follow_ups_done,
    )
    query = query.join(Madrasa, Madrasa.id == MonitoringVisit.madrasa_id)
    region = request.get_int("region")
    if region is not None:
        query = query.where(madrasas.c.region_id == region)
    madrasa = request.get_int("madrasa")
    if madrasa is not None:
        query = query.where(madrasas.c.id == madrasa)
    if request.get("follow_ups") == "1":
        query = query.where(func.trim(MonitoringVisit.follow_ups) != "")
    if request.get("open") == "1":
        query = query.where(_open_follow_up())
    if request.get("what") == "madrasas":
        grouped = (
            query.with_only_columns(Madrasa.id, Madrasa.name, func.count(MonitoringVisit.id))
            .group_by(Madrasa.id, Madrasa.name)
            .order_by(Madrasa.name, Madrasa.id)
        )
        rows, total = request.fetch(grouped)
        return DrillPage(
            (_l("Madrasa"), _l("Visits")),
            [
                (Link(name, url_for("lessons.madrasa_visits", madrasa_id=mid)), count)
                for mid, name, count in rows
            ],
            total,
        )
    rows, total = request.fetch(
        query.order_by(MonitoringVisit.visited_on.desc(), MonitoringVisit.id.desc())
    )
    # "open" and "done" are states of follow-up actions here, not verbs.
    done, open_ = pgettext("follow-up", "done"), pgettext("follow-up", "open")
    none = pgettext("follow-up", "none")
    return DrillPage(
        (_l("Visit"), _l("Madrasa"), _l("Follow-up actions")),
        [
            (
                Link(format_date(day, "medium"), url_for("lessons.visit", visit_id=vid)),
                name,
                str(none if not follow_ups.strip() else done if is_done else open_),
            )
            for vid, day, name, follow_ups, is_done in rows
        ],
        total,
    )
