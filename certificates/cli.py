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


@group.command("keygen")
@with_appcontext
def keygen_command() -> None:
    """Make a new signing key; the old one is retired but stays published (old certificates
    still verify)."""
    from certificates.keys import create_key
    from lms.extensions import db

    key = create_key(actor_id=None)
    db.session.commit()
    click.echo(f"New signing key {key.key_id}: {key.public_multikey}")


@group.command("keys")
@with_appcontext
def keys_command() -> None:
    """List every signing key, active or retired."""
    from certificates.keys import key_usable, published_keys

    keys = published_keys()
    if not keys:
        click.echo("No signing key yet: the first issuance makes one (or run `keygen`).")
    for key in keys:
        state = "active" if key.active else f"retired {key.retired_at:%Y-%m-%d}"
        click.echo(f"{key.key_id:<8} {state:<18} {key.public_multikey}")
    if not key_usable():
        click.echo("The active key cannot be opened with this LMS_SECRET_KEY: run keygen.")


@group.command("verify")
@click.argument("source")
@click.option(
    "--issuer",
    "issuer_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The issuer profile (JSON, from /certificates/issuer) to take the keys from, "
    "instead of this installation's database.",
)
@with_appcontext
def verify_command(source: str, issuer_file: str | None) -> None:
    """Check a certificate's signatures without a server.

    SOURCE is a PDF or a credential (JSON) file, or the text of the QR code (the address
    with its #t= token), or the token itself; '-' reads standard input.
    """
    import json
    import sys
    from pathlib import Path

    from certificates.verification import KeyRing, check_payload

    if source == "-":
        data = sys.stdin.buffer.read()
    elif Path(source).is_file():
        data = Path(source).read_bytes()
    else:
        data = source.encode()
    keys = None
    if issuer_file:
        try:
            keys = KeyRing(json.loads(Path(issuer_file).read_text(encoding="utf-8")))
        except ValueError as error:
            raise click.ClickException(f"{issuer_file} is not an issuer profile: {error}") from None
    report = check_payload(data, keys)
    for name, value in report.facts.items():
        if value:
            click.echo(f"{name:>16}: {value}")
    for check in report.checks:
        mark = {True: "ok  ", False: "FAIL", None: "?   "}[check.ok]
        click.echo(f"[{mark}] {check.what}{': ' + check.detail if check.detail else ''}")
    if not report.ok:
        sys.exit(1)


@group.command("issue")
@click.argument("cohort_id", type=int)
@click.option("--actor", "username", required=True, help="The administrator issuing them.")
@with_appcontext
def issue_command(cohort_id: int, username: str) -> None:
    """Issue certificates to everyone who completed a cohort, and render their PDFs."""
    from sqlalchemy import select

    from certificates import issuance, rendering
    from lms.accounts.models import User
    from lms.cohorts.services import get_cohort
    from lms.errors import LmsError
    from lms.extensions import db

    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        made = issuance.issue_to_completers(get_cohort(cohort_id), actor=actor)
        db.session.commit()
    except LmsError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Issued {len(made)} certificates.")
    for certificate in made:
        rendering.ensure_pdf(certificate)
    click.echo("Rendered their PDFs.")
