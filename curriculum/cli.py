"""``lms curriculum …`` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("curriculum")
def group() -> None:
    """Manuals, modules, reviews and editions."""


@group.command("manuals")
@with_appcontext
def manuals_command() -> None:
    """List the manuals."""
    from curriculum.services import list_manuals

    manuals = list_manuals()
    if not manuals:
        click.echo("No manuals yet.")
    for manual in manuals:
        click.echo(f"{manual.slug:<20} {manual.title_en}")


@group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--submit", is_flag=True, help="Also submit the new drafts for review.")
@click.option("--as-user", "username", default=None, help="Record this user as the author.")
@with_appcontext
def import_command(path: Path, submit: bool, username: str | None) -> None:
    """Import module files (a folder, searched recursively, or one file) as drafts.

    Every file is checked first; if any has a problem, each problem is printed with its file
    and line and nothing is imported.
    """
    from curriculum import io, versions
    from lms.extensions import db

    author_id = _user_id(username)
    try:
        report = io.import_files(io.read_folder(path), actor_id=author_id)
        if submit:
            for version in report.created:
                versions.submit(version, actor_id=author_id)
    except io.ImportFailed as failure:
        db.session.rollback()
        for problem in failure.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(failure.problems)} problem(s) found; nothing was imported."
        ) from None
    db.session.commit()
    for version in report.created:
        state = "submitted" if submit else "draft"
        click.echo(f"created  {version.module.slug} {version.language} v{version.number} ({state})")
    for name in report.unchanged:
        click.echo(f"same     {name}")
    click.echo(f"{len(report.created)} new version(s), {len(report.unchanged)} unchanged.")


@group.command("export")
@click.argument("manual_slug")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--approved", is_flag=True, help="Only approved versions (default: the latest).")
@click.option("--language", "languages", multiple=True, type=click.Choice(["en", "ru", "ky"]))
@with_appcontext
def export_command(
    manual_slug: str, path: Path, approved: bool, languages: tuple[str, ...]
) -> None:
    """Write a manual's modules to PATH/<language>/<NN>-<module>.md."""
    from curriculum import io
    from curriculum.services import get_manual

    manual = get_manual(manual_slug)
    if manual is None:
        raise click.ClickException(f"There is no manual {manual_slug!r}.")
    written = io.export_manual(manual, path, approved_only=approved, languages=languages)
    for file in written:
        click.echo(str(file))
    click.echo(f"{len(written)} file(s) written.")


def _user_id(username: str | None) -> int | None:
    if username is None:
        return None
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.extensions import db

    user_id = db.session.scalar(select(User.id).where(User.username == username.lower()))
    if user_id is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user_id
