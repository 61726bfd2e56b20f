"""Monitoring visits: an officer's visit to a madrasa, an observed lesson, a checklist.

The checklist is data (``CHECKLIST``), so adding an item needs no migration: a visit stores
item id → score, and items not observed are left out (they do not pull the average down).
Lists are filtered in SQL by the madrasas the officer may monitor (``visible_scope``), the
same way the madrasa pages are. A finding about the manual goes to the curriculum team's
feedback inbox through ``curriculum.api`` in the same transaction as the visit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date, to_user_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from curriculum import api as curriculum
from lessons.models import MonitoringVisit
from lms.accounts.models import User
from lms.accounts.permissions import can
from lms.audit import services as audit
from lms.cohorts.models import CLASS, Cohort
from lms.errors import Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.organisations.models import Madrasa, Region
from lms.organisations.services import madrasa_clause, visible_scope

PERMISSION = "lessons.monitor"
MAX_TEXT = 10_000
MAX_VISITORS = 2_000


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    label: Any


#: What an officer looks for in an observed lesson. Ids are stored with each visit: add new
#: items freely, but never rename or reuse an id.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("lesson_plan", _l("The teacher has prepared a lesson plan")),
    ChecklistItem("uses_manual", _l("The teacher uses the manual")),
    ChecklistItem("interactive_methods", _l("Interactive methods are used")),
    ChecklistItem("students_participate", _l("Students take an active part")),
    ChecklistItem("gender_balance", _l("Girls and boys take part equally")),
    ChecklistItem("materials", _l("Teaching materials are available")),
    ChecklistItem("safe_environment", _l("The classroom is safe and respectful")),
)
CHECKLIST_IDS = frozenset(item.id for item in CHECKLIST)
#: The scale, lowest first. "Not observed" is no score at all.
SCORES: dict[int, Any] = {
    1: _l("Not in place"),
    2: _l("Partly"),
    3: _l("Mostly"),
    4: _l("Fully"),
}
MAX_SCORE = max(SCORES)


def checklist_average(checklist: Mapping[str, int] | None) -> float | None:
    """The mean of the scored items, or None when nothing was scored."""
    scores = [v for v in (checklist or {}).values() if isinstance(v, int)]
    return sum(scores) / len(scores) if scores else None


def has_open_follow_ups(visit: MonitoringVisit) -> bool:
    return bool(visit.follow_ups.strip()) and not visit.follow_ups_done


def local_today() -> date:
    """Today in the app's time zone (Bishkek), so an evening entry is not "in the future"."""
    return to_user_timezone(datetime.now(UTC)).date()


# --- what an officer may see -----------------------------------------------------------------


def visible_madrasas(user: Any, *, region_id: int | None = None) -> list[Madrasa]:
    """Madrasas ``user`` may monitor, by region and name (one query)."""
    query = (
        select(Madrasa)
        .join(Madrasa.region)
        .where(madrasa_clause(visible_scope(user, PERMISSION)))
        .options(joinedload(Madrasa.region))
        .order_by(Region.position, Madrasa.name, Madrasa.id)
    )
    if region_id is not None:
        query = query.where(Madrasa.region_id == region_id)
    return list(db.session.scalars(query))


def visible_regions(user: Any) -> list[Region]:
    """Regions holding at least one madrasa the user may monitor (for the filter)."""
    scope = visible_scope(user, PERMISSION)
    inside = select(Madrasa.region_id).where(madrasa_clause(scope))
    return list(
        db.session.scalars(
            select(Region).where(Region.id.in_(inside)).order_by(Region.position, Region.id)
        )
    )


def visit_query(
    user: Any,
    *,
    region_id: int | None = None,
    madrasa_id: int | None = None,
    open_only: bool = False,
) -> Select[tuple[MonitoringVisit]]:
    """Visits to madrasas ``user`` may monitor, newest first, filtered in SQL."""
    query = (
        select(MonitoringVisit)
        .join(Madrasa, Madrasa.id == MonitoringVisit.madrasa_id)
        .where(madrasa_clause(visible_scope(user, PERMISSION)))
        .options(
            joinedload(MonitoringVisit.madrasa).joinedload(Madrasa.region),
            joinedload(MonitoringVisit.officer),
            joinedload(MonitoringVisit.cohort),
        )
        .order_by(MonitoringVisit.visited_on.desc(), MonitoringVisit.id.desc())
    )
    if region_id is not None:
        query = query.where(Madrasa.region_id == region_id)
    if madrasa_id is not None:
        query = query.where(MonitoringVisit.madrasa_id == madrasa_id)
    if open_only:
        query = query.where(
            MonitoringVisit.follow_ups != "", MonitoringVisit.follow_ups_done.is_(False)
        )
    return query


