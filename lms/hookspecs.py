"""Every core hook, as pluggy hook specifications.

Plugins (the four built-ins and any third party) implement these with ``@lms.hookimpl``.
Each hook's docstring says when it is called and what it must return; docs/plugins.md
documents each one for plugin authors (a test fails if one is missing there).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click
import pluggy
from flask import Blueprint, Flask

if TYPE_CHECKING:
    from lms.cohorts.models import Cohort
    from lms.plugins import (
        CohortSection,
        CompletionRule,
        DashboardPanel,
        NavItem,
        Permission,
        ProgressItem,
    )
    from lms.reports.indicators import Indicator

PROJECT_NAME = "lms"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def init_app(app: Flask) -> None:
    """Called once per app, after the extensions are bound and before any blueprint is added.

    Use it for configuration defaults (``app.config.setdefault``), Jinja filters or
    extension set-up. Do not touch the database here: it may not exist yet.
    """


@hookspec
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    """Return the Flask blueprints this plugin serves. Called once per app, at start-up.

    Each plugin mounts one blueprint (its name is its id); the host registers them in plugin
    order and refuses two blueprints with the same name.
    """


@hookspec
def register_cli_commands() -> Iterable[click.Command]:
    """Return click commands or groups to mount under ``lms``. Called once per app.

    A plugin returns one group named after itself (``lms curriculum import``); names must
    not collide with core commands or with another plugin's.
    """


@hookspec
def register_navigation() -> Iterable[NavItem]:
    """Return navigation entries (``lms.plugins.NavItem``). Called once per app.

    Each entry names an endpoint and the permission a user needs to see it; the host shows
    a user only the entries they may follow, ordered by ``order``.
    """


@hookspec
def register_permissions() -> Iterable[Permission]:
    """Return the permissions this plugin checks (``lms.plugins.Permission``).

    A permission has a stable id (``"curriculum.review"``) and the roles that grant it.
    Called once per app; ids are unique across all plugins.
    """


@hookspec
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    """Return panels for the home page (``lms.plugins.DashboardPanel``). Called once per app.

    A panel is shown to users holding its permission; its ``render`` callable receives the
    user and returns HTML (usually ``render_template``) at request time.
    """


@hookspec
def register_cohort_sections() -> Iterable[CohortSection]:
    """Return sections for the cohort page (``lms.plugins.CohortSection``). Called once.

    A section is shown to users holding its permission on the cohort; its ``render``
    callable receives the cohort and the user and returns HTML at request time (blank HTML
    leaves the section out for that user).
    """


@hookspec
def object_scopes(obj: Any) -> Iterable[tuple[str, int]] | None:
    """Return the scopes that contain ``obj``, e.g. ``[("madrasa", 3), ("region", 1)]``.

    Called during permission checks with any object a route acts on. Return ``None`` for
    objects this plugin does not know. A role grant scoped to any of the returned scopes
    grants its permissions on the object.
    """


@hookspec
def register_progress_items(cohort: Cohort) -> Iterable[ProgressItem]:
    """Return the items that make up progress in ``cohort`` (``lms.plugins.ProgressItem``).

    Called whenever progress is shown or completion is evaluated: sessions to attend,
    quizzes to pass, practice lessons to teach.
    """


@hookspec
def cohort_manual_choices() -> Iterable[tuple[str, str]]:
    """Return the manuals a cohort can study, as (short name, title in the page's language).

    Called at request time when a cohort form is shown or saved. The curriculum plugin
    answers with its manuals; with no answer, a cohort names no manual.
    """


@hookspec
def register_completion_rules() -> Iterable[CompletionRule]:
    """Return completion rules (``lms.plugins.CompletionRule``). Called once per app.

    A cohort names one rule by id; ``lms.progress.api.evaluate_completion`` runs it to say
    who has completed the cohort (certificates depend on that answer).
    """


@hookspec
def register_indicators() -> Iterable[Indicator]:
    """Return report indicators (``lms.reports.indicators.Indicator``). Called once per app.

    Each has a stable id, a label, a definition shown with its figures, and
    ``compute(filters)`` returning tables built with SQL aggregates on the helpers of
    ``ReportFilters`` (which apply the filters and the viewer's scope); the reports page,
    its drill-downs and every export call it at request time (or in the donor-report job).
    Ids are unique across all plugins.
    """


@hookspec
def load_demo_data(users: dict[str, Any]) -> None:
    """Called by ``lms demo`` after the core demo data exists, inside its transaction.

    ``users`` maps each demo user name (``"editor"``, ``"teacher"``, …) to its ``User``.
    Add the plugin's sample content here; mark it as sample. Must be idempotent with the
    core data: ``lms demo`` only calls it the first time.
    """


@hookspec
def register_openapi() -> dict[str, Any] | None:
    """Return this plugin's part of the API description, as OpenAPI 3.1 fragments.

    ``{"paths": {...}, "schemas": {...}, "tags": [...]}``: the paths it serves under
    ``/api/v1/``, its component schemas and its tags. Called once per app, at start-up;
    the host adds the info, the session security scheme and the shared ``Error`` schema and
    responses (``#/components/responses/NotFound`` …) and serves the whole document at
    ``/api/v1/openapi.json``. It refuses a path or schema name two plugins both describe.
    """
