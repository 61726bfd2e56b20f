"""``lms certificates …`` commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("certificates")
def group() -> None:
    """Certificate designs, issuance and verification."""


@group.command("designs")
@with_appcontext
def designs_command() -> None:
    """List the certificate designs every package registered."""
    from certificates.designs import all_templates

    for design in all_templates().values():
        click.echo(f"{design.id:<20} {design.kind:<18} {', '.join(design.languages)}")
