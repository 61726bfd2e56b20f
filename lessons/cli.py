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


@group.command("rebuild-totals")
@with_appcontext
def rebuild_totals_command() -> None:
    """Make the attendance totals the reports read again from every mark.

    The application keeps them up to date itself; run this after writing sessions or
    attendance around it (plain SQL, a bulk load), as with ``lms cache clear``.
    """
    from lessons.totals import rebuild_all
    from lms.extensions import db

    cohorts = rebuild_all()
    db.session.commit()
    click.echo(f"Attendance totals made again for {cohorts} cohorts.")
