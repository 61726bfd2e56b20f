"""``lms lessons …`` commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("lessons")
def group() -> None:
    """Teaching sessions, attendance and monitoring visits."""


@group.command("taught-by")
@click.argument("username")
@with_appcontext
def taught_by_command(username: str) -> None:
    """List the classes and ToT cohorts USERNAME teaches or trains."""
    from sqlalchemy import select

    from lessons.services import groups_led_by
    from lms.accounts.models import User
    from lms.extensions import db

    user = db.session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    groups = groups_led_by(user)
    if not groups:
        click.echo(f"{username} teaches no class and trains no cohort.")
    for group_ in groups:
        click.echo(
            f"{group_.cohort.name}: {group_.learners} learners "
            f"({group_.female} female, {group_.male} male)"
        )
