"""Hook registrations of the lessons plugin."""

from __future__ import annotations

from collections.abc import Iterable

import click
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from lessons import models  # noqa: F401  (its tables belong to the one Alembic history)
from lms import hookimpl
from lms.accounts.roles import TEACHER, TRAINER
from lms.plugins import NavItem, Permission


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from lessons.views import bp

    return [bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "lessons.teach", _l("Teach classes and run ToT sessions"), frozenset({TEACHER, TRAINER})
        )
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [NavItem("lessons", _l("My teaching"), "lessons.index", "lessons.teach", order=30)]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from lessons.cli import group

    return [group]
