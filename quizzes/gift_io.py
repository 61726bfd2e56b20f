"""Importing a GIFT file into a question bank, and exporting a bank as GIFT.

An import is all or nothing: the whole file is parsed and every question checked by its
question type before the first row is written, so a teacher who fixes the lines listed in
the report and uploads again never ends up with half a file twice. Services flush and never
commit; the caller commits the one transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.csv_import import CONTROL_BYTES, not_utf8_line
from lms.audit import services as audit
from lms.config import LANGUAGES
from lms.errors import Invalid
from lms.extensions import db
from quizzes.gift import (
    ANY_ANSWER,
    GIFT_TYPES,
    GiftError,
    GiftProblem,
    ParsedQuestion,
    parse_gift,
    write_gift,
)
from quizzes.models import Question, QuestionBank, QuestionVersion
from quizzes.question_types import registry

__all__ = [
    "MAX_BYTES",
    "GiftImport",
    "bank_questions",
    "decode_gift",
    "export_gift",
    "find_bank",
    "import_gift",
]

#: Largest GIFT file accepted (a bank of a few thousand questions fits well within it).
MAX_BYTES = 1024 * 1024


@dataclass
class GiftImport:
    """What an import added: counts by question type, the category changes in the file,
    and the new questions' ids in file order."""

    counts: dict[str, int]
    categories: list[str]
    question_ids: list[int] = field(default_factory=list)
    #: how many of the multichoice questions allow several answers
    multiple_answer: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def find_bank(name: str, manual_slug: str | None = None) -> QuestionBank | None:
    """The bank with this name (in this manual, when given); names are unique only within a
    manual, so a name used in several manuals needs the manual, or it is ``Invalid``."""
    query = select(QuestionBank).where(QuestionBank.name == name.strip())
    if manual_slug:
        query = query.where(QuestionBank.manual_slug == manual_slug)
    banks = list(db.session.scalars(query.order_by(QuestionBank.id)))
    if len(banks) > 1:
        raise Invalid(
            _l(
                "Several manuals have a bank called “%(name)s”; say which manual: %(manuals)s.",
                name=name,
                manuals=", ".join(bank.manual_slug for bank in banks),
            )
        )
    return banks[0] if banks else None


