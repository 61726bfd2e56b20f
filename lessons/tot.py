"""The three-day Training of Trainers: the default plan as data, and creating a ToT from it.

Stage I teaches the basics of effective training and interactive methods; stage II is one
master class per module of the manual, each followed by an analysis of its content and
method; stage III lets participants teach a module and the group review it; stage IV ends
with discussion and recommendations for the manual. Master classes are split between
days 1 and 2 and practice lessons between days 2 and 3, so every day stays teachable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from curriculum import api as curriculum
from lessons.models import TOT_STAGES, TeachingSession
from lessons.sessions import plan_session
from lms.accounts.models import User
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.cohorts import services as cohort_services
from lms.cohorts.models import TOT, Cohort, Membership
from lms.config import LANGUAGES
from lms.errors import Invalid, NotAllowed
from lms.extensions import db

DAYS = 3
STAGE_LABELS: dict[str, Any] = {
    "I": _l("Basics of effective training and interactive methods"),
    "II": _l("Master classes by the manual's authors"),
    "III": _l("Practice lessons"),
    "IV": _l("Discussion and recommendations"),
}
assert tuple(STAGE_LABELS) == TOT_STAGES  # nosec B101  # two constants agree; not a security check

#: How a part of the template turns into sessions.
FIXED, MASTER_CLASS, PRACTICE = "fixed", "master-class", "practice"
#: Length of a module session whose module gives no duration.
DEFAULT_MODULE_MINUTES = 45


@dataclass(frozen=True)
class TemplatePart:
    """One part of a day: a fixed session, or a module session (plus its review) per module
    of one half of the edition's modules (``half`` 1 or 2)."""

    day: int
    stage: str
    kind: str
    title: Any = ""
    minutes: int = 0
    half: int = 0
    #: The session after each module session (analysis or group review) and its length.
    follow_up: Any = ""
    follow_up_minutes: int = 0


#: The default ToT, in order.
_MASTER = _l("Master class: %(module)s")
_ANALYSIS = _l("Analysis of content and method")
_PRACTICE = _l("Practice lesson: %(module)s")
_REVIEW = _l("Group review of content and methodology")
TEMPLATE: tuple[TemplatePart, ...] = (
    TemplatePart(1, "I", FIXED, _l("Basics of effective training"), minutes=90),
    TemplatePart(1, "I", FIXED, _l("Interactive methods"), minutes=90),
    TemplatePart(1, "II", MASTER_CLASS, _MASTER, half=1, follow_up=_ANALYSIS, follow_up_minutes=30),
    TemplatePart(2, "II", MASTER_CLASS, _MASTER, half=2, follow_up=_ANALYSIS, follow_up_minutes=30),
    TemplatePart(2, "III", PRACTICE, _PRACTICE, half=1, follow_up=_REVIEW, follow_up_minutes=30),
    TemplatePart(3, "III", PRACTICE, _PRACTICE, half=2, follow_up=_REVIEW, follow_up_minutes=30),
    TemplatePart(3, "IV", FIXED, _l("Discussion and recommendations"), minutes=120),
)


@dataclass(frozen=True)
class PlannedSession:
    """One session of a plan, before (or without) being saved."""

    day: int
    position: int
    stage: str
    title: str
    minutes: int
    module_version_id: int | None
    held_on: date | None


def _halves(modules: list[curriculum.ModuleInfo]) -> dict[int, list[curriculum.ModuleInfo]]:
    middle = (len(modules) + 1) // 2
    return {1: modules[:middle], 2: modules[middle:]}


def _minutes(module: curriculum.ModuleInfo) -> int:
    return min(max(module.duration_minutes or DEFAULT_MODULE_MINUTES, 1), 600)


def build_plan(
    modules: list[curriculum.ModuleInfo], starts_on: date | None
) -> list[PlannedSession]:
    """Expand the template over the edition's modules; titles in the current locale."""
    halves = _halves(modules)
    plan: list[PlannedSession] = []
    positions = dict.fromkeys(range(1, DAYS + 1), 0)

    def add(part: TemplatePart, title: str, minutes: int, version_id: int | None) -> None:
        positions[part.day] += 1
        held_on = starts_on + timedelta(days=part.day - 1) if starts_on else None
        plan.append(
            PlannedSession(
                part.day, positions[part.day], part.stage, title, minutes, version_id, held_on
            )
        )

    for part in TEMPLATE:
        if part.kind == FIXED:
            add(part, str(part.title), part.minutes, None)
            continue
        for module in halves[part.half]:
            title = str(part.title) % {"module": module.title}
            add(part, title, _minutes(module), module.version_id)
            add(part, str(part.follow_up), part.follow_up_minutes, module.version_id)
    return plan


