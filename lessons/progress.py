"""Class progress: the grid a teacher reads, a learner's own figures, a madrasa's summary.

Every function here runs a fixed number of set-based queries (learners, held sessions, the
latest ledger records…) whatever the class size, because a class of forty on a slow
connection must load as fast as a class of five. Who has completed is always decided by
``lms.progress.api.evaluate_completion`` with the cohort's rule, never re-derived here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import joinedload

from lessons.models import EXCUSED, HELD, PRESENT, Attendance, TeachingSession
from lessons.rules import OWN_PREFIX, percent
from lessons.sessions import ITEM_TYPE, OUTCOMES, learners, sessions_of
from lms.accounts.models import User
from lms.accounts.roles import LEARNER_ROLES
from lms.cohorts.models import CLASS, Cohort, Membership
from lms.errors import Invalid
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.plugins import CompletionResult, ProgressItem
from lms.progress import api as progress

ATTENDED, ABSENT_OUTCOME, EXCUSED_OUTCOME = OUTCOMES[PRESENT], "absent", OUTCOMES[EXCUSED]
SEX_KEYS = ("female", "male")

#: Words for the outcomes plugins usually record; anything else is shown as recorded.
OUTCOME_LABELS = {
    "attended": _l("attended"),
    "absent": _l("absent"),
    "excused": _l("excused"),
    "passed": _l("passed"),
    "failed": _l("failed"),
    "completed": _l("completed"),
}


def outcome_label(outcome: str) -> Any:
    return OUTCOME_LABELS.get(outcome, outcome)


# --- progress items --------------------------------------------------------------------------


def session_items(cohort: Cohort) -> list[ProgressItem]:
    """Every held session is a required item, passed by attending it.

    One query for the sessions, and one more for the module titles when any session
    teaches a module.
    """
    from curriculum import api as curriculum

    held = sessions_of(cohort, status=HELD)
    versions = curriculum.versions_by_id(
        sorted({s.module_version_id for s in held if s.module_version_id is not None})
    )
    items = []
    for session in held:
        module = versions.get(session.module_version_id) if session.module_version_id else None
        label = module.title if module is not None else session.title
        items.append(ProgressItem(ITEM_TYPE, str(session.id), label, True, frozenset({ATTENDED})))
    return items


def _completion(cohort: Cohort) -> dict[int, CompletionResult] | None:
    """The cohort's completion, or None when it names a rule nobody registers any more."""
    try:
        return progress.evaluate_completion(cohort)
    except Invalid:
        return None


def _rule_label(cohort: Cohort) -> Any:
    rules = current_app.extensions["lms"].registries.completion_rules
    rule = rules.get(cohort.completion_rule or progress.DEFAULT_RULE)
    return rule.label if rule is not None else cohort.completion_rule


# --- the class grid ----------------------------------------------------------------------------


@dataclass
class ModuleColumn:
    """A module of the cohort's edition; ``held`` sessions taught it, ``present`` learners
    attended at least one of them."""

    slug: str
    title: str
    held: int = 0
    present: int = 0


@dataclass
class ItemColumn:
    """A progress item another plugin declared (a quiz…); ``passed`` learners pass it."""

    item: ProgressItem
    passed: int = 0


@dataclass
class GridRow:
    learner: User
    #: module slug → "attended", "excused", "absent", or None when no session was held
    modules: dict[str, str | None]
    #: sessions outside the edition's modules: attended count
    other_attended: int
    #: item key → (outcome or None, passing)
    items: dict[tuple[str, str], tuple[str | None, bool]]
    attended: int
    percent: int | None
    completion: CompletionResult | None


@dataclass
class Grid:
    """Everything the progress page shows, figures first."""

    cohort: Cohort
    edition: Any
    manual_title: str
    modules: list[ModuleColumn]
    #: held sessions that teach no module of the edition (ToT sessions, another manual)
    other_sessions: int
    item_columns: list[ItemColumn]
    rows: list[GridRow]
    held: int
    rule_label: Any
    completion_known: bool
    learners_by_sex: dict[str, int] = field(default_factory=dict)
    completed_by_sex: dict[str, int] = field(default_factory=dict)
    other_attended: int = 0

    @property
    def learner_count(self) -> int:
        return len(self.rows)

    @property
    def completed(self) -> int:
        return sum(self.completed_by_sex.values())

    @property
    def mean_attendance(self) -> int | None:
        """Mean of the learners' attendance, in whole percent (every learner has the same
        held sessions, so it is attended sessions over learners × sessions)."""
        if not self.rows or not self.held:
            return None
        return round(sum(row.attended for row in self.rows) * 100 / (len(self.rows) * self.held))


def _by_sex(people: Iterable[User]) -> dict[str, int]:
    counts = dict.fromkeys(SEX_KEYS, 0)
    for person in people:
        counts[person.sex] = counts.get(person.sex, 0) + 1
    return counts


