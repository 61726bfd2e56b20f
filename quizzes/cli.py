"""``lms quizzes …`` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("quizzes")
def group() -> None:
    """Question banks, quizzes and results."""


@group.command("rebuild-statistics")
@with_appcontext
def rebuild_statistics_command() -> None:
    """Count the answers the item analysis reads again, from every graded attempt.

    The application keeps the counts up to date itself; run this after writing attempts or
    answers around it (plain SQL, a bulk load), as with ``lms cache clear``.
    """
    from lms.extensions import db
    from quizzes.statistics import rebuild_all

    quizzes = rebuild_all()
    db.session.commit()
    click.echo(f"Item-analysis counts made again for {quizzes} quizzes.")


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


@group.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", required=True, help="The question bank to add to.")
@click.option(
    "--manual",
    "manual_slug",
    default=None,
    help="The bank's manual: needed to create a new bank, or when several manuals have a "
    "bank of that name.",
)
@click.option("--language", default="en", show_default=True, help="The language of the questions.")
@with_appcontext
def import_gift_command(file: Path, bank_name: str, manual_slug: str | None, language: str) -> None:
    """Import the questions of a GIFT file (Moodle's format) into a question bank.

    The whole file is checked first; if any question has a problem, every problem is printed
    as FILE:LINE: reason and nothing is imported. A bank that does not exist yet is created
    for --manual.
    """
    from curriculum import api as curriculum
    from lms.errors import LmsError
    from lms.extensions import db
    from quizzes import gift_io, services
    from quizzes.gift import GiftError

    created = False
    try:
        text = gift_io.decode_gift(file.read_bytes())
        bank = gift_io.find_bank(bank_name, manual_slug)
        if bank is None:
            if not manual_slug:
                raise click.ClickException(
                    f"There is no question bank called {bank_name!r}. To create it, give the "
                    "manual it belongs to with --manual SLUG."
                )
            if curriculum.get_manual(manual_slug) is None:
                raise click.ClickException(f"There is no manual {manual_slug!r}.")
            bank = services.create_bank(name=bank_name, manual_slug=manual_slug, actor_id=None)
            created = True
        report = gift_io.import_gift(
            bank, text, actor_id=None, language=language, filename=str(file)
        )
    except GiftError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(f"{file}:{problem.line}: {problem.message}", err=True)
        raise click.ClickException(
            f"{len(error.problems)} problem(s) found; nothing was imported."
        ) from None
    except LmsError as error:
        db.session.rollback()
        details = [str(m) for messages in error.field_errors.values() for m in messages]
        raise click.ClickException(f"{file}: " + " ".join([str(error.message), *details])) from None
    except click.ClickException:
        db.session.rollback()
        raise
    db.session.commit()
    if created:
        click.echo(f"Created the question bank {bank.name!r} for the manual {bank.manual_slug}.")
    click.echo(f"Imported {report.total} question(s) into {bank.name!r} ({bank.manual_slug}):")
    for qtype, count in sorted(report.counts.items()):
        extra = ""
        if qtype == "multichoice":
            extra = f" ({count - report.multiple_answer} single answer, "
            extra += f"{report.multiple_answer} multiple answer)"
        click.echo(f"  {qtype:<12} {count}{extra}")
    for category in report.categories:
        click.echo(f"Category changed to: {category}")


@group.command("export-gift")
@click.option("--bank", "bank_name", required=True, help="The question bank to export.")
@click.option(
    "--manual",
    "manual_slug",
    default=None,
    help="The bank's manual, when several manuals have a bank of that name.",
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@with_appcontext
def export_gift_command(bank_name: str, manual_slug: str | None, file: Path) -> None:
    """Write a question bank to a GIFT file ("-" for standard output): the latest version of
    every question that is not archived."""
    from lms.errors import LmsError
    from quizzes import gift_io
    from quizzes.gift import GIFT_TYPES

    try:
        bank = gift_io.find_bank(bank_name, manual_slug)
    except LmsError as error:
        raise click.ClickException(str(error.message)) from None
    if bank is None:
        raise click.ClickException(f"There is no question bank called {bank_name!r}.")
    text = gift_io.export_gift(bank)
    if str(file) == "-":
        click.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    count = sum(1 for q in gift_io.bank_questions(bank) if q.qtype in GIFT_TYPES)
    click.echo(f"Exported {count} question(s) from {bank.name!r} to {file}.")
