"""Hook registrations of the curriculum plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask, render_template
from flask_babel import lazy_gettext as _l

from curriculum import models
from lms import hookimpl
from lms.accounts.roles import (
    ADMIN,
    EDITOR,
    MONITOR,
    PARTICIPANT,
    REVIEWER,
    TEACHER,
    TRAINER,
)
from lms.plugins import DashboardPanel, NavItem, Permission

#: Modules that add routes to the blueprint (imported when the blueprint is registered).
VIEW_MODULES = (
    "curriculum.views",
    "curriculum.views_review",
    "curriculum.views_import",
    "curriculum.views_editions",
    "curriculum.views_feedback",
    "curriculum.api_views",
)


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    import importlib

    from curriculum.blueprint import bp

    for name in VIEW_MODULES:
        importlib.import_module(name)
    from curriculum.api_views import api_bp  # the JSON API lives under /api/v1/curriculum

    return [bp, api_bp]


@hookimpl
def register_openapi() -> dict[str, Any]:
    from curriculum.openapi import fragment

    return fragment()


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "curriculum.view",
            _l("Read the manuals"),
            frozenset({EDITOR, REVIEWER, TRAINER, TEACHER, MONITOR, PARTICIPANT}),
        ),
        Permission("curriculum.edit", _l("Write and submit module versions"), frozenset({EDITOR})),
        Permission("curriculum.review", _l("Review module versions"), frozenset({REVIEWER})),
        Permission("curriculum.publish", _l("Publish editions"), frozenset({EDITOR})),
        Permission(
            "curriculum.feedback",
            _l("Give feedback on the manuals"),
            frozenset({TRAINER, TEACHER, MONITOR, EDITOR, PARTICIPANT}),
        ),
        Permission("curriculum.triage", _l("Triage feedback"), frozenset({EDITOR})),
        Permission("curriculum.glossary", _l("Keep the glossary"), frozenset({EDITOR, REVIEWER})),
        Permission("curriculum.panel", _l("Manage review panels"), frozenset({ADMIN})),
        Permission("curriculum.dismiss", _l("Dismiss a request for changes"), frozenset({ADMIN})),
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [
        NavItem("curriculum", _l("Manuals"), "curriculum.index", "curriculum.view", order=10),
        NavItem("review", _l("Review"), "curriculum.queue", "curriculum.review", order=11),
    ]


def _render_manuals_panel(user: Any) -> str:
    from curriculum.services import list_manuals

    return render_template("curriculum/panel.html", manuals=list_manuals())


def _render_queue_panel(user: Any) -> str:
    from curriculum.review import review_queue

    return render_template("curriculum/panel_queue.html", items=review_queue(user))


def _render_work_panel(user: Any) -> str:
    from curriculum.services import list_manuals
    from curriculum.versions import work_in_progress
    from lms.accounts.permissions import can

    manual_ids = [m.id for m in list_manuals() if can(user, "curriculum.edit", m)]
    return render_template(
        "curriculum/panel_work.html", work=work_in_progress(manual_ids=manual_ids)
    )


@hookimpl
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    return [
        DashboardPanel(
            "curriculum.queue",
            _l("Awaiting your review"),
            _render_queue_panel,
            "curriculum.review",
            order=12,
        ),
        DashboardPanel(
            "curriculum.work",
            _l("Versions in progress"),
            _render_work_panel,
            "curriculum.edit",
            order=13,
        ),
        DashboardPanel(
            "curriculum.manuals", _l("Manuals"), _render_manuals_panel, "curriculum.view", order=20
        ),
    ]


@hookimpl
def register_cohort_sections() -> Iterable[Any]:
    """The edition a cohort teaches from; its leaders pin one or follow the latest."""
    from lms.plugins import CohortSection

    def render(cohort: Any, user: Any) -> str:
        from curriculum.views_editions import cohort_section

        return cohort_section(cohort, user)

    return [CohortSection("curriculum.edition", _l("Manual edition"), render, "cohorts.view", 20)]


@hookimpl
def object_scopes(obj: Any) -> Iterable[tuple[str, int]] | None:
    if isinstance(obj, models.Manual):
        # Whoever teaches or learns in a cohort that studies a manual may read it.
        from sqlalchemy import select

        from lms.cohorts.models import Cohort
        from lms.extensions import db

        scopes: list[tuple[str, int]] = [("manual", obj.id)]
        rows = db.session.execute(
            select(Cohort.id, Cohort.madrasa_id, Cohort.region_id).where(Cohort.manual == obj.slug)
        )
        for cohort_id, madrasa_id, region_id in rows:
            scopes.append(("cohort", cohort_id))
            if madrasa_id is not None:
                scopes.append(("madrasa", madrasa_id))
            if region_id is not None:
                scopes.append(("region", region_id))
        return scopes
    return None


@hookimpl
def register_indicators() -> Iterable[Any]:
    """Editions in use in madrasa classes, and field feedback per module."""
    from curriculum.indicators import indicators

    return indicators()


@hookimpl
def cohort_manual_choices() -> Iterable[tuple[str, str]]:
    from curriculum.services import list_manuals

    return [(manual.slug, manual.title) for manual in list_manuals()]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from curriculum.cli import group

    return [group]


@hookimpl
def load_demo_data(users: dict[str, Any]) -> None:
    from curriculum import demo
    from curriculum.services import create_manual

    editor = users.get("editor")
    for manual in SAMPLE_MANUALS:
        create_manual(**manual, actor_id=editor.id if editor else None)
    if {"editor", "reviewer", "reviewer2"} <= set(users):
        demo.load(users)


SAMPLE_MANUALS = [
    {
        "slug": "civic-education",
        "title_en": "Civic Education",
        "title_ru": "Гражданское образование",
        "title_ky": "Жарандык билим берүү",
        "description": "Sample: a manual for madrasa teachers on the constitution and rights, "
        "the secular state and religion, tolerance, and taking part in local self-government.",
    },
    {
        "slug": "health-basics",
        "title_en": "Health Basics",
        "title_ru": "Основы здоровья",
        "title_ky": "Ден соолуктун негиздери",
        "description": "Sample: a manual for madrasa teachers on hygiene, nutrition, "
        "immunisation, reproductive health and preventing domestic violence.",
    },
]
