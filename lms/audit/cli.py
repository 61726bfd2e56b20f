"""``lms audit …`` (check and export the audit log) and ``lms privacy …`` (a person's data).

``lms audit verify`` prints OK and the chain's head, or every problem, and exits 1 on any.
Note the head it prints somewhere else (a ticket, the backup's notes): passing it back as
``--anchor ID:HASH`` later also shows entries deleted from the end of the log.
"""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """Check and export the hash-chained audit log."""


def _anchor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple | None:
    if not value:
        return None
    entry_id, _, digest = value.partition(":")
    if not entry_id.isdigit() or len(digest) != 64:
        raise click.BadParameter("use ID:HASH, as `lms audit verify` printed them")
    return int(entry_id), digest.lower()


@audit_group.command("verify")
@click.option(
    "--anchor",
    callback=_anchor,
    metavar="ID:HASH",
    help="An entry and its hash noted earlier: also detect entries deleted from the end.",
)
@click.option(
    "--after-archive",
    "start",
    default=None,
    metavar="HASH",
    help="The hash of the last archived entry, when older entries were archived and deleted.",
)
@with_appcontext
def verify_command(anchor: tuple[int, str] | None, start: str | None) -> None:
    """Walk the chain; print OK, or each changed, deleted, moved or forged entry."""
    from lms.audit import services

    report = services.verify(anchor, start=start or services.GENESIS)
    if report.ok:
        click.echo(f"OK: {report.entries} entries, the chain is intact.")
        if report.legacy:
            click.echo(
                f"  {report.legacy} of them are from before the chain was keyed (plain SHA-256)."
            )
        if report.head_id is not None:
            click.echo(
                f"Head (note it to pass as --anchor later): {report.head_id}:{report.head_hash}"
            )
        return
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}")
    click.echo(
        f"{len(report.problems)} problem(s) in {report.entries} entries. If every entry is "
        "reported, check that LMS_SECRET_KEY (or LMS_AUDIT_KEY) is the installation's own.",
        err=True,
    )
    sys.exit(1)


@audit_group.command("export")
@click.option("--since-id", type=int, default=0, show_default=True, help="Only entries after it.")
@with_appcontext
def export_command(since_id: int) -> None:
    """Write the entries as JSON Lines to standard output (for an archive or a log server)."""
    from lms.audit import services

    for row in services.export_rows(since_id):
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str))


@click.group("privacy")
def privacy_group() -> None:
    """A person's data: export it as JSON, or anonymise the account."""


def _person(username: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.accounts.services import normalise_username
    from lms.extensions import db

    person = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if person is None:
        raise click.ClickException(f"There is no user {username!r}.")
    return person


@privacy_group.command("export")
@click.argument("username")
@with_appcontext
def privacy_export_command(username: str) -> None:
    """Print everything held about USERNAME as JSON:  lms privacy export NAME > file.json"""
    from lms import privacy
    from lms.extensions import db

    person = _person(username)
    data = privacy.export(person)
    privacy.record_export(person, actor_id=None, via="cli")
    db.session.commit()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))


@privacy_group.command("anonymise")
@click.argument("username")
@click.option("--reason", required=True, help="Why (kept in the audit log; not the name).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def privacy_anonymise_command(username: str, reason: str, yes: bool) -> None:
    """Replace USERNAME's name with a pseudonym, clear contact data, disable the account."""
    from lms import privacy
    from lms.errors import LmsError
    from lms.extensions import db

    person = _person(username)
    if not yes:
        click.confirm(
            f"Anonymise {person.username} (id {person.id})? This cannot be undone.", abort=True
        )
    try:
        name = privacy.anonymise(person, reason=reason, actor_id=None, via="cli")
    except LmsError as error:
        db.session.rollback()
        from lms.cli import click_error

        raise click_error(error) from None
    db.session.commit()
    click.echo(f"Anonymised user {person.id}: now {name!r} ({person.username}), disabled.")


#: Mounted by ``lms.cli.core_commands``.
COMMANDS = [audit_group, privacy_group]
