"""Hook registrations of the lessons plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask, render_template
from flask_babel import lazy_gettext as _l

from lessons import (
    models,  # noqa: F401  (its tables belong to the one Alembic history)
    totals,  # noqa: F401  (its session listeners keep the attendance totals)
)
from lms import hookimpl
from lms.accounts.roles import MONITOR, TEACHER, TRAINER
from lms.plugins import (
    CohortSection,
    CompletionRule,
    DashboardPanel,
    NavItem,
    Permission,
    ProgressItem,
)


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    import lessons.views_monitoring
    import lessons.views_plans
    import lessons.views_progress
    import lessons.views_sessions  # noqa: F401  (the schedule and attendance pages on ``bp``)
    from lessons import views_tot  # noqa: F401  (the ToT pages on ``bp``)
    from lessons.api_views import api_bp  # the JSON API lives under /api/v1/lessons
    from lessons.views import bp

    return [bp, api_bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "lessons.teach", _l("Teach classes and run ToT sessions"), frozenset({TEACHER, TRAINER})
        ),
        Permission(
            "lessons.monitor", _l("Record and follow up monitoring visits"), frozenset({MONITOR})
        ),
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [
        NavItem("lessons", _l("My teaching"), "lessons.index", "lessons.teach", order=30),
        NavItem("visits", _l("Monitoring visits"), "lessons.visits", "lessons.monitor", order=50),
    ]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from lessons.cli import group

    return [group]


@hookimpl
def register_progress_items(cohort: Any) -> Iterable[ProgressItem]:
    """Every held session of the cohort is a required item, passed by attending it."""
    from lessons.progress import session_items

    return session_items(cohort)


@hookimpl
def register_completion_rules() -> Iterable[CompletionRule]:
    from lessons.rules import DEFAULT_MIN_ATTENDANCE, RULE_ID, TOT_RULE_ID, attendance, tot

    return [
        CompletionRule(
            TOT_RULE_ID,
            _l("ToT: enough attendance and a good practice lesson"),
            tot,
            _l(
                "Complete when the participant attended at least %(percent)s%% of the sessions"
                " and the average score of their practice lesson reaches min_practice (3 of 5).",
                percent=DEFAULT_MIN_ATTENDANCE,
            ),
        ),
        CompletionRule(
            RULE_ID,
            _l("Enough attendance, and every other required item done"),
            attendance,
            _l(
                "Complete when the learner attended at least %(percent)s%% of the lessons held"
                " (parameter min_attendance) and did every required item of other plugins.",
                percent=DEFAULT_MIN_ATTENDANCE,
            ),
        ),
    ]


def _render_lessons_section(cohort: Any, user: Any) -> str:
    return render_template("lessons/progress_section.html", cohort=cohort)


@hookimpl
def register_cohort_sections() -> Iterable[CohortSection]:
    """The cohort's lessons: schedule, progress, plans, and for a ToT its practice lessons
    and recommendations; each link shown to those who may follow it."""
    return [
        CohortSection("lessons.lessons", _l("Lessons"), _render_lessons_section, "cohorts.view", 40)
    ]


def _render_my_progress(user: Any) -> str:
    """Only for learners: the home page leaves out a panel that renders nothing."""
    from lessons.progress import learner_cohorts

    entries = learner_cohorts(user, with_completion=False)
    if not entries:
        return ""
    return render_template("lessons/progress_panel.html", entries=entries)


@hookimpl
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    """A learner's attendance on the home page; completion is on their own page."""
    return [DashboardPanel("lessons.my_progress", _l("My progress"), _render_my_progress, None, 25)]


@hookimpl
def register_openapi() -> dict[str, Any]:
    from lessons.openapi import fragment

    return fragment()


@hookimpl
def register_indicators() -> Iterable[Any]:
    """Sessions and attendance, practice-lesson averages and monitoring visits."""
    from lessons.indicators import indicators

    return indicators()


@hookimpl(trylast=True)
def load_demo_data(users: dict[str, Any]) -> None:
    """Sample lessons; runs last, after the curriculum's demo has published its editions."""
    from lessons import demo

    if {"teacher", "trainer"} <= set(users):
        demo.load(users)
