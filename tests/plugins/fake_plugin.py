"""A pretend third-party plugin, written as an outside package would write one.

It adds a page, a CLI command, a permission with a navigation entry, a dashboard panel,
a progress item, a completion rule and a report indicator, using nothing but the public
hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lms import hookimpl
from lms.accounts.models import User
from lms.extensions import db
from lms.plugins import (
    CompletionContext,
    CompletionResult,
    CompletionRule,
    DashboardPanel,
    NavItem,
    Permission,
    ProgressItem,
)
from lms.progress.models import ProgressRecord
from lms.reports.indicators import (
    DrillPage,
    DrillRequest,
    Indicator,
    ReportFilters,
    Row,
    Table,
    sex_columns,
    sex_values,
    tally,
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


def _beds_planted(filters: ReportFilters) -> list[Table]:
    """Garden-bed records of learners in cohorts inside the filters, by sex (one query)."""
    cohorts = filters.cohorts()
    counts = tally(
        (None, sex, count)
        for sex, count in db.session.execute(
            select(User.sex, func.count(ProgressRecord.id))
            .select_from(ProgressRecord)
            .join(cohorts, cohorts.c.id == ProgressRecord.cohort_id)
            .join(User, User.id == ProgressRecord.user_id)
            .where(ProgressRecord.item_type == "garden.bed")
            .group_by(User.sex)
        )
    ).get(None, {})
    return [
        Table(
            "beds",
            "Garden beds planted",
            "Who",
            sex_columns(),
            (Row("Everyone", sex_values(counts), {}, total=True),),
        )
    ]


def _who_planted(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    request.only("sex")
    cohorts = filters.cohorts()
    query = (
        select(User.name)
        .select_from(ProgressRecord)
        .join(cohorts, cohorts.c.id == ProgressRecord.cohort_id)
        .join(User, User.id == ProgressRecord.user_id)
        .where(ProgressRecord.item_type == "garden.bed")
        .order_by(User.name, ProgressRecord.id)
    )
    if request.sex is not None:
        query = query.where(User.sex == request.sex)
    rows, total = request.fetch(query)
    return DrillPage(("Gardener",), [(name,) for (name,) in rows], total)


@hookimpl
def register_indicators() -> Iterable[Indicator]:
    return [
        Indicator(
            "garden.beds",
            "Garden beds planted",
            "Garden beds learners planted, from the progress ledger.",
            _beds_planted,
            _who_planted,
            order=90,
        )
    ]