def get_visit(visit_id: int) -> MonitoringVisit:
    found = db.session.scalars(
        select(MonitoringVisit)
        .where(MonitoringVisit.id == visit_id)
        .options(
            joinedload(MonitoringVisit.madrasa).joinedload(Madrasa.region),
            joinedload(MonitoringVisit.officer),
            joinedload(MonitoringVisit.cohort),
        )
    ).one_or_none()
    if found is None:
        raise NotFound()
    return found


def get_madrasa(madrasa_id: int) -> Madrasa:
    found = db.session.get(Madrasa, madrasa_id)
    if found is None:
        raise NotFound()
    return found


# --- the lesson observed: classes of the madrasa and the modules of their editions ---------


@dataclass(frozen=True)
class EditionModules:
    """One edition taught in the madrasa, with its modules, for grouped selects."""

    edition: curriculum.EditionInfo
    label: str
    modules: list[curriculum.ModuleInfo]


@dataclass
class LessonChoices:
    """The classes of a madrasa, the edition each teaches from and those editions' modules."""

    classes: list[Cohort] = field(default_factory=list)
    edition_of: dict[int, int] = field(default_factory=dict)
    editions: dict[int, EditionModules] = field(default_factory=dict)

    def modules_of_class(self, cohort_id: int) -> set[int]:
        edition_id = self.edition_of.get(cohort_id)
        found = self.editions.get(edition_id) if edition_id is not None else None
        return {m.version_id for m in found.modules} if found else set()

    @property
    def all_modules(self) -> set[int]:
        return {m.version_id for e in self.editions.values() for m in e.modules}


def lesson_choices(madrasa: Madrasa, language: str) -> LessonChoices:
    """What the officer can pick as the observed lesson, in the page's language."""
    classes = list(
        db.session.scalars(
            select(Cohort)
            .where(
                Cohort.madrasa_id == madrasa.id, Cohort.kind == CLASS, Cohort.archived.is_(False)
            )
            .order_by(Cohort.name, Cohort.id)
        )
    )
    choices = LessonChoices(classes=classes)
    titles = {c.value: str(c.label) for c in curriculum.manual_choices()}
    for cohort in classes:
        edition = curriculum.cohort_edition(cohort.id, cohort.manual, language)
        if edition is None:
            continue
        choices.edition_of[cohort.id] = edition.id
        if edition.id not in choices.editions:
            label = str(
                _l(
                    "%(manual)s, edition %(n)s (%(lang)s)",
                    manual=titles.get(edition.manual_slug, edition.manual_slug),
                    n=edition.number,
                    lang=edition.language,
                )
            )
            choices.editions[edition.id] = EditionModules(
                edition, label, curriculum.edition_modules(edition.id)
            )
    return choices


# --- recording a visit ------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFields:
    """What the visit form sends; the keys of field errors are these names."""

    visited_on: date | None
    visitors: str = ""
    cohort_id: int | None = None
    module_version_id: int | None = None
    #: checklist item id → score, or None for "not observed"
    checklist: Mapping[str, int | None] = field(default_factory=dict)
    findings: str = ""
    follow_ups: str = ""
    #: A finding about the manual, for the curriculum team.
    finding_text: str = ""
    finding_module_id: int | None = None
    finding_paragraph: str = ""


def _paragraph_id(version_id: int, raw: str) -> str | None:
    """A paragraph given as its number in the module (1, 2, …) or its id; None if unknown."""
    info = curriculum.module_version(version_id, with_blocks=True)
    if info is None:
        return None
    ids = [block_id for block_id, *_ in info.blocks]
    if raw.isdigit():
        n = int(raw)
        return ids[n - 1] if 1 <= n <= len(ids) else None
    return raw if raw in ids else None