def _module_cell(outcomes: list[str | None]) -> str | None:
    if not outcomes:
        return None
    if ATTENDED in outcomes:
        return ATTENDED
    if EXCUSED_OUTCOME in outcomes:
        return EXCUSED_OUTCOME
    return ABSENT_OUTCOME


def cohort_grid(cohort: Cohort, language: str) -> Grid:
    """Learners × the modules of the cohort's edition, other plugins' items, attendance and
    completion, in a number of queries that does not grow with the class."""
    from curriculum import api as curriculum

    edition = (
        curriculum.cohort_edition(cohort.id, cohort.manual, language) if cohort.manual else None
    )
    modules = curriculum.edition_modules(edition.id) if edition is not None else []
    manual = curriculum.get_manual(cohort.manual) if edition is not None else None
    columns = {m.module_slug: ModuleColumn(m.module_slug, m.title) for m in modules}

    people = learners(cohort)
    held = sessions_of(cohort, status=HELD)
    versions = curriculum.versions_by_id(
        sorted({s.module_version_id for s in held if s.module_version_id is not None})
    )
    column_of: dict[int, str | None] = {}
    for session in held:
        version = versions.get(session.module_version_id) if session.module_version_id else None
        slug = version.module_slug if version is not None else None
        column_of[session.id] = slug if slug in columns else None
        if slug in columns:
            columns[slug].held += 1
    other_sessions = sum(1 for slug in column_of.values() if slug is None)

    item_columns = [
        ItemColumn(item)
        for item in progress.progress_items(cohort)
        if not item.item_type.startswith(OWN_PREFIX)
    ]
    latest = progress.latest_for_cohort(cohort.id)
    completion = _completion(cohort)

    rows: list[GridRow] = []
    for person in people:
        per_module: dict[str, list[str | None]] = {slug: [] for slug in columns}
        attended = other_attended = 0
        for session in held:
            record = latest.get((person.id, ITEM_TYPE, str(session.id)))
            outcome = record.outcome if record is not None else None
            slug = column_of[session.id]
            if slug is not None:
                per_module[slug].append(outcome)
            if outcome == ATTENDED:
                attended += 1
                if slug is None:
                    other_attended += 1
        cells = {slug: _module_cell(outcomes) for slug, outcomes in per_module.items()}
        items: dict[tuple[str, str], tuple[str | None, bool]] = {}
        for column in item_columns:
            record = latest.get((person.id, *column.item.key))
            passing = record is not None and record.outcome in column.item.passing_outcomes
            items[column.item.key] = (record.outcome if record is not None else None, passing)
            column.passed += passing
        for slug, cell in cells.items():
            columns[slug].present += cell == ATTENDED
        rows.append(
            GridRow(
                learner=person,
                modules=cells,
                other_attended=other_attended,
                items=items,
                attended=attended,
                percent=percent(attended, len(held)),
                completion=completion.get(person.id) if completion is not None else None,
            )
        )
    done = [row.learner for row in rows if row.completion is not None and row.completion.completed]
    return Grid(
        cohort=cohort,
        edition=edition,
        manual_title=manual.title if manual is not None else "",
        modules=list(columns.values()),
        other_sessions=other_sessions,
        item_columns=item_columns,
        rows=rows,
        held=len(held),
        rule_label=_rule_label(cohort),
        completion_known=completion is not None,
        learners_by_sex=_by_sex(people),
        completed_by_sex=_by_sex(done),
        other_attended=sum(row.other_attended for row in rows),
    )


# --- a learner's own progress --------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerCohort:
    """One cohort a person learns in, with their attendance (and completion, when asked)."""

    cohort: Cohort
    role: str
    held: int
    attended: int
    completion: CompletionResult | None = None

    @property
    def percent(self) -> int | None:
        return percent(self.attended, self.held)


def _held_counts(cohort_ids: list[int]) -> dict[int, int]:
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        select(TeachingSession.cohort_id, func.count())
        .where(TeachingSession.cohort_id.in_(cohort_ids), TeachingSession.status == HELD)
        .group_by(TeachingSession.cohort_id)
    )
    return {cohort_id: n for cohort_id, n in rows}


