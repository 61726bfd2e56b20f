"""Hook registrations of the quizzes plugin."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask

from lms import hookimpl
from quizzes import models  # noqa: F401  (tables belong to the one Alembic history)


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from quizzes.views import bp

    return [bp]