def _check(
    fields: VisitFields, choices: LessonChoices
) -> tuple[dict[str, list[Any]], dict[str, int], str]:
    """Field errors, the clean checklist and the finding's paragraph id."""
    errors: dict[str, list[Any]] = {}

    def error(key: str, message: Any) -> None:
        errors.setdefault(key, []).append(message)

    if fields.visited_on is None:
        error("visited_on", _l("Enter the date of the visit."))
    elif fields.visited_on > local_today():
        error("visited_on", _l("The date of a visit cannot be in the future."))
    if len(fields.visitors) > MAX_VISITORS:
        error("visitors", _l("Use at most %(n)s characters.", n=MAX_VISITORS))
    for key in ("findings", "follow_ups", "finding_text"):
        if len(getattr(fields, key)) > MAX_TEXT:
            error(key, _l("Use at most %(n)s characters.", n=MAX_TEXT))

    if fields.cohort_id is not None and fields.cohort_id not in {c.id for c in choices.classes}:
        error("cohort_id", _l("Choose a class of this madrasa."))
    if fields.module_version_id is not None:
        if fields.cohort_id is None:
            error("module_version_id", _l("Choose the class first, then its module."))
        elif fields.module_version_id not in choices.modules_of_class(fields.cohort_id):
            error("module_version_id", _l("Choose a module of the manual this class studies."))

    checklist: dict[str, int] = {}
    for item_id, score in fields.checklist.items():
        if item_id not in CHECKLIST_IDS:
            raise Invalid(_l("The checklist has changed. Reload the page and try again."))
        if score is None:
            continue
        if score not in SCORES:
            error(f"score_{item_id}", _l("Choose a score from the scale."))
        else:
            checklist[item_id] = score
    if not checklist and not fields.findings.strip():
        error("findings", _l("Score at least one checklist item or write the findings."))

    paragraph = ""
    wants_finding = bool(
        fields.finding_text.strip() or fields.finding_module_id or fields.finding_paragraph.strip()
    )
    if wants_finding:
        if not fields.finding_text.strip():
            error("finding_text", _l("Write what you found about the manual."))
        if fields.finding_module_id is None:
            error("finding_module_id", _l("Choose the module the finding is about."))
        elif fields.finding_module_id not in choices.all_modules:
            error("finding_module_id", _l("Choose a module of a manual taught in this madrasa."))
        elif raw := fields.finding_paragraph.strip():
            found = _paragraph_id(fields.finding_module_id, raw)
            if found is None:
                error(
                    "finding_paragraph",
                    _l(
                        "This module has no paragraph %(p)s. Give its number, or leave it empty.",
                        p=raw,
                    ),
                )
            else:
                paragraph = found
    return errors, checklist, paragraph


def record_visit(
    officer: User, madrasa: Madrasa, fields: VisitFields, *, language: str
) -> tuple[MonitoringVisit, int | None]:
    """Save a visit (not committed) and send its finding about the manual, if any.

    Returns the visit and the curriculum feedback number. Raises ``NotAllowed`` outside the
    officer's madrasas and ``Invalid`` with field errors; audited.
    """
    if not can(officer, PERMISSION, madrasa):
        raise NotAllowed()
    choices = lesson_choices(madrasa, language)
    errors, checklist, paragraph = _check(fields, choices)
    if errors:
        raise Invalid(field_errors=errors)
    visit = MonitoringVisit(
        madrasa_id=madrasa.id,
        visited_on=fields.visited_on,
        officer_id=officer.id,
        visitors=fields.visitors.strip(),
        cohort_id=fields.cohort_id,
        module_version_id=fields.module_version_id,
        checklist=checklist,
        findings=fields.findings.strip(),
        follow_ups=fields.follow_ups.strip(),
        follow_ups_done=False,
    )
    db.session.add(visit)
    db.session.flush()
    feedback_id = None
    if fields.finding_text.strip() and fields.finding_module_id is not None:
        feedback_id = _send_finding(visit, madrasa, fields, paragraph, officer)
    audit.record(
        "visit.record",
        "monitoring_visit",
        visit.id,
        actor_id=officer.id,
        details={
            "madrasa_id": madrasa.id,
            "visited_on": visit.visited_on.isoformat(),
            "cohort_id": visit.cohort_id,
            "module_version_id": visit.module_version_id,
            "feedback_id": feedback_id,
        },
    )
    return visit, feedback_id


def _send_finding(
    visit: MonitoringVisit, madrasa: Madrasa, fields: VisitFields, paragraph: str, officer: User
) -> int:
    """The finding goes to the curriculum inbox with where and when it was seen."""
    assert fields.finding_module_id is not None and visit.visited_on is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    context = _l(
        "Seen on a monitoring visit to %(madrasa)s on %(date)s.",
        madrasa=madrasa.name,
        date=format_date(visit.visited_on),
    )
    try:
        return curriculum.give_feedback(
            fields.finding_module_id,
            author_id=officer.id,
            source="monitoring",
            body=f"{fields.finding_text.strip()}\n\n{context}",
            paragraph_id=paragraph,
        )
    except Invalid as error:  # the curriculum's names for the same fields
        names = {
            "module_version_id": "finding_module_id",
            "paragraph_id": "finding_paragraph",
            "body": "finding_text",
        }
        raise Invalid(
            error.message,
            field_errors={names.get(k, k): v for k, v in error.field_errors.items()},
        ) from None


def set_follow_ups_done(visit: MonitoringVisit, done: bool, *, actor: User) -> bool:
    """Mark the follow-up actions done (or open again); audited. False when nothing changed."""
    if not can(actor, PERMISSION, visit.madrasa):
        raise NotAllowed()
    if not visit.follow_ups.strip():
        raise Invalid(_l("This visit has no follow-up actions."))
    if visit.follow_ups_done == done:
        return False
    visit.follow_ups_done = done
    audit.record(
        "visit.follow_ups_done" if done else "visit.follow_ups_reopened",
        "monitoring_visit",
        visit.id,
        actor_id=actor.id,
        details={"madrasa_id": visit.madrasa_id},
    )
    return True
