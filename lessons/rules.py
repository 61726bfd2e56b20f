"""The lessons completion rule: enough attendance, and everything other plugins require.

A class is taught over many lessons and nobody attends all of them, so requiring every
session (the core ``all-required-items`` rule) is too strict; the programme asks for a share
of the held lessons instead, while quizzes and other plugins' required items still count.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lessons.sessions import ITEM_TYPE
from lms.plugins import CompletionContext, CompletionResult, ProgressItem

RULE_ID = "lessons.attendance"
DEFAULT_MIN_ATTENDANCE = 80
#: Items whose type starts with this belong to the lessons plugin; the rule counts only
#: sessions among them, and requires every other plugin's required items.
OWN_PREFIX = "lessons."


def min_attendance(params: Any) -> float:
    """The share of held sessions to attend, in percent (0 to 100; bad values → default)."""
    raw = (params or {}).get("min_attendance", DEFAULT_MIN_ATTENDANCE)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_MIN_ATTENDANCE
    return min(max(value, 0.0), 100.0)


def percent(attended: int, held: int) -> int | None:
    """Whole percent, rounded down so a learner shown at 80% really reached 80%."""
    return attended * 100 // held if held else None


def _attended(item: ProgressItem, outcome: str | None) -> bool:
    return outcome is not None and outcome in item.passing_outcomes


def attendance(ctx: CompletionContext) -> dict[int, CompletionResult]:
    """Complete when the learner attended ``min_attendance`` percent (default 80) of the held
    sessions and passed every required item of other plugins; nobody completes before a
    session has been held."""
    wanted = min_attendance(ctx.params)
    sessions = [item for item in ctx.items if item.item_type == ITEM_TYPE]
    others = [
        item for item in ctx.items if item.required and not item.item_type.startswith(OWN_PREFIX)
    ]
    shown_wanted = int(wanted) if float(wanted).is_integer() else wanted
    results: dict[int, CompletionResult] = {}
    for learner in ctx.learner_ids:
        missing: list[Any] = []
        attended = sum(
            1
            for item in sessions
            if _attended(item, getattr(ctx.latest.get((learner, *item.key)), "outcome", None))
        )
        if not sessions:
            missing.append(_l("No lesson has been held yet."))
        elif attended * 100 < wanted * len(sessions):
            missing.append(
                _l(
                    "attendance %(percent)s%% (%(needed)s%% needed)",
                    percent=percent(attended, len(sessions)),
                    needed=shown_wanted,
                )
            )
        for item in others:
            record = ctx.latest.get((learner, *item.key))
            if record is None or record.outcome not in item.passing_outcomes:
                missing.append(item.label)
        results[learner] = CompletionResult(completed=not missing, missing=tuple(missing))
    return results


TOT_RULE_ID = "lessons.tot"
PRACTICE_ITEM_TYPE = "lessons.practice"
DEFAULT_MIN_PRACTICE = 3.0


def min_practice(params: Any) -> float:
    """The practice-lesson average a participant needs (on the rubric's scale)."""
    raw = (params or {}).get("min_practice", DEFAULT_MIN_PRACTICE)
    try:
        return float(raw)
    except (TypeError, ValueError):
        return DEFAULT_MIN_PRACTICE


def tot(ctx: CompletionContext) -> dict[int, CompletionResult]:
    """A ToT participant completes with enough attendance (as ``attendance``) and a scored
    practice lesson whose average over trainer and peer scores reaches ``min_practice``."""
    base = attendance(ctx)
    wanted = min_practice(ctx.params)
    averages: dict[int, list[float]] = {}
    for (learner, item_type, _item_id), record in ctx.latest.items():
        if item_type == PRACTICE_ITEM_TYPE and record.score is not None:
            averages.setdefault(learner, []).append(record.score)
    results: dict[int, CompletionResult] = {}
    for learner, result in base.items():
        missing = list(result.missing)
        scores = averages.get(learner)
        if not scores:
            missing.append(_l("No practice lesson scored yet."))
        elif sum(scores) / len(scores) < wanted:
            missing.append(
                _l(
                    "practice lesson average %(score)s (%(needed)s needed)",
                    score=f"{sum(scores) / len(scores):.1f}",
                    needed=f"{wanted:.1f}",
                )
            )
        results[learner] = CompletionResult(completed=not missing, missing=tuple(missing))
    return results
