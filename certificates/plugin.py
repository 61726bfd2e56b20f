"""Hook registrations of the certificates plugin."""

from __future__ import annotations

from collections.abc import Iterable

import click
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from certificates.designs import CertificateTemplate
from lms import hookimpl
from lms.accounts.roles import ADMIN
from lms.plugins import NavItem, Permission

#: The plugin's own hooks (pluggy adds them before registering the plugin).
HOOKSPECS = "certificates.hookspecs"


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from certificates.views import bp

    return [bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "certificates.templates", _l("See and preview certificate designs"), frozenset({ADMIN})
        )
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [
        NavItem(
            "certificates",
            _l("Certificates"),
            "certificates.index",
            "certificates.templates",
            order=80,
        )
    ]


@hookimpl
def register_certificate_templates() -> Iterable[CertificateTemplate]:
    return [
        CertificateTemplate(
            id="tot-completion",
            label=_l("Training of Trainers completion"),
            kind="tot-completion",
            template="certificates/pdf/completion.html",
        ),
        CertificateTemplate(
            id="course-completion",
            label=_l("Course completion"),
            kind="course-completion",
            template="certificates/pdf/completion.html",
        ),
    ]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from certificates.cli import group

    return [group]
