"""Questions in a bank: create, edit (versioned), archive, link translations, list.

The one rule that matters: an attempt keeps the exact question it answered. So editing a
question whose latest version some ``Answer`` points at makes a new version (number + 1),
and only a version nobody has answered yet is changed in place (so an author fixing a typo
before anyone sat the quiz does not leave a trail of versions behind).

Question-level facts (name, module, language, category) are not versioned: they say where
a question belongs, not what a learner saw. Services flush, never commit, and raise
``lms.errors`` exceptions with field errors for the forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import nh3
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from curriculum import api as curriculum
from lms.audit import services as audit
from lms.config import LANGUAGES
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from quizzes.models import Answer, Question, QuestionBank, QuestionVersion
from quizzes.question_types import get_type
from quizzes.question_types.builtin import TEXT_FORMATS

#: The largest mark a question may be worth by default (a typo guard, not a policy).
MAX_MARK = 1000.0


@dataclass(frozen=True)
class BankRow:
    """One line of a bank's list: the question, its latest version, its translations."""

    question: Question
    version: QuestionVersion
    translations: list[Question] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------


def get_bank(bank_id: int) -> QuestionBank:
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        raise NotFound()
    return bank


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound()
    return question


def latest_version(question: Question) -> QuestionVersion:
    """The version new attempts get (every question has at least one)."""
    version = db.session.scalar(
        select(QuestionVersion)
        .where(QuestionVersion.question_id == question.id)
        .order_by(QuestionVersion.number.desc())
        .limit(1)
    )
    if version is None:  # pragma: no cover - create_question always makes version 1
        raise NotFound()
    return version


def get_version(question: Question, number: int) -> QuestionVersion:
    version = db.session.scalar(
        select(QuestionVersion).where(
            QuestionVersion.question_id == question.id, QuestionVersion.number == number
        )
    )
    if version is None:
        raise NotFound()
    return version


def version_in_use(version_id: int) -> bool:
    """Whether some attempt answered (or is answering) this version."""
    return bool(db.session.scalar(select(exists().where(Answer.question_version_id == version_id))))


def module_slugs(bank: QuestionBank) -> list[str]:
    """The modules of the bank's manual, in the manual's order."""
    manual = curriculum.get_manual(bank.manual_slug)
    return [module.slug for module in manual.modules] if manual is not None else []


def translations_of(question: Question) -> list[Question]:
    """The other questions in its translation group, by language."""
    if question.translation_group is None:
        return []
    return list(
        db.session.scalars(
            select(Question)
            .where(
                Question.translation_group == question.translation_group,
                Question.id != question.id,
            )
            .order_by(Question.language, Question.id)
        )
    )


def list_bank(
    bank: QuestionBank,
    *,
    module_slug: str = "",
    qtype: str = "",
    language: str = "",
    archived: bool = False,
) -> list[BankRow]:
    """The bank's questions (archived ones instead, when asked) with their latest version,
    filtered by module, type and language; three queries whatever the bank's size."""
    latest = (
        select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
        .group_by(QuestionVersion.question_id)
        .subquery()
    )
    query = (
        select(Question, QuestionVersion)
        .join(latest, latest.c.question_id == Question.id)
        .join(
            QuestionVersion,
            (QuestionVersion.question_id == Question.id)
            & (QuestionVersion.number == latest.c.number),
        )
        .where(Question.bank_id == bank.id, Question.archived.is_(archived))
        .order_by(Question.module_slug, Question.name, Question.id)
    )
    if module_slug:
        query = query.where(Question.module_slug == module_slug)
    if qtype:
        query = query.where(QuestionVersion.qtype == qtype)
    if language:
        query = query.where(Question.language == language)
    pairs = [(row[0], row[1]) for row in db.session.execute(query)]
    groups = {q.translation_group for q, _v in pairs if q.translation_group is not None}
    members: dict[int, list[Question]] = {}
    if groups:
        for other in db.session.scalars(
            select(Question)
            .where(Question.translation_group.in_(groups))
            .order_by(Question.language, Question.id)
        ):
            members.setdefault(other.translation_group or 0, []).append(other)
    return [
        BankRow(
            question,
            version,
            [q for q in members.get(question.translation_group or -1, []) if q.id != question.id],
        )
        for question, version in pairs
    ]


# --- showing -------------------------------------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_CLEANER = nh3.Cleaner(
    attributes={
        **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
        "*": {"dir", "lang"},
    },
    url_schemes={"http", "https", "mailto"},
)
_WRAPPING_P = re.compile(r"^\s*<p>(.*)</p>\s*$", re.DOTALL)


