"""Lesson plans: the timed outline a teacher prints before class, read from a module.

Modules are written for reading, not for timing, so the plan is recovered from the text:
paragraphs that open with a bold "Step N (M minutes). Title." (in the module's language),
the activity blocks between them, and the list under "Questions for discussion". Only
published text is planned, reached through ``curriculum.api`` like every other plugin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import lazy_gettext as _l

from curriculum import api as curriculum
from curriculum.api import EditionInfo, ModuleInfo
from lessons.services import groups_led_by
from lms.cohorts.models import Cohort
from lms.config import LANGUAGES
from lms.errors import NotFound

#: Labels of activity kinds (the curriculum's own words, so the catalogues already have them).
ACTIVITY_LABELS: dict[str, Any] = {
    "group-work": _l("Group work"),
    "role-play": _l("Role play"),
    "discussion": _l("Discussion"),
    "case-study": _l("Case study"),
    "reflection": _l("Reflection"),
    "energiser": _l("Energiser"),
}

_HYPHEN = r"[-\u2010\u2011\u2012\u2013]"
_UNITS = {
    "en": r"min(?:ute)?s?\.?",
    "ru": r"мин(?:ут[аы]?|\.)?",
    "ky": r"мүн(?:өт|\.)?",
}
_ANY_UNIT = "(?:" + "|".join(_UNITS.values()) + ")"
_FLAGS = re.IGNORECASE | re.UNICODE

# The step's bold lead-in; the title is whatever bold text follows the time.
_STEP_TAIL = r"\)\s*[.:]?\s*(?P<title>[^*]*?)\s*\*\*"
STEP_PATTERNS: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"^\*\*\s*step\s+(?P<number>\d+)\s*\(\s*(?P<minutes>\d+)\s*" + _UNITS["en"] + _STEP_TAIL,
        _FLAGS,
    ),
    "ru": re.compile(
        r"^\*\*\s*шаг\s+(?P<number>\d+)\s*\(\s*(?P<minutes>\d+)\s*" + _UNITS["ru"] + _STEP_TAIL,
        _FLAGS,
    ),
    "ky": re.compile(
        r"^\*\*\s*(?P<number>\d+)\s*"
        + _HYPHEN
        + r"\s*кадам\s*\(\s*(?P<minutes>\d+)\s*"
        + _UNITS["ky"]
        + _STEP_TAIL,
        _FLAGS,
    ),
}

#: An activity's bold lead-in: "**Group work (15 minutes, inside Step 2).**"
ACTIVITY_PATTERN = re.compile(
    r"^\*\*\s*(?P<title>[^*]*?)\s*\(\s*(?P<minutes>\d+)\s*"
    + _ANY_UNIT
    + r"(?P<rest>[^)]*)\)\s*[.:]?\s*\*\*",
    _FLAGS,
)
#: "inside Step 2", «в рамках шага 2», «2-кадамдын ичинде»: the time is part of the step's.
_INSIDE_STEP = re.compile(r"step|шаг|кадам", _FLAGS)

QUESTION_HEADINGS: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"(?:questions\s+for\s+discussion|discussion\s+questions)", _FLAGS),
    "ru": re.compile(r"вопросы\s+(?:для|к)\s+обсуждени[юя]", _FLAGS),
    "ky": re.compile(r"(?:талкуу(?:лоо)?\s+үчүн\s+суроолор|талкуунун\s+суроолору)", _FLAGS),
}

_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+(?P<text>.*)$")
_ACTIVITY_FENCE = re.compile(r"^:::\s*activity\s+(?P<kind>[\w-]+)\s*$", _FLAGS)


@dataclass(frozen=True)
class PlanActivity:
    """An activity block; ``inside`` when its minutes are part of its step's minutes."""

    block_id: str
    kind: str
    title: str
    minutes: int | None
    inside: bool
    step: int | None

    @property
    def label(self) -> Any:
        return ACTIVITY_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class PlanStep:
    """A timed step with the activities that follow it; ``extra_minutes`` are activities
    timed on top of the step (the module's steps alone do not fill its duration)."""

    block_id: str
    number: int
    minutes: int
    title: str
    activities: tuple[PlanActivity, ...] = ()
    extra_minutes: int = 0
    start: int = 0

    @property
    def total_minutes(self) -> int:
        return self.minutes + self.extra_minutes

    @property
    def end(self) -> int:
        return self.start + self.total_minutes


@dataclass(frozen=True)
class LessonPlan:
    """What a teacher needs in front of them: facts, timing, activities and questions."""

    module: ModuleInfo
    steps: tuple[PlanStep, ...]
    activities: tuple[PlanActivity, ...]
    questions: tuple[str, ...]
    warnings: tuple[Any, ...] = field(default=())
    #: The module's own heading above the questions ("Талкуу үчүн суроолор"), for print.
    questions_heading: str = ""

    @property
    def duration_minutes(self) -> int:
        return self.module.duration_minutes

    @property
    def step_minutes(self) -> int:
        return sum(step.minutes for step in self.steps)

    @property
    def planned_minutes(self) -> int:
        return sum(step.total_minutes for step in self.steps)

    @property
    def has_steps(self) -> bool:
        return bool(self.steps)

    @property
    def loose_activities(self) -> tuple[PlanActivity, ...]:
        """Activities before the first step, or all of them when no step was found."""
        return tuple(a for a in self.activities if a.step is None)


