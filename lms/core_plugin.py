"""The host's own hook implementations: core permissions, navigation, panels and rules.

The host registers these through the same hooks as every plugin, so there is one way to
add a permission, a link or a home-page panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from lms import hookimpl
from lms.accounts.roles import (
    ADMIN,
    EDITOR,
    MONITOR,
    PARTICIPANT,
    REVIEWER,
    STUDENT,
    TEACHER,
    TRAINER,
)
from lms.cohorts import totals as _students_totals  # noqa: F401  (its session listeners)
from lms.plugins import CompletionRule, DashboardPanel, NavItem, Permission

if TYPE_CHECKING:
    from flask import Flask

    from lms.reports.indicators import Indicator

STAFF = frozenset({ADMIN, EDITOR, REVIEWER, TRAINER, TEACHER, MONITOR})


@hookimpl
def init_app(app: Flask) -> None:
    """Requests carrying a NUL character are refused before any view (lms.input_guard)."""
    from lms import input_guard

    input_guard.init_app(app)


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission("admin.users", _l("Manage user accounts and roles"), frozenset({ADMIN})),
        Permission("admin.audit", _l("Read the audit log"), frozenset({ADMIN})),
        Permission(
            "organisations.view",
            _l("See regions and madrasas"),
            frozenset({TRAINER, TEACHER, MONITOR, EDITOR}),
        ),
        Permission("organisations.manage", _l("Add and edit madrasas"), frozenset({ADMIN})),
        Permission("organisations.overview", _l("See figures per region"), frozenset({MONITOR})),
        Permission(
            "cohorts.view",
            _l("See a cohort and its members"),
            frozenset({TRAINER, TEACHER, MONITOR, PARTICIPANT, STUDENT}),
        ),
        Permission(
            "cohorts.create", _l("Create ToT cohorts and classes"), frozenset({TRAINER, TEACHER})
        ),
        Permission(
            "cohorts.manage",
            _l("Edit a cohort and its members"),
            frozenset({TRAINER, TEACHER}),
        ),
        Permission(
            "progress.view",
            _l("See the progress of a cohort's learners"),
            frozenset({TRAINER, TEACHER, MONITOR}),
        ),
        Permission(
            "reports.view",
            _l("See programme indicators, their records and exports"),
            frozenset({MONITOR}),
        ),
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [
        NavItem("home", _l("Home"), "lms.home", None, order=0),
        NavItem("cohorts", _l("Cohorts"), "cohorts.index", "cohorts.view", order=20),
        NavItem(
            "madrasas", _l("Madrasas"), "organisations.madrasas", "organisations.view", order=60
        ),
        NavItem("reports", _l("Reports"), "reports.index", "reports.view", order=70),
        NavItem("users", _l("Users"), "admin.users", "admin.users", order=90),
    ]


def _render_my_cohorts(user: Any) -> str:
    from lms.cohorts.services import cohorts_of

    return render_template("lms/panels/my_cohorts.html", memberships=cohorts_of(user))


def _render_regions(user: Any) -> str:
    from lms.organisations.services import region_overview

    return render_template("lms/panels/regions.html", rows=region_overview(user))


def _render_admin_overview(user: Any) -> str:
    from lms.accounts.services import account_counts

    return render_template("lms/panels/admin_overview.html", counts=account_counts())


@hookimpl
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    return [
        DashboardPanel(
            "lms.admin_overview", _l("Accounts"), _render_admin_overview, "admin.users", order=5
        ),
        DashboardPanel("lms.my_cohorts", _l("My cohorts"), _render_my_cohorts, None, order=10),
        DashboardPanel(
            "lms.regions", _l("Regions"), _render_regions, "organisations.overview", order=15
        ),
    ]


@hookimpl
def object_scopes(obj: Any) -> Iterable[tuple[str, int]] | None:
    from lms.cohorts.models import Cohort
    from lms.organisations.models import Madrasa, Region

    if isinstance(obj, Region):
        return [("region", obj.id)]
    if isinstance(obj, Madrasa):
        return [("madrasa", obj.id), ("region", obj.region_id)]
    if isinstance(obj, Cohort):
        scopes = [("cohort", obj.id)]
        if obj.madrasa_id is not None:
            scopes.append(("madrasa", obj.madrasa_id))
        region_id = obj.effective_region_id
        if region_id is not None:
            scopes.append(("region", region_id))
        return scopes
    return None


@hookimpl
def register_completion_rules() -> Iterable[CompletionRule]:
    from lms.progress.rules import all_required_items, marked_complete

    return [
        CompletionRule(
            "all-required-items",
            _l("Every required item done"),
            all_required_items,
            _l("Complete when every required progress item of the cohort has been done."),
        ),
        CompletionRule(
            "marked-complete",
            _l("Marked complete by a trainer or teacher"),
            marked_complete,
            _l("Complete when a trainer or teacher has marked the learner as completed."),
        ),
    ]


@hookimpl
def register_indicators() -> Iterable[Indicator]:
    """ToT participants trained and completed, and students reached (lms.reports.host)."""
    from lms.reports.host import indicators

    return indicators()
