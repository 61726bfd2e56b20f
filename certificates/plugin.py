"""Hook registrations of the certificates plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from certificates import models  # noqa: F401  (its tables belong to the one Alembic history)
from certificates.designs import BUILTIN_DESIGNS, CertificateTemplate
from lms import hookimpl
from lms.accounts.roles import ADMIN, MONITOR, TEACHER, TRAINER
from lms.plugins import CohortSection, DashboardPanel, NavItem, Permission

#: The plugin's own hooks (pluggy adds them before registering the plugin).
HOOKSPECS = "certificates.hookspecs"


@hookimpl
def init_app(app: Flask) -> None:
    app.config.setdefault("VERIFY_RATE_LIMIT", "60 per minute")
    app.config.setdefault("CERTIFICATES_RENDER_PROCESSES", 0)


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    import certificates.views_issue
    import certificates.views_offline  # /verify/offline and its service worker
    import certificates.views_register  # noqa: F401  (their pages are on ``bp``)
    from certificates.api_views import api_bp  # the JSON API under /api/v1/certificates
    from certificates.views import bp
    from certificates.views_public import public_bp  # /verify and /v: outside /certificates

    return [bp, public_bp, api_bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "certificates.templates", _l("See and preview certificate designs"), frozenset({ADMIN})
        ),
        Permission(
            "certificates.issue",
            _l("Issue certificates to those who completed a cohort"),
            frozenset({TRAINER, TEACHER}),
        ),
        Permission(
            "certificates.register",
            _l("Read the register of issued certificates"),
            frozenset({MONITOR}),
        ),
        Permission(
            "certificates.manage",
            _l("Issue certificates by hand, revoke and reissue them, manage signing keys"),
            frozenset({ADMIN}),
        ),
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [NavItem("certificates", _l("Certificates"), "certificates.index", None, order=80)]


@hookimpl
def register_cohort_sections() -> Iterable[CohortSection]:
    from certificates.views_issue import render_cohort_section

    return [
        CohortSection(
            "certificates.cohort", _l("Certificates"), render_cohort_section, "cohorts.view", 70
        )
    ]


def _render_my_certificates(user: Any) -> str:
    from certificates.views_register import render_my_certificates_panel

    return render_my_certificates_panel(user)


@hookimpl
def register_dashboard_panels() -> Iterable[DashboardPanel]:
    return [
        DashboardPanel(
            "certificates.mine", _l("My certificates"), _render_my_certificates, None, order=30
        )
    ]


@hookimpl
def object_scopes(obj: Any) -> Iterable[tuple[str, int]] | None:
    """A certificate lies in its cohort (and so in its madrasa and region)."""
    from certificates.models import Certificate
    from lms.accounts.permissions import scopes_of

    if isinstance(obj, Certificate):
        return scopes_of(obj.cohort)
    return None


@hookimpl
def register_certificate_templates() -> Iterable[CertificateTemplate]:
    return list(BUILTIN_DESIGNS)


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from certificates.cli import group

    return [group]


@hookimpl
def register_openapi() -> dict[str, Any]:
    from certificates.openapi import fragment

    return fragment()


@hookimpl(trylast=True)
def load_demo_data(users: dict[str, Any]) -> None:
    """Sample certificates for the demo ToT's participants and the demo student; runs after
    the curriculum's demo has made the manuals their achievements are named after."""
    from certificates import demo

    if {"admin", "trainer", "teacher", "student"} <= set(users):
        demo.load(users)


@hookimpl
def register_indicators() -> Iterable[Any]:
    """Certificates issued, revoked and replaced, for the reports."""
    from certificates.indicators import indicators

    return indicators()