def lesson_plan(version_id: int) -> LessonPlan:
    """The plan of a submitted module version; ``NotFound`` for drafts and unknown ids."""
    module = curriculum.module_version(version_id, with_blocks=True)
    if module is None:
        raise NotFound()
    return plan_from_module(module)


def plan_from_module(module: ModuleInfo) -> LessonPlan:
    """Parse steps, activities and questions out of the module's blocks."""
    found, activities = _steps_and_activities(module)
    steps = _timed(found, module.duration_minutes)
    timed = {a.block_id: a for step in steps for a in step.activities}
    heading, questions = _questions(module)
    return LessonPlan(
        module=module,
        steps=steps,
        activities=tuple(timed.get(a.block_id, a) for a in activities),
        questions=questions,
        warnings=_warnings(module, steps),
        questions_heading=heading,
    )


def _clean(text: str) -> str:
    """Markdown emphasis and code marks out of a short title or question."""
    text = re.sub(r"[*`]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _step_patterns(language: str) -> list[re.Pattern[str]]:
    """The module's own language first; others only if it finds nothing (a half-translation)."""
    own = [STEP_PATTERNS[language]] if language in STEP_PATTERNS else []
    return own + [p for code, p in STEP_PATTERNS.items() if code != language]


def _match_step(text: str, pattern: re.Pattern[str]) -> tuple[int, int, str] | None:
    found = pattern.match(text.lstrip())
    if found is None:
        return None
    title = _clean(found["title"]).rstrip(".").strip()
    return int(found["number"]), int(found["minutes"]), title


def _activity_body(text: str) -> tuple[str, str]:
    """(kind, inner Markdown) of an activity block's ``::: activity KIND`` fence."""
    lines = text.strip().split("\n")
    kind = ""
    if lines and (fence := _ACTIVITY_FENCE.match(lines[0].strip())):
        kind = fence["kind"].lower()
        lines = lines[1:]
    if lines and lines[-1].strip() == ":::":
        lines = lines[:-1]
    return kind, "\n".join(lines).strip()


def _heading(text: str) -> tuple[int, str]:
    level = len(text) - len(text.lstrip("#"))
    return level, text.lstrip("#").strip().rstrip(":.").strip()


def _steps_and_activities(module: ModuleInfo) -> tuple[list[PlanStep], tuple[PlanActivity, ...]]:
    result: tuple[list[PlanStep], tuple[PlanActivity, ...]] = ([], ())
    for pattern in _step_patterns(module.language):
        result = _parse_with(module, pattern)
        if result[0]:
            return result
    return result


def _parse_with(
    module: ModuleInfo, pattern: re.Pattern[str]
) -> tuple[list[PlanStep], tuple[PlanActivity, ...]]:
    steps: list[PlanStep] = []
    attached: list[list[PlanActivity]] = []
    activities: list[PlanActivity] = []
    current: int | None = None  # index into steps while a step is open
    for block_id, kind, text, _html in module.blocks:
        if kind == "heading":
            if _heading(text)[0] <= 2:
                current = None  # a new section ends the lesson steps
            continue
        activity_kind, body = _activity_body(text) if kind == "activity" else ("", text)
        if kind not in ("paragraph", "activity"):
            continue
        step = _match_step(body, pattern)
        if step is not None:
            number, minutes, title = step
            steps.append(PlanStep(block_id, number, minutes, title))
            attached.append([])
            current = len(steps) - 1
            if kind == "activity":  # the whole step is the activity
                activity = PlanActivity(block_id, activity_kind, title, minutes, True, number)
                attached[current].append(activity)
                activities.append(activity)
            continue
        if kind != "activity":
            continue
        lead = ACTIVITY_PATTERN.match(body)
        activity = PlanActivity(
            block_id=block_id,
            kind=activity_kind,
            title=_clean(lead["title"]).rstrip(".").strip() if lead else "",
            minutes=int(lead["minutes"]) if lead else None,
            inside=bool(lead and _INSIDE_STEP.search(lead["rest"])),
            step=steps[current].number if current is not None else None,
        )
        activities.append(activity)
        if current is not None:
            attached[current].append(activity)
    built = [
        PlanStep(s.block_id, s.number, s.minutes, s.title, tuple(found))
        for s, found in zip(steps, attached, strict=True)
    ]
    return built, tuple(activities)


def _timed(steps: list[PlanStep], duration: int) -> tuple[PlanStep, ...]:
    """Start times. Some modules time an activity inside its step without saying "inside
    Step N", others add it after the step: when the steps alone fill the duration every
    activity counts as inside its step, otherwise the unmarked ones add their minutes."""
    add_extras = sum(s.minutes for s in steps) != duration
    timed: list[PlanStep] = []
    start = 0
    for step in steps:
        activities = tuple(
            a if a.inside or add_extras else replace(a, inside=True) for a in step.activities
        )
        extra = sum(a.minutes or 0 for a in activities if not a.inside)
        timed.append(replace(step, activities=activities, extra_minutes=extra, start=start))
        start += step.minutes + extra
    return tuple(timed)


def _warnings(module: ModuleInfo, steps: tuple[PlanStep, ...]) -> tuple[Any, ...]:
    if not steps:
        return ()
    warnings: list[Any] = []
    planned = sum(s.total_minutes for s in steps)
    if module.duration_minutes and planned != module.duration_minutes:
        warnings.append(
            _l(
                "The steps take %(planned)s minutes, but the module lasts %(duration)s minutes.",
                planned=planned,
                duration=module.duration_minutes,
            )
        )
    numbers = [s.number for s in steps]
    if numbers != list(range(1, len(steps) + 1)):
        warnings.append(_l("The steps are not numbered 1, 2, 3… in order."))
    for step in steps:
        inside = sum(a.minutes or 0 for a in step.activities if a.inside and a.minutes)
        if inside > step.minutes:
            warnings.append(
                _l(
                    "The activities inside step %(n)s take longer than the step itself.",
                    n=step.number,
                )
            )
    return tuple(warnings)


def _is_question_heading(text: str, language: str) -> bool:
    title = _heading(text)[1]
    patterns = [QUESTION_HEADINGS[language]] if language in QUESTION_HEADINGS else []
    patterns += [p for code, p in QUESTION_HEADINGS.items() if code != language]
    return any(p.fullmatch(title) for p in patterns)


def _list_items(text: str) -> list[str]:
    items: list[str] = []
    for line in text.split("\n"):
        item = _LIST_ITEM.match(line)
        if item:
            items.append(item["text"])
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return [_clean(item) for item in items if _clean(item)]


def _questions(module: ModuleInfo) -> tuple[str, tuple[str, ...]]:
    """(heading, items) of the first list under the questions heading, before the next
    heading; ("", ()) when the module has none."""
    heading = ""
    for _id, kind, text, _html in module.blocks:
        if kind == "heading":
            if heading:
                break
            if _is_question_heading(text, module.language):
                heading = _clean(_heading(text)[1])
        elif heading and kind == "list":
            return heading, tuple(_list_items(text))
    return heading, ()


# --- Where a version is published, and which plans a teacher has --------------------------


@dataclass(frozen=True)
class PublishedModule:
    """A module version together with the published edition that holds it."""

    edition: EditionInfo
    module: ModuleInfo


@dataclass(frozen=True)
class CohortPlans:
    """A cohort the user leads and the modules of the edition it teaches from."""

    cohort: Cohort
    role: str
    edition: EditionInfo | None
    modules: list[ModuleInfo]


def _led_cohorts(user: Any) -> list[tuple[Cohort, str]]:
    return [(group.cohort, group.role) for group in groups_led_by(user)]


def published_module(version_id: int, user: Any) -> PublishedModule | None:
    """The edition that publishes this version, among those ``curriculum.api`` can name:
    the editions the user's cohorts teach from and the latest edition of every manual in
    the version's language. Drafts and versions never published give None."""
    module = curriculum.module_version(version_id, with_blocks=False)
    if module is None:
        return None
    language = module.language if module.language in LANGUAGES else "en"
    candidates: list[EditionInfo] = []
    for cohort, _role in _led_cohorts(user):
        if cohort.manual:
            edition = curriculum.cohort_edition(cohort.id, cohort.manual, language)
            if edition is not None:
                candidates.append(edition)
    for manual in curriculum.list_manuals():
        edition = curriculum.cohort_edition(0, manual.slug, language)  # 0: no cohort pins
        if edition is not None:
            candidates.append(edition)
    seen: set[int] = set()
    for edition in candidates:
        if edition.id in seen or edition.language != module.language:
            continue
        seen.add(edition.id)
        if any(m.version_id == version_id for m in curriculum.edition_modules(edition.id)):
            return PublishedModule(edition=edition, module=module)
    return None


def plans_for(user: Any) -> list[CohortPlans]:
    """For every cohort the user teaches or trains, the modules they can plan."""
    result = []
    for cohort, role in _led_cohorts(user):
        edition = (
            curriculum.cohort_edition(cohort.id, cohort.manual, user.preferred_language)
            if cohort.manual
            else None
        )
        modules = curriculum.edition_modules(edition.id) if edition is not None else []
        result.append(CohortPlans(cohort=cohort, role=role, edition=edition, modules=modules))
    return result


def pdf_filename(plan: LessonPlan) -> str:
    """``lesson-plan-hand-hygiene-ky.pdf``: slugs are ASCII, so the name is safe anywhere."""
    return f"lesson-plan-{plan.module.module_slug}-{plan.module.language}.pdf"
