"""Hook registrations of the quizzes plugin."""

from __future__ import annotations

from collections.abc import Iterable

import click
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from lms import hookimpl
from lms.accounts.roles import EDITOR, TEACHER, TRAINER
from lms.plugins import NavItem, Permission
from quizzes import models  # noqa: F401  (its tables belong to the one Alembic history)

#: The plugin's own hooks (pluggy adds them before registering the plugin).
HOOKSPECS = "quizzes.hookspecs"


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from quizzes.views import bp

    return [bp]


@hookimpl
def register_permissions() -> Iterable[Permission]:
    return [
        Permission(
            "quizzes.author",
            _l("Write question banks and quizzes"),
            frozenset({EDITOR, TRAINER, TEACHER}),
        )
    ]


@hookimpl
def register_navigation() -> Iterable[NavItem]:
    return [NavItem("quizzes", _l("Question banks"), "quizzes.index", "quizzes.author", order=40)]


@hookimpl
def register_cli_commands() -> Iterable[click.Command]:
    from quizzes.cli import group

    return [group]
