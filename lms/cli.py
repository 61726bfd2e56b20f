"""The ``lms`` command: Flask's CLI plus the core commands (init, demo, serve, create-user,
doctor, backup, restore). Plugins add their own groups (``lms curriculum …``) through
``register_cli_commands``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from lms import create_app

if TYPE_CHECKING:
    from lms.errors import LmsError


def click_error(error: LmsError) -> click.ClickException:
    """A refused change as the command line reports it: the message, then each field's."""
    details = "; ".join(
        f"{field}: {' '.join(str(m) for m in messages)}"
        for field, messages in error.field_errors.items()
    )
    return click.ClickException(f"{error.message} {details}".strip())


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
@click.option("--port", type=int, default=None, help="[default: 5000, or 8000 with --production]")
@click.option(
    "--production",
    is_flag=True,
    help="Run gunicorn (several worker processes) with the project's settings file.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LMS_GUNICORN_CONFIG",
    default=None,
    help="gunicorn settings file for --production [default: deploy/gunicorn.conf.py].",
)
@with_appcontext
def serve_command(host: str, port: int | None, production: bool, config_file: Path | None) -> None:
    """Run the development server, or with --production gunicorn (see docs/deploy.md)."""
    port = port if port is not None else (8000 if production else 5000)
    if production:
        settings = config_file or DEFAULT_GUNICORN_CONFIG
        if not settings.is_file():
            raise click.ClickException(
                f"The gunicorn settings file {settings} does not exist: pass --config FILE "
                "(or set LMS_GUNICORN_CONFIG), e.g. deploy/gunicorn.conf.py of the source tree."
            )
        if not current_app.config["PRODUCTION"]:
            click.echo(
                "Warning: LMS_ENV is not 'production' (development settings under gunicorn).",
                err=True,
            )
        command = gunicorn_command(host, port, settings)
        click.echo(f"Starting gunicorn on {bind_address(host, port)}.")
        sys.stdout.flush()
        sys.stderr.flush()
        # Replace this process: systemd's signals (stop, reload) then reach gunicorn's master.
        os.execv(command[0], command)  # nosec B606  # os.execv of this interpreter with fixed arguments (gunicorn), no shell
        return  # only reached when os.execv is replaced (tests)

    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Serving on http://{host}:{port}/ — press Ctrl+C to stop.")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


#: The settings file of a source checkout (deploy/ sits next to the ``lms`` package).
DEFAULT_GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``--bind`` value; IPv6 addresses go in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def gunicorn_command(host: str, port: int, settings: Path) -> list[str]:
    """gunicorn run by this interpreter, so it uses this virtualenv's packages."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(settings),
        "--bind",
        bind_address(host, port),
        "lms.wsgi:app",
    ]


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
        raise click_error(error) from None
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


@click.group("cache")
def cache_group() -> None:
    """Kept pages and report figures."""


@cache_group.command("clear")
@with_appcontext
def cache_clear_command() -> None:
    """Forget every kept page and report figure, in every web process.

    Run it after writing to the database around the application (psql, a bulk load): those
    writes do not move the data version the kept pages are checked against. After writing
    sessions or attendance that way, run ``lms lessons rebuild-totals`` first; after
    writing classes or memberships, ``lms cohorts rebuild-totals``.
    """
    from lms import pagecache
    from lms.extensions import db

    pagecache.clear()
    db.session.commit()
    click.echo("Kept pages and report figures forgotten.")


@click.group("cohorts")
def cohorts_group() -> None:
    """Cohorts, classes and their members."""


@cohorts_group.command("rebuild-totals")
@with_appcontext
def cohorts_rebuild_totals_command() -> None:
    """Make the students-reached figures the reports read again from every membership.

    The application keeps them up to date itself; run this after writing classes or
    memberships around it (plain SQL, a bulk load), as with ``lms cache clear``.
    """
    from lms.cohorts.totals import rebuild_all
    from lms.extensions import db

    madrasas = rebuild_all()
    db.session.commit()
    click.echo(f"Students-reached figures made again for {madrasas} madrasas.")


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=True, dir_okay=True, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the database to PATH (a directory gets a dated file name), with a manifest.

    SQLite is copied with its online backup API while the site keeps running; PostgreSQL is
    dumped with pg_dump (custom format). See docs/deploy.md for the nightly timer.
    """
    from lms import backup
    from lms.extensions import db

    url = db.engine.url
    try:
        written, manifest = backup.backup(url, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    kind = backup.KIND_NAMES[manifest.kind]
    click.echo(f"Backed up the {kind} database {backup.safe_url(url)} to")
    click.echo(f"  {backup.describe(written, manifest)}")
    click.echo(f"Manifest: {backup.manifest_path(written)}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data of a database that is not empty.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by `lms backup` into the configured database, and verify it.

    Refuses a database that already has tables unless --force. Stop the web and worker
    processes first: a restore replaces what they are working on.
    """
    from lms import backup
    from lms.extensions import db

    url = db.engine.url
    db.session.remove()
    db.engine.dispose()  # this process holds no connection while the data is replaced
    try:
        result = backup.restore(url, path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.engine.dispose()
    click.echo(f"Restored {path} into {backup.safe_url(url)}.")
    # Pages and figures kept in a shared cache (Redis) were made from the data before: the
    # restored data version may be one they were kept under.
    from lms import cache

    cache.cache().clear()
    if result.manifest is None:
        click.echo(
            f"Warning: no manifest ({backup.manifest_path(path).name}) next to the backup, so "
            "the restored data could not be checked against it.",
            err=True,
        )
    elif result.problems:
        for problem in result.problems:
            click.echo(f"  mismatch: {problem}", err=True)
        raise click.ClickException("The restored database does not match the backup's manifest.")
    else:
        manifest = result.manifest
        click.echo(
            f"Verified: {len(manifest.tables)} tables and {manifest.total_rows} rows, as backed "
            f"up on {manifest.created_at} (app {manifest.app_version})."
        )
    head = _migrations_head()
    if result.revision != head:
        click.echo(f"The schema is at {result.revision}; run `lms init` to upgrade it to {head}.")
    click.echo(
        "New certificates are signed with a key that only the LMS_SECRET_KEY of the backed-up "
        "installation opens: use that secret key here, or run `lms certificates keygen`."
    )


def _migrations_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


def core_commands() -> list[click.Command]:
    from lms.audit.cli import COMMANDS as audit_commands  # lms audit …, lms privacy …

    return [
        init_command,
        demo_command,
        serve_command,
        create_user_command,
        doctor_command,
        backup_command,
        restore_command,
        cache_group,
        cohorts_group,
        *audit_commands,
    ]


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=True)
def main() -> None:
    """Madrasa LMS: manage and serve the learning-management system."""
