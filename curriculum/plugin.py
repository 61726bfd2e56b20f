"""Hook registrations of the curriculum plugin."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask

from lms import hookimpl
from curriculum import models  # noqa: F401  (tables belong to the one Alembic history)


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from curriculum.views import bp

    return [bp]