def decode_gift(data: bytes) -> str:
    """The bytes of an uploaded or given file as text (UTF-8, with or without a BOM), or
    ``Invalid`` saying what is wrong with the file itself."""
    if len(data) > MAX_BYTES:
        raise Invalid(_l("The file is larger than %(size)s MB.", size=MAX_BYTES // (1024 * 1024)))
    if not data.strip():
        raise Invalid(_l("The file is empty."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or CONTROL_BYTES.search(data):
        raise Invalid(_l("The file is not UTF-8 text (it looks like UTF-16 or a binary file)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(
            _l(
                "%(problem)s The first such character is on line %(line)s.",
                problem=_l(
                    "The file is not in UTF-8, so letters would come out wrong. Save it again "
                    "with the encoding “UTF-8”."
                ),
                line=not_utf8_line(data, error),
            )
        ) from None


def _check_data(question: ParsedQuestion) -> list[GiftProblem]:
    """The question type's own checks, as problems on the lines they concern.

    Moodle stores ``~#feedback`` in a numerical question as a ``*`` answer worth nothing;
    the type checks numbers only, so that row is left out of the check (and kept).
    """
    qtype = registry().get(question.qtype)
    if qtype is None:
        return [
            GiftProblem(
                question.line,
                _l(
                    "Questions of the type %(type)s cannot be stored here (the type is not "
                    "available).",
                    type=question.qtype,
                ),
            )
        ]
    data: dict[str, Any] = question.data
    kept = list(range(len(question.answer_lines)))
    if question.qtype == "numerical":
        kept = [i for i, a in enumerate(data.get("answers", [])) if a.get("value") != ANY_ANSWER]
        data = {**data, "answers": [data["answers"][i] for i in kept]}
    problems: list[GiftProblem] = []
    for key, messages in qtype.validate(data).items():
        line = question.line
        parts = key.split(".")
        number = None
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(kept):
            index = kept[int(parts[1])]
            if index < len(question.answer_lines):
                line = question.answer_lines[index]
            number = index + 1
        for message in messages:
            if number is None:
                problems.append(GiftProblem(line, message))
            else:
                problems.append(
                    GiftProblem(
                        line, _l("Answer %(num)s: %(message)s", num=number, message=message)
                    )
                )
    return problems


def check_questions(questions: list[ParsedQuestion], filename: str = "") -> None:
    """Raise ``GiftError`` with every problem the question types find."""
    problems: list[GiftProblem] = []
    for question in questions:
        for problem in _check_data(question):
            problems.append(GiftProblem(problem.line, problem.message, filename))
    if problems:
        raise GiftError(problems)


def import_gift(
    bank: QuestionBank,
    text: str,
    *,
    actor_id: int | None,
    language: str,
    filename: str = "",
) -> GiftImport:
    """Add every question of a GIFT text to ``bank`` (flushed, not committed); audited once
    as ``quizzes.gift.import``.

    Raises ``GiftError`` (every problem with its line) before anything is added, or
    ``Invalid`` for an unknown language. Questions get the bank's module, and keep the
    ``$CATEGORY:`` they were under, so an export puts them back in the same categories.
    """
    if language not in LANGUAGES:
        raise Invalid(field_errors={"language": [_l("Choose a language.")]})
    result = parse_gift(text, filename)
    check_questions(result.questions, filename)

    created: list[Question] = []
    for parsed in result.questions:
        question = Question(
            bank_id=bank.id,
            name=parsed.name,
            category=parsed.category,
            module_slug=bank.module_slug,
            language=language,
        )
        question.versions.append(
            QuestionVersion(
                number=1,
                qtype=parsed.qtype,
                text=parsed.text,
                text_format=parsed.text_format,
                data=parsed.data,
                general_feedback=parsed.general_feedback,
                default_mark=parsed.default_mark,
                author_id=actor_id,
            )
        )
        db.session.add(question)
        created.append(question)
    db.session.flush()

    counts = dict(Counter(parsed.qtype for parsed in result.questions))
    multiple = sum(
        1
        for parsed in result.questions
        if parsed.qtype == "multichoice" and not parsed.data.get("single", True)
    )
    audit.record(
        "quizzes.gift.import",
        "question_bank",
        bank.id,
        actor_id=actor_id,
        details={
            "questions": len(created),
            "counts": counts,
            "categories": result.categories_changed,
            "language": language,
            "filename": filename,
        },
    )
    return GiftImport(
        counts=counts,
        categories=result.categories_changed,
        question_ids=[question.id for question in created],
        multiple_answer=multiple,
    )


def bank_questions(bank: QuestionBank) -> list[ParsedQuestion]:
    """The latest version of each question in the bank that is not archived, as GIFT sees
    it: uncategorised questions first (GIFT cannot go back to "no category"), then in the
    order they were added, so an exported import comes out in the file's order."""
    latest = (
        select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
        .group_by(QuestionVersion.question_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Question, QuestionVersion)
        .join(latest, latest.c.question_id == Question.id)
        .join(
            QuestionVersion,
            (QuestionVersion.question_id == Question.id)
            & (QuestionVersion.number == latest.c.number),
        )
        .where(Question.bank_id == bank.id, Question.archived.is_(False))
        .order_by(Question.id)
    ).all()
    questions = [
        ParsedQuestion(
            qtype=version.qtype,
            name=question.name,
            text=version.text,
            text_format=version.text_format,
            data=dict(version.data or {}),
            general_feedback=version.general_feedback,
            default_mark=version.default_mark,
            category=question.category,
        )
        for question, version in rows
    ]
    return sorted(questions, key=lambda q: q.category != "")


def export_gift(bank: QuestionBank) -> str:
    """The bank as a GIFT file (latest versions, archived questions left out).

    Questions of types GIFT has no syntax for (from other packages) are left out and listed
    in a comment at the top, so nobody mistakes the file for the whole bank.
    """
    questions = bank_questions(bank)
    written = [q for q in questions if q.qtype in GIFT_TYPES]
    skipped = [q for q in questions if q.qtype not in GIFT_TYPES]
    name = " ".join(bank.name.split())
    header = [f"// {name} ({bank.manual_slug}): {len(written)} question(s)"]
    for question in skipped:
        title = " ".join(question.name.split())
        header.append(f"// not exported (type {question.qtype} has no GIFT form): {title}")
    return "\n".join(header) + "\n\n" + write_gift(written)
