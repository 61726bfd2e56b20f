"""The ``lms`` command: Flask's CLI plus the core commands (init, demo, serve, create-user,
doctor). Plugins add their own groups (``lms curriculum …``) through ``register_cli_commands``.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from lms import create_app


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database, or upgrade it to the newest schema."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("The database is ready.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo data (regions, madrasas, a ToT cohort, a class, one user per role)."""
    from lms.demo import DEMO_PASSWORD, load_demo

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Demo data is refused in production.")
    users, created = load_demo()
    click.echo("Demo data loaded." if created else "Demo data was already there.")
    click.echo(f"Log in with any of these user names and the password: {DEMO_PASSWORD}")
    for username, label in users:
        click.echo(f"  {username:<14} {label}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server (for a laptop; use gunicorn in production)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Serving on http://{host}:{port}/ — press Ctrl+C to stop.")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--name", prompt="Full name")
@click.option("--sex", type=click.Choice(["female", "male"]), prompt=True)
@click.option("--language", type=click.Choice(["en", "ru", "ky"]), default="ru", show_default=True)
@click.option("--role", "roles", multiple=True, help="A role to grant (repeatable), e.g. admin.")
@click.option("--expertise", default=None, help="For --role reviewer: the reviewer's domain.")
@click.password_option()
@with_appcontext
def create_user_command(
    username: str,
    name: str,
    sex: str,
    language: str,
    roles: tuple[str, ...],
    expertise: str | None,
    password: str,
) -> None:
    """Create an account (for example the first administrator)."""
    from lms.accounts import services
    from lms.errors import LmsError
    from lms.extensions import db

    try:
        user = services.create_user(
            username=username, name=name, sex=sex, password=password, preferred_language=language
        )
        for role in roles:
            services.grant_role(user, role, expertise=expertise, actor_id=None)
    except LmsError as error:
        db.session.rollback()
        details = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in error.field_errors.items()
        )
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"Created {user.username} ({', '.join(roles) or 'no roles'}).")


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the database, migrations, PDF libraries and fonts; say how to fix what is missing."""
    from lms.doctor import run_checks

    failures = 0
    for check in run_checks():
        mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.status]
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        if check.fix and check.status != "ok":
            click.echo(f"       fix: {check.fix}")
        failures += check.status == "fail"
    if failures:
        sys.exit(1)


def core_commands() -> list[click.Command]:
    return [init_command, demo_command, serve_command, create_user_command, doctor_command]


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=True)
def main() -> None:
    """Madrasa LMS: manage and serve the learning-management system."""
