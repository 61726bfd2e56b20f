"""Hook registrations of the certificates plugin."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask

from lms import hookimpl


@hookimpl
def register_blueprints(app: Flask) -> Iterable[Blueprint]:
    from certificates.views import bp

    return [bp]
