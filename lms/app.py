"""Building the Flask application (``lms.create_app`` calls ``build_app``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from lms.config import LANGUAGES, build_config
from lms.errors import register_error_handlers
from lms.extensions import babel, csrf, db, limiter, login_manager, migrate
from lms.plugins import LmsState, PluginError, build_plugin_manager, collect_registries

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def build_app(config: Mapping[str, Any] | None = None, *, plugins: Iterable[object] = ()) -> Flask:
    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get("LMS_INSTANCE_PATH")
    app = Flask(
        "lms",
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
    )
    app.config.update(build_config(app.instance_path, overrides))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)

    pm = build_plugin_manager(
        disabled=app.config["DISABLED_PLUGINS"],
        load_entrypoints=app.config["LOAD_ENTRYPOINTS"],
        extra_plugins=plugins,
    )
    app.extensions["lms"] = LmsState(pm=pm, registries=collect_registries(pm))
    pm.hook.init_app(app=app)

    _import_core_models()
    _register_blueprints(app)
    _register_cli(app)
    register_error_handlers(app)
    _register_template_helpers(app)

    from lms import cache
    from lms.jobs import init_celery

    init_celery(app)
    cache.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _configure_sqlite(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the log-in page explains itself
    login_manager.session_protection = "basic"
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)

    from lms import security
    from lms.accounts import sessions

    sessions.init_app(app)  # the user loader, and session timeouts checked on each request
    security.init_app(app)  # security headers and Cache-Control on every response


def _configure_sqlite(app: Flask) -> None:
    """WAL and a busy timeout, so concurrent requests wait instead of failing."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()


def select_locale() -> str:
    """The user's chosen language, else the session's, else the browser's, else English."""
    if not has_request_context():
        return "en"  # command line and background jobs
    if current_user.is_authenticated and current_user.preferred_language in LANGUAGES:
        return current_user.preferred_language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def _import_core_models() -> None:
    """Make sure every core table is in the metadata (Alembic compares against it)."""
    import lms.accounts.models
    import lms.audit.models
    import lms.cohorts.models
    import lms.jobs
    import lms.organisations.models
    import lms.pagecache
    import lms.progress.completion
    import lms.progress.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from lms.accounts.admin_views import bp as admin_bp
    from lms.accounts.views import bp as accounts_bp
    from lms.api import bp as api_bp
    from lms.cohorts.views import bp as cohorts_bp
    from lms.organisations.views import bp as organisations_bp
    from lms.reports.views import bp as reports_bp
    from lms.views import bp as core_bp

    core = (core_bp, accounts_bp, admin_bp, organisations_bp, cohorts_bp, reports_bp, api_bp)
    for blueprint in core:
        app.register_blueprint(blueprint)
    pm = app.extensions["lms"].pm
    for result in pm.hook.register_blueprints(app=app):
        for blueprint in result or ():
            if blueprint.name in app.blueprints:
                raise PluginError(f"two plugins register the blueprint {blueprint.name!r}")
            app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from lms.cli import core_commands

    for command in core_commands():
        app.cli.add_command(command)
    pm = app.extensions["lms"].pm
    for result in pm.hook.register_cli_commands():
        for command in result or ():
            if command.name in app.cli.commands:
                raise PluginError(f"two plugins register the command {command.name!r}")
            app.cli.add_command(command)


def format_iso_date(value: str, format: str = "medium") -> str:
    """A date kept as ISO text (in frozen records such as an edition's sign-off) written
    the reader's way; text that is not a date is shown as it is."""
    try:
        return str(format_date(date.fromisoformat(value), format))
    except (TypeError, ValueError):
        return value


def _register_template_helpers(app: Flask) -> None:
    from lms.accounts.permissions import can
    from lms.accounts.roles import EXPERTISE, MEMBER_ROLES, ROLES, SEXES

    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        ROLES=ROLES,
        MEMBER_ROLES=MEMBER_ROLES,
        EXPERTISE=EXPERTISE,
        SEXES=SEXES,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_iso_date=format_iso_date,
        get_locale=get_locale,
    )

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        registries = app.extensions["lms"].registries

        def navigation() -> list[Any]:
            if not current_user.is_authenticated:
                return []
            return [
                item
                for item in registries.navigation
                if item.permission is None or can(current_user, item.permission)
            ]

        return {
            "navigation": navigation,
            "can": lambda p, o=None: can(current_user, p, o),
        }