def learner_cohorts(user: User, *, with_completion: bool = True) -> list[LearnerCohort]:
    """The cohorts ``user`` learns in, newest first: three queries, plus one completion
    evaluation per cohort when ``with_completion`` (a person learns in a few cohorts)."""
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.cohort)
            .where(Membership.user_id == user.id, Membership.role.in_(LEARNER_ROLES))
            .options(joinedload(Membership.cohort))
            .order_by(Cohort.archived, Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )
    ids = [m.cohort_id for m in memberships]
    held = _held_counts(ids)
    attended: dict[int, int] = {}
    if ids:
        attended = {
            cohort_id: n
            for cohort_id, n in db.session.execute(
                select(TeachingSession.cohort_id, func.count())
                .join(Attendance, Attendance.session_id == TeachingSession.id)
                .where(
                    TeachingSession.cohort_id.in_(ids),
                    TeachingSession.status == HELD,
                    Attendance.user_id == user.id,
                    Attendance.status == PRESENT,
                )
                .group_by(TeachingSession.cohort_id)
            )
        }
    result = []
    for membership in memberships:
        completion = None
        if with_completion:
            evaluated = _completion(membership.cohort)
            completion = evaluated.get(user.id) if evaluated is not None else None
        result.append(
            LearnerCohort(
                cohort=membership.cohort,
                role=membership.role,
                held=held.get(membership.cohort_id, 0),
                attended=attended.get(membership.cohort_id, 0),
                completion=completion,
            )
        )
    return result


# --- a madrasa's classes ---------------------------------------------------------------------


@dataclass
class ClassSummary:
    """One class of a madrasa: learners, lessons held, mean attendance, who completed."""

    cohort: Cohort
    learners_by_sex: dict[str, int]
    held: int = 0
    #: present marks of current learners at held sessions
    present: int = 0
    completed_by_sex: dict[str, int] | None = None

    @property
    def learners(self) -> int:
        return sum(self.learners_by_sex.values())

    @property
    def mean_attendance(self) -> int | None:
        if not self.learners or not self.held:
            return None
        return round(self.present * 100 / (self.learners * self.held))

    @property
    def completed(self) -> int | None:
        return None if self.completed_by_sex is None else sum(self.completed_by_sex.values())


@dataclass
class MadrasaSummary:
    madrasa: Madrasa
    classes: list[ClassSummary]

    def _total(self, key: str, sex: str) -> int:
        return sum((getattr(c, key) or {}).get(sex, 0) for c in self.classes)

    @property
    def learners_by_sex(self) -> dict[str, int]:
        return {sex: self._total("learners_by_sex", sex) for sex in SEX_KEYS}

    @property
    def completed_by_sex(self) -> dict[str, int]:
        return {sex: self._total("completed_by_sex", sex) for sex in SEX_KEYS}

    @property
    def held(self) -> int:
        return sum(c.held for c in self.classes)

    @property
    def mean_attendance(self) -> int | None:
        """Over every learner of every class, each weighted by their class's lessons."""
        possible = sum(c.learners * c.held for c in self.classes)
        return round(sum(c.present for c in self.classes) * 100 / possible) if possible else None


def madrasa_summary(madrasa: Madrasa) -> MadrasaSummary:
    """The madrasa's classes with their figures: the classes, their learners, and one
    aggregate query for lessons and attendance; completion is evaluated per class by its
    own rule (a madrasa has a handful of classes)."""
    classes = list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.madrasa_id == madrasa.id, Cohort.kind == CLASS)
            .order_by(Cohort.archived, Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )
    ids = [c.id for c in classes]
    summaries = {c.id: ClassSummary(c, dict.fromkeys(SEX_KEYS, 0)) for c in classes}
    if not ids:
        return MadrasaSummary(madrasa, [])
    sex_of: dict[int, str] = {}
    for cohort_id, user_id, sex in db.session.execute(
        select(Membership.cohort_id, User.id, User.sex)
        .join(User, User.id == Membership.user_id)
        .where(Membership.cohort_id.in_(ids), Membership.role.in_(LEARNER_ROLES))
    ):
        counts = summaries[cohort_id].learners_by_sex
        counts[sex] = counts.get(sex, 0) + 1
        sex_of[user_id] = sex
    learner = and_(
        Membership.cohort_id == TeachingSession.cohort_id,
        Membership.user_id == Attendance.user_id,
        Membership.role.in_(LEARNER_ROLES),
    )
    for cohort_id, held, present in db.session.execute(
        select(
            TeachingSession.cohort_id,
            func.count(distinct(TeachingSession.id)),
            func.count(Membership.id),
        )
        .select_from(TeachingSession)
        .outerjoin(
            Attendance,
            and_(Attendance.session_id == TeachingSession.id, Attendance.status == PRESENT),
        )
        .outerjoin(Membership, learner)
        .where(TeachingSession.cohort_id.in_(ids), TeachingSession.status == HELD)
        .group_by(TeachingSession.cohort_id)
    ):
        summaries[cohort_id].held, summaries[cohort_id].present = held, present
    for cohort in classes:
        evaluated = _completion(cohort)
        if evaluated is None:
            continue
        done = dict.fromkeys(SEX_KEYS, 0)
        for user_id, result in evaluated.items():
            if result.completed and user_id in sex_of:
                done[sex_of[user_id]] = done.get(sex_of[user_id], 0) + 1
        summaries[cohort.id].completed_by_sex = done
    return MadrasaSummary(madrasa, [summaries[c.id] for c in classes])