def plan_by_day(plan: Iterable[PlannedSession]) -> dict[int, dict[str, list[PlannedSession]]]:
    """day → stage → sessions, for the preview and the schedule page."""
    days: dict[int, dict[str, list[PlannedSession]]] = {}
    for item in plan:
        days.setdefault(item.day, {}).setdefault(item.stage, []).append(item)
    return days


def edition_for(manual_slug: str, language: str, cohort_id: int = 0) -> Any:
    """The edition a (new) ToT would teach from, or None when nothing is published."""
    if not manual_slug or curriculum.get_manual(manual_slug) is None:
        return None
    return curriculum.cohort_edition(cohort_id, manual_slug, language)


def preview(manual_slug: str, language: str, starts_on: date | None) -> list[PlannedSession]:
    """The sessions the form would create, titled in the ToT's language (empty: no edition)."""
    edition = edition_for(manual_slug, language)
    if edition is None:
        return []
    with force_locale(language if language in LANGUAGES else "en"):
        return build_plan(curriculum.edition_modules(edition.id), starts_on)


def create_tot_from_template(
    actor: User,
    name: str,
    region_id: int | None,
    venue: str,
    starts_on: date | None,
    manual_slug: str,
    language: str,
) -> Cohort:
    """Create the ToT cohort (the creating trainer joins it) and plan all its sessions.

    Everything happens in one savepoint, so a validation error anywhere creates nothing;
    the cohort goes through the cohort service so its checks and rights apply unchanged.
    """
    errors: dict[str, list[Any]] = {}
    if language not in LANGUAGES:
        errors["language"] = [_l("Choose the language of the training.")]
    edition = None
    if not manual_slug:
        errors["manual"] = [_l("Choose the manual the training teaches.")]
    elif language in LANGUAGES:
        edition = edition_for(manual_slug, language)
        if edition is None and curriculum.get_manual(manual_slug) is not None:
            errors["manual"] = [_l("No edition of this manual has been published yet.")]
    fields = cohort_services.CohortFields(
        name=name,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=DAYS - 1) if starts_on else None,
        region_id=region_id,
        venue=venue,
        manual=manual_slug,
    )
    with db.session.begin_nested():
        try:
            cohort = cohort_services.create_cohort(actor, TOT, fields)
        except Invalid as error:
            for key, messages in error.field_errors.items():
                errors.setdefault(key, []).extend(messages)
            raise Invalid(field_errors=errors) from None
        if errors or edition is None:
            raise Invalid(field_errors=errors or {"manual": [_l("Choose a published manual.")]})
        with force_locale(language):
            plan = build_plan(curriculum.edition_modules(edition.id), starts_on)
        for item in plan:
            plan_session(
                cohort,
                held_on=item.held_on,
                module_version_id=item.module_version_id,
                title=item.title,
                duration_minutes=item.minutes,
                stage=item.stage,
                day=item.day,
                position=item.position,
                actor_id=actor.id,
            )
        audit.record(
            "tot.create_from_template",
            "cohort",
            cohort.id,
            actor_id=actor.id,
            details={"edition": edition.id, "language": language, "sessions": len(plan)},
        )
    return cohort


def tot_sessions(cohort: Cohort) -> dict[int, dict[str, list[TeachingSession]]]:
    """The cohort's ToT sessions: day → stage → sessions in order."""
    rows = db.session.scalars(
        select(TeachingSession)
        .where(TeachingSession.cohort_id == cohort.id, TeachingSession.stage.is_not(None))
        .order_by(TeachingSession.day, TeachingSession.position, TeachingSession.id)
    )
    days: dict[int, dict[str, list[TeachingSession]]] = {}
    for row in rows:
        days.setdefault(row.day or 0, {}).setdefault(row.stage or "", []).append(row)
    return days


def cohort_language(cohort: Cohort) -> str:
    """The language the cohort studies in: that of its planned modules, else the page's."""
    version_id = db.session.scalar(
        select(TeachingSession.module_version_id)
        .where(
            TeachingSession.cohort_id == cohort.id, TeachingSession.module_version_id.is_not(None)
        )
        .order_by(TeachingSession.id)
        .limit(1)
    )
    if version_id is not None:
        info = curriculum.versions_by_id([version_id]).get(version_id)
        if info is not None:
            return info.language
    return str(get_locale() or "en")


