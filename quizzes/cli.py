"""``lms quizzes …`` commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("quizzes")
def group() -> None:
    """Question banks, quizzes and results."""


@group.command("banks")
@with_appcontext
def banks_command() -> None:
    """List the question banks."""
    from quizzes.services import list_banks

    banks = list_banks()
    if not banks:
        click.echo("No question banks yet.")
    for bank in banks:
        click.echo(f"{bank.manual_slug:<20} {bank.name}")
