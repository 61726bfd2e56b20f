"""The host's completion rules; plugins add more through ``register_completion_rules``."""

from __future__ import annotations

from lms.plugins import CompletionContext, CompletionResult

#: The progress item a trainer or teacher records to mark a learner complete by hand.
COHORT_ITEM_TYPE = "lms.cohort"


def all_required_items(ctx: CompletionContext) -> dict[int, CompletionResult]:
    """Complete when the latest record of every required item has a passing outcome."""
    required = [item for item in ctx.items if item.required]
    results: dict[int, CompletionResult] = {}
    for learner in ctx.learner_ids:
        missing = tuple(
            item.label
            for item in required
            if (record := ctx.latest.get((learner, *item.key))) is None
            or record.outcome not in item.passing_outcomes
        )
        results[learner] = CompletionResult(
            completed=not missing and bool(required), missing=missing
        )
    return results


def marked_complete(ctx: CompletionContext) -> dict[int, CompletionResult]:
    """Complete when the latest ``lms.cohort`` record for the learner says so."""
    item_id = str(ctx.cohort.id)
    results: dict[int, CompletionResult] = {}
    for learner in ctx.learner_ids:
        record = ctx.latest.get((learner, COHORT_ITEM_TYPE, item_id))
        results[learner] = CompletionResult(
            completed=record is not None and record.outcome == "completed"
        )
    return results
