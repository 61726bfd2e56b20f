"""A pretend third-party plugin, written as an outside package would write one.

It adds a page, a CLI command, a permission with a navigation entry, a dashboard panel,
a progress item and a completion rule, using nothing but the public hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext

from lms import hookimpl
from lms.plugins import (
    CompletionContext,
    CompletionResult,
    CompletionRule,
    DashboardPanel,
    NavItem,
    Permission,
    ProgressItem,
)

PLUGIN_NAME = "fake_garden"

bp = Blueprint("fake_garden", __name__, url_prefix="/garden")


@bp.get("/")
def index() -> str:
    return "<h1>The school garden</h1>"


@click.command("garden-hello")
@click.argument("name")
@with_appcontext
def hello(name: str) -> None:
    """Greets NAME from the garden."""
    click.echo(f"Hello from the garden, {name}!")


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    return [bp]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    return [hello]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [Permission("garden.tend", "Tend the garden", frozenset({"teacher"}))]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [NavItem("garden", "Garden", "fake_garden.index", "garden.tend", order=50)]


@hookimpl
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    return [
        DashboardPanel(
            "garden.panel", "Garden news", lambda user: "<p>Tomatoes are ripe.</p>", "garden.tend"
        )
    ]


@hookimpl
def register_progress_items(cohort: Any) -> Iterable[ProgressItem]:
    return [ProgressItem("garden.bed", str(cohort.id), "Planted a garden bed")]


def _three_beds(ctx: CompletionContext) -> dict[int, CompletionResult]:
    wanted = int(ctx.params.get("beds", 3))
    return {
        learner: CompletionResult(
            completed=(record := ctx.latest.get((learner, "garden.bed", str(ctx.cohort.id))))
            is not None
            and (record.score or 0) >= wanted
        )
        for learner in ctx.learner_ids
    }


@hookimpl
def register_completion_rules() -> Iterable[CompletionRule]:
    return [CompletionRule("garden.beds", "Planted enough beds", _three_beds)]
