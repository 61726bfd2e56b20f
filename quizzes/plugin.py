"""Hook registrations of the quizzes plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from lms import hookimpl
from lms.accounts.roles import EDITOR, PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.plugins import CohortSection, CompletionRule, NavItem, Permission, ProgressItem
from quizzes import (
    models,  # noqa: F401  (its tables belong to the one Alembic history)
    statistics,  # noqa: F401  (its session listeners keep the item sums)
)

#: The plugin's own hooks (pluggy adds them before registering the plugin).
HOOKSPECS = "quizzes.hookspecs"


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from quizzes import (
        views_analysis,  # noqa: F401  (its routes are on bp)
        views_attempts,  # noqa: F401  (its routes are on bp)
        views_gift,  # noqa: F401  (its routes are on bp)
        views_paper,  # noqa: F401  (its routes are on bp)
        views_questions,  # noqa: F401  (its routes are on bp)
        views_quizzes,  # noqa: F401  (its routes are on bp)
    )
    from quizzes.api_views import api_bp  # the JSON API lives under /api/v1/quizzes
    from quizzes.views import bp

    return [bp, api_bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "quizzes.author",
            _l("Write question banks and quizzes"),
            frozenset({EDITOR, TRAINER, TEACHER}),
        ),
        Permission(
            "quizzes.take",
            _l("Take the quizzes of a cohort"),
            frozenset({STUDENT, PARTICIPANT, TEACHER, TRAINER}),
        ),
        Permission(
            "quizzes.grade",
            _l("Grade the essay answers of quizzes"),
            frozenset({TEACHER, TRAINER}),
        ),
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [NavItem("quizzes", _l("Question banks"), "quizzes.index", "quizzes.author", order=40)]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from quizzes.cli import group

    return [group]


@hookimpl
def register_question_types() -> Iterable[object]:
    from quizzes.question_types.builtin import builtin_types

    return builtin_types()


@hookimpl
def register_progress_items(cohort: Any) -> Iterable[ProgressItem]:
    """Published final tests are required items, post-tests optional ones."""
    from quizzes.results import progress_items

    return progress_items(cohort)


@hookimpl
def register_completion_rules() -> Iterable[CompletionRule]:
    from quizzes.results import RULE_ID, passed_rule

    return [
        CompletionRule(
            RULE_ID,
            _l("Quizzes passed"),
            passed_rule,
            _l(
                "Complete when the learner has passed the quiz named by the parameter quiz_id"
                " (an id or a list of ids), or every published final test of the cohort."
            ),
        )
    ]


@hookimpl
def register_cohort_sections() -> Iterable[CohortSection]:
    from quizzes.views_quizzes import render_gains_section, render_quizzes_section

    return [
        CohortSection("quizzes.quizzes", _l("Quizzes"), render_quizzes_section, "cohorts.view", 50),
        CohortSection(
            "quizzes.gains",
            _l("Pre-test and post-test gains"),
            render_gains_section,
            "progress.view",
            55,
        ),
    ]


@hookimpl
def register_openapi() -> dict[str, Any]:
    from quizzes.openapi import fragment

    return fragment()


@hookimpl
def object_scopes(obj: Any) -> Iterable[tuple[str, int]] | None:
    """A question bank lies in its manual's scope, so manual-scoped authors reach it."""
    from quizzes.models import QuestionBank

    if not isinstance(obj, QuestionBank):
        return None
    from curriculum import api as curriculum

    manual = curriculum.get_manual(obj.manual_slug)
    return [("manual", manual.id)] if manual is not None else []


@hookimpl
def register_indicators() -> Iterable[Any]:
    """Knowledge gained from pre-test to post-test."""
    from quizzes.indicators import indicators

    return indicators()


@hookimpl(trylast=True)
def load_demo_data(users: dict[str, Any]) -> None:
    """A sample question bank and the demo ToT's pre- and post-test."""
    from quizzes import demo

    if "trainer" in users:
        demo.load(users)
