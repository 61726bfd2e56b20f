"""``lms curriculum …`` commands."""

from __future__ import annotations

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