def text_html(text: str, text_format: str = "moodle", *, inline: bool = False) -> Markup:
    """Question or answer text as safe HTML, in the GIFT format it was written in.

    Banks come from outside (GIFT files, other teachers), so HTML is never trusted: it goes
    through nh3 whatever the format. Moodle's auto-format is HTML with line breaks kept.
    ``inline`` drops a single wrapping paragraph, for answers inside a label.
    """
    if text_format == "plain":
        html = str(escape(text)).replace("\n", "<br>\n")
    elif text_format == "markdown":
        html = _MARKDOWN.render(text)
    elif text_format == "html":
        html = text
    else:
        html = text.replace("\r\n", "\n").replace("\n", "<br>\n")
    html = _CLEANER.clean(html)
    if inline and (found := _WRAPPING_P.match(html)) and "<p>" not in found.group(1):
        html = found.group(1)
    return Markup(html.strip())  # nosec B704  # nh3-sanitised HTML


# --- checking ------------------------------------------------------------------------------


def _plain_start(text: str, length: int = 80) -> str:
    """A name for an unnamed question: the start of its text, as Moodle's GIFT import does."""
    words = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    return words if len(words) <= length else words[: length - 1].rstrip() + "…"


def _json_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data as it will be stored: a detached copy that JSON can hold."""
    try:
        copied = json.loads(json.dumps(dict(data), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise Invalid(field_errors={"data": [_l("The answers could not be stored.")]}) from error
    return copied


def _check_content(
    qtype_id: str, text: str, text_format: str, data: Mapping[str, Any], default_mark: Any
) -> dict[str, list[Any]]:
    errors: dict[str, list[Any]] = {}
    try:
        qtype = get_type(qtype_id)
    except KeyError:
        return {"qtype": [_l("Unknown question type.")]}
    if not text.strip():
        errors["text"] = [_l("Enter the question text.")]
    if text_format not in TEXT_FORMATS:
        errors["text_format"] = [_l("Unknown text format.")]
    if (
        isinstance(default_mark, bool)
        or not isinstance(default_mark, int | float)
        or not 0 <= default_mark <= MAX_MARK
    ):
        errors["default_mark"] = [_l("Give a mark from 0 to %(max)s.", max=int(MAX_MARK))]
    errors.update(qtype.validate(data))
    return errors


def _check_placement(bank: QuestionBank, language: str, module_slug: str) -> dict[str, list[Any]]:
    errors: dict[str, list[Any]] = {}
    if language not in LANGUAGES:
        errors["language"] = [_l("Choose a language.")]
    if module_slug and module_slug not in module_slugs(bank):
        errors["module_slug"] = [_l("Choose a module of this bank's manual.")]
    return errors


# --- changing ------------------------------------------------------------------------------


def create_question(
    bank: QuestionBank,
    *,
    qtype: str,
    text: str,
    data: Mapping[str, Any],
    name: str = "",
    text_format: str = "moodle",
    language: str = "en",
    module_slug: str | None = None,
    category: str = "",
    general_feedback: str = "",
    default_mark: float = 1.0,
    actor_id: int | None,
) -> Question:
    """Add a question with its version 1 (not committed); audited.

    ``module_slug`` None means the bank's own module, if it has one. A nameless question is
    named after the start of its text, so lists never show a blank line.
    """
    module = bank.module_slug if module_slug is None else module_slug.strip()
    if qtype == "description":
        default_mark = 0.0  # nothing to answer, nothing to score (as in Moodle)
    errors = _check_content(qtype, text, text_format, data, default_mark)
    errors.update(_check_placement(bank, language, module))
    name = name.strip() or _plain_start(text)
    if len(name) > 255:
        errors["name"] = [_l("Use at most 255 characters.")]
    if errors:
        raise Invalid(field_errors=errors)
    question = Question(
        bank_id=bank.id,
        name=name,
        category=category.strip()[:255],
        module_slug=module,
        language=language,
    )
    question.versions.append(
        QuestionVersion(
            number=1,
            qtype=qtype,
            text=text.strip(),
            text_format=text_format,
            data=_json_copy(data),
            general_feedback=general_feedback.strip(),
            default_mark=float(default_mark),
            author_id=actor_id,
        )
    )
    db.session.add(question)
    db.session.flush()
    audit.record(
        "quizzes.question.create",
        "question",
        question.id,
        actor_id=actor_id,
        details={"bank": bank.id, "qtype": qtype, "version": 1},
    )
    return question


def _lock_latest(question: Question) -> QuestionVersion:
    """The latest version, locked until the transaction ends (PostgreSQL; SQLite writes
    one at a time anyway).

    The question row lock makes two edits of one question take turns. The version row
    lock (FOR UPDATE) conflicts with the key-share lock PostgreSQL takes when an ``Answer``
    referencing that version is inserted: an attempt starting right now either committed
    its answer before we look (so we make a new version) or waits until we are done (so it
    gets the edited text, which nobody had answered yet).
    """
    db.session.execute(
        select(Question.id).where(Question.id == question.id).with_for_update()
    ).first()
    version = db.session.scalar(
        select(QuestionVersion)
        .where(QuestionVersion.question_id == question.id)
        .order_by(QuestionVersion.number.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if version is None:  # pragma: no cover - create_question always makes version 1
        raise NotFound()
    return version


def edit_question(
    question: Question,
    *,
    text: str,
    data: Mapping[str, Any],
    name: str | None = None,
    text_format: str | None = None,
    language: str | None = None,
    module_slug: str | None = None,
    general_feedback: str | None = None,
    default_mark: float | None = None,
    expected_number: int | None = None,
    actor_id: int | None,
) -> QuestionVersion:
    """Save an edit and return the version that now holds it (not committed); audited.

    A question's type never changes (Moodle's rule too: a different type is a different
    question). Arguments left None keep their current value. ``expected_number`` is the
    version the author's form showed: if someone else has made a newer one since, saving
    would silently undo their work, so it is a ``Conflict`` instead. An edit that changes
    nothing in the version makes no new version.
    """
    bank = db.session.get(QuestionBank, question.bank_id)
    assert bank is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    current = _lock_latest(question)
    if expected_number is not None and current.number != expected_number:
        raise Conflict(
            _l("Someone else saved a newer version of this question. Reload and try again.")
        )
    text_format = current.text_format if text_format is None else text_format
    general_feedback = (
        current.general_feedback if general_feedback is None else general_feedback.strip()
    )
    if current.qtype == "description":
        default_mark = 0.0
    elif default_mark is None:
        default_mark = current.default_mark
    language = question.language if language is None else language
    module = question.module_slug if module_slug is None else module_slug.strip()
    errors = _check_content(current.qtype, text, text_format, data, default_mark)
    errors.update(_check_placement(bank, language, module))
    new_name = question.name if name is None else (name.strip() or _plain_start(text))
    if len(new_name) > 255:
        errors["name"] = [_l("Use at most 255 characters.")]
    if errors:
        raise Invalid(field_errors=errors)
    if language != question.language and question.translation_group is not None:
        taken = {other.language for other in translations_of(question)}
        if language in taken:
            raise Conflict(
                field_errors={"language": [_l("A translation in this language is linked.")]}
            )

    question.name, question.language, question.module_slug = new_name, language, module
    content = {
        "text": text.strip(),
        "text_format": text_format,
        "data": _json_copy(data),
        "general_feedback": general_feedback,
        "default_mark": float(default_mark),
    }
    changed = any(getattr(current, key) != value for key, value in content.items())
    version, new_version = current, False
    if changed and version_in_use(current.id):
        version = QuestionVersion(
            question_id=question.id,
            number=current.number + 1,
            qtype=current.qtype,
            author_id=actor_id,
            **content,
        )
        new_version = True
        try:
            with db.session.begin_nested():
                db.session.add(version)
        except IntegrityError as error:  # pragma: no cover - the row locks prevent it
            raise Conflict() from error
    elif changed:
        for key, value in content.items():
            setattr(version, key, value)
        version.author_id = actor_id
    db.session.flush()
    audit.record(
        "quizzes.question.edit",
        "question",
        question.id,
        actor_id=actor_id,
        details={"version": version.number, "new_version": new_version, "changed": changed},
    )
    return version


def set_archived(question: Question, archived: bool, *, actor_id: int | None) -> None:
    """Archive a question (it leaves the bank's list and random draws; attempts and fixed
    quiz slots keep it), or bring it back."""
    if question.archived == archived:
        return
    question.archived = archived
    db.session.flush()
    audit.record(
        "quizzes.question.archive" if archived else "quizzes.question.restore",
        "question",
        question.id,
        actor_id=actor_id,
    )


def link_translation(question: Question, other: Question, *, actor_id: int | None) -> int:
    """Make two questions (and whatever each is already linked to) translations of each
    other; returns the group, which is the id of its first question.

    Translations live in one bank and a group holds one question per language, so a
    teacher switching a quiz to Kyrgyz gets exactly one Kyrgyz twin for each question.
    """
    if question.id == other.id:
        raise Invalid(field_errors={"other_id": [_l("Choose another question.")]})
    if question.bank_id != other.bank_id:
        raise Invalid(field_errors={"other_id": [_l("Choose a question of the same bank.")]})
    members = {question.id: question, other.id: other}
    for item in (question, other):
        for linked in translations_of(item):
            members[linked.id] = linked
    languages = [member.language for member in members.values()]
    if len(languages) != len(set(languages)):
        raise Conflict(
            field_errors={
                "other_id": [_l("The linked questions would have two in the same language.")]
            }
        )
    group = min(members)
    for member in members.values():
        member.translation_group = group
    db.session.flush()
    audit.record(
        "quizzes.question.link_translation",
        "question",
        question.id,
        actor_id=actor_id,
        details={"other": other.id, "group": group},
    )
    return group


def unlink_translation(question: Question, *, actor_id: int | None) -> None:
    """Take a question out of its translation group (a group of one is no group)."""
    if question.translation_group is None:
        return
    rest = translations_of(question)
    old_group = question.translation_group
    question.translation_group = None
    if len(rest) == 1:
        rest[0].translation_group = None
    elif rest and old_group == question.id:
        # The group is named after its first question; that is now the next one.
        for member in rest:
            member.translation_group = min(m.id for m in rest)
    db.session.flush()
    audit.record(
        "quizzes.question.unlink_translation",
        "question",
        question.id,
        actor_id=actor_id,
        details={"group": old_group},
    )