def cohort_modules(cohort: Cohort, *, with_blocks: bool = False) -> list[curriculum.ModuleInfo]:
    """The modules of the edition the cohort teaches from (empty without one)."""
    edition = edition_for(cohort.manual, cohort_language(cohort), cohort.id)
    if edition is None:
        return []
    return curriculum.edition_modules(edition.id, with_blocks=with_blocks)


# --- stage IV: recommendations for the manual ----------------------------------------------

RECOMMEND_ACTION = "tot.recommend"
MAX_RECOMMENDATION = 5000


@dataclass(frozen=True)
class Recommendation:
    """A recommendation the cohort sent to the curriculum team, as the ToT page lists it."""

    feedback_id: int
    author: str
    version_id: int
    module: str
    paragraph_id: str
    body: str
    sent_at: Any


def is_member(cohort: Cohort, user: User) -> bool:
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.cohort_id == cohort.id, Membership.user_id == user.id
            )
        )
        is not None
    )


def recommend(
    cohort: Cohort, author: User, *, module_version_id: int | None, paragraph_id: str, body: str
) -> int:
    """Send a member's recommendation on a module (and paragraph) to the curriculum inbox.

    The curriculum keeps the feedback; an audit entry on the cohort remembers that this
    cohort sent it, so the ToT page can list its recommendations without curriculum tables.
    """
    if not is_member(cohort, author):
        raise NotAllowed(_l("Only the trainers and participants of this ToT send recommendations."))
    errors: dict[str, list[Any]] = {}
    if module_version_id not in {m.version_id for m in cohort_modules(cohort)}:
        errors["module_version_id"] = [_l("Choose a module of the cohort's edition.")]
    body = (body or "").strip()
    if not body:
        errors["body"] = [_l("Write the recommendation.")]
    elif len(body) > MAX_RECOMMENDATION:
        errors["body"] = [_l("Use at most %(n)s characters.", n=MAX_RECOMMENDATION)]
    if errors:
        raise Invalid(field_errors=errors)
    assert module_version_id is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    feedback_id = curriculum.give_feedback(
        module_version_id, author_id=author.id, source="tot", body=body, paragraph_id=paragraph_id
    )
    audit.record(
        RECOMMEND_ACTION,
        "cohort",
        cohort.id,
        actor_id=author.id,
        details={
            "feedback": feedback_id,
            "version": module_version_id,
            "paragraph": paragraph_id,
            "body": body,
        },
    )
    return feedback_id


def recommendations(cohort: Cohort) -> list[Recommendation]:
    """The cohort's recommendations, newest first (three queries)."""
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == RECOMMEND_ACTION,
                AuditEntry.object_type == "cohort",
                AuditEntry.object_id == str(cohort.id),
            )
            .order_by(AuditEntry.id.desc())
        )
    )
    authors = {
        user.id: user.name
        for user in db.session.scalars(
            select(User).where(User.id.in_({e.actor_id for e in entries if e.actor_id}))
        )
    }
    versions = curriculum.versions_by_id(sorted({int(e.details["version"]) for e in entries}))
    result = []
    for entry in entries:
        details = entry.details or {}
        version = versions.get(int(details["version"]))
        result.append(
            Recommendation(
                feedback_id=int(details["feedback"]),
                author=authors.get(entry.actor_id or 0, ""),
                version_id=int(details["version"]),
                module=version.title if version else "",
                paragraph_id=str(details.get("paragraph", "")),
                body=str(details.get("body", "")),
                sent_at=entry.at,
            )
        )
    return result


def paragraph_excerpts(items: Iterable[Recommendation]) -> dict[tuple[int, str], str]:
    """(version id, paragraph id) → "number. start of the text", for the list of sent ones."""
    wanted: dict[int, set[str]] = {}
    for item in items:
        if item.paragraph_id:
            wanted.setdefault(item.version_id, set()).add(item.paragraph_id)
    found: dict[tuple[int, str], str] = {}
    for version_id, paragraph_ids in wanted.items():
        version = curriculum.module_version(version_id)
        for number, (block_id, _kind, text, _html) in enumerate(version.blocks if version else []):
            if block_id in paragraph_ids:
                flat = " ".join(text.split()).lstrip("# ")
                short = flat if len(flat) <= 80 else flat[:79].rstrip() + "…"
                found[(version_id, block_id)] = f"{number + 1}. {short}"
    return found
