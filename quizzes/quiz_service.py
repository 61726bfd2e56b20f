"""Quizzes of a cohort and their slots: creating, editing, publishing.

A quiz belongs to one cohort; its slots say which questions an attempt gets (a fixed
question, or N questions drawn at random from a bank, optionally from one module). The
questions themselves are only read here, through their latest version; an attempt freezes
the versions it was given, so editing a question later never changes an old attempt.
Once anyone has attempted a quiz its slots no longer change, so every attempt of a quiz
answers a comparable set of questions (results and pre/post gains rely on that).

Plain functions that raise the domain errors and never commit; changes are audited.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.audit import services as audit
from lms.cohorts.models import Cohort
from lms.config import LANGUAGES
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.memo import forget, remembered
from lms.progress import completion
from lms.timeutil import utcnow
from quizzes.models import (
    KINDS,
    Attempt,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    QuizSlot,
)
from quizzes.question_types import get_type

SHOW_RESULTS = ("immediately", "after_close", "never")
KIND_LABELS = {
    "practice": _l("Practice"),
    "pre": _l("Pre-test"),
    "post": _l("Post-test"),
    "final": _l("Final test"),
}
SHOW_RESULTS_LABELS = {
    "immediately": _l("Immediately after the attempt"),
    "after_close": _l("After the quiz closes"),
    "never": _l("Never"),
}
MAX_ATTEMPTS = 100
MAX_TIME_LIMIT = 24 * 60
MAX_RANDOM = 200


@dataclass
class QuizSettings:
    """Everything an author sets on a quiz except its slots (what the form edits)."""

    title: str
    kind: str = "practice"
    language: str = "en"
    attempts_allowed: int = 1
    time_limit_minutes: int | None = None
    shuffle_questions: bool = False
    shuffle_answers: bool = True
    pass_mark: float = 60.0
    show_results: str = "immediately"
    show_feedback: bool = True
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @classmethod
    def of(cls, quiz: Quiz) -> QuizSettings:
        return cls(**{name: getattr(quiz, name) for name in cls.__dataclass_fields__})


# --- reading ---------------------------------------------------------------------------------


def get_quiz(quiz_id: int) -> Quiz:
    """One quiz with its slots; a quiz whose cohort was deleted is gone for every page."""
    found = db.session.scalars(
        select(Quiz).where(Quiz.id == quiz_id).options(selectinload(Quiz.slots))
    ).one_or_none()
    if found is None or found.cohort_id is None:
        raise NotFound()
    return found


def cohort_of(quiz: Quiz) -> Cohort:
    cohort = db.session.get(Cohort, quiz.cohort_id) if quiz.cohort_id is not None else None
    if cohort is None:
        raise NotFound()
    return cohort


def quizzes_of(cohort_id: int, *, published_only: bool = False) -> list[Quiz]:
    """The cohort's quizzes in the order they were made (learners see published ones).

    Read once per page view: the cohort page's sections, its progress items and its
    pre/post gains all ask."""
    every = remembered(
        "quizzes.of_cohort",
        cohort_id,
        lambda: list(
            db.session.scalars(
                select(Quiz).where(Quiz.cohort_id == cohort_id).order_by(Quiz.created_at, Quiz.id)
            )
        ),
    )
    return [quiz for quiz in every if quiz.published or not published_only]


def availability(quiz: Quiz, now: datetime | None = None) -> str:
    """ "unpublished", "not_open", "closed" or "open"."""
    now = now or utcnow()
    if not quiz.published:
        return "unpublished"
    if quiz.opens_at is not None and now < quiz.opens_at:
        return "not_open"
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return "closed"
    return "open"


def has_attempts(quiz: Quiz) -> bool:
    return (
        db.session.scalar(select(Attempt.id).where(Attempt.quiz_id == quiz.id).limit(1)) is not None
    )


def latest_versions(question_ids: Iterable[int]) -> dict[int, QuestionVersion]:
    """The newest version of each question, in one query."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    newest = (
        select(QuestionVersion.question_id, func.max(QuestionVersion.number).label("number"))
        .where(QuestionVersion.question_id.in_(ids))
        .group_by(QuestionVersion.question_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(QuestionVersion).join(
            newest,
            (QuestionVersion.question_id == newest.c.question_id)
            & (QuestionVersion.number == newest.c.number),
        )
    )
    return {version.question_id: version for version in rows}


def is_answerable(qtype: str) -> bool:
    """Whether a question of this type takes an answer (an unknown type takes none: its
    plugin is gone, so nothing could grade it)."""
    try:
        return get_type(qtype).answerable
    except KeyError:
        return False


def plain_text(text: str, width: int = 80) -> str:
    """Question text on one line without markup, for lists and selects (where a tag would
    show as text), cut at ``width`` characters."""
    text = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", text or "")).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def question_label(question: Question, version: QuestionVersion | None, width: int = 80) -> str:
    text = question.name or (version.text if version is not None else "")
    return plain_text(text, width) or f"#{question.id}"


def banks_for(cohort: Cohort) -> list[QuestionBank]:
    """The banks an author picks from: those of the cohort's manual, or every bank when the
    cohort names no manual (or its manual has none yet)."""
    query = select(QuestionBank).order_by(QuestionBank.manual_slug, QuestionBank.name)
    if cohort.manual:
        own = list(db.session.scalars(query.where(QuestionBank.manual_slug == cohort.manual)))
        if own:
            return own
    return list(db.session.scalars(query))


def question_choices(banks: list[QuestionBank]) -> list[tuple[int, str]]:
    """(question id, "bank — question [language]") for the fixed-question select."""
    if not banks:
        return []
    names = {bank.id: bank.name for bank in banks}
    questions = list(
        db.session.scalars(
            select(Question)
            .where(Question.bank_id.in_(names), Question.archived.is_(False))
            .order_by(Question.bank_id, Question.id)
        )
    )
    versions = latest_versions(q.id for q in questions)
    return [
        (q.id, f"{names[q.bank_id]} — {question_label(q, versions.get(q.id))} [{q.language}]")
        for q in questions
        if q.id in versions
    ]


def module_choices(banks: list[QuestionBank]) -> list[str]:
    """The modules questions of these banks check, for the random slot's module select."""
    if not banks:
        return []
    return list(
        db.session.scalars(
            select(Question.module_slug)
            .where(Question.bank_id.in_([b.id for b in banks]), Question.module_slug != "")
            .distinct()
            .order_by(Question.module_slug)
        )
    )


def random_pool(bank_id: int, module_slug: str, language: str) -> list[Question]:
    """Questions a random slot may draw: in the bank (and module), in the quiz's language,
    not archived, and answerable (a description is never a question of its own)."""
    query = select(Question).where(
        Question.bank_id == bank_id,
        Question.archived.is_(False),
        Question.language == language,
    )
    if module_slug:
        query = query.where(Question.module_slug == module_slug)
    questions = list(db.session.scalars(query.order_by(Question.id)))
    versions = latest_versions(q.id for q in questions)
    return [q for q in questions if q.id in versions and is_answerable(versions[q.id].qtype)]


@dataclass(frozen=True)
class SlotView:
    """A slot as the edit page lists it."""

    slot: QuizSlot
    label: str
    mark: float | None


def slot_views(quiz: Quiz) -> list[SlotView]:
    """Slots with a readable description (a few queries, whatever the number of slots)."""
    fixed = [s.question_id for s in quiz.slots if s.question_id is not None]
    questions = {
        q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(fixed)))
    }
    versions = latest_versions(fixed)
    bank_ids = {s.bank_id for s in quiz.slots if s.bank_id is not None}
    banks = {
        b.id: b.name
        for b in db.session.scalars(select(QuestionBank).where(QuestionBank.id.in_(bank_ids)))
    }
    views = []
    for slot in quiz.slots:
        if slot.question_id is not None:
            question = questions.get(slot.question_id)
            label = (
                question_label(question, versions.get(slot.question_id), 120)
                if question is not None
                else f"#{slot.question_id}"
            )
        else:
            bank = banks.get(slot.bank_id or 0, "?")
            if slot.module_slug:
                label = str(
                    _l(
                        "%(n)s random questions from %(bank)s (module %(module)s)",
                        n=slot.count,
                        bank=bank,
                        module=slot.module_slug,
                    )
                )
            else:
                label = str(_l("%(n)s random questions from %(bank)s", n=slot.count, bank=bank))
        views.append(SlotView(slot, label, slot.mark))
    return views


def question_count(quiz: Quiz) -> int:
    """How many questions an attempt gets (fixed ones plus every random draw)."""
    return sum(1 if s.question_id is not None else s.count for s in quiz.slots)


# --- writing ---------------------------------------------------------------------------------


def _validate(settings: QuizSettings) -> QuizSettings:
    errors: dict[str, list[Any]] = {}
    title = (settings.title or "").strip()
    if not title:
        errors["title"] = [_l("Enter a title.")]
    elif len(title) > 200:
        errors["title"] = [_l("Use at most %(n)s characters.", n=200)]
    if settings.kind not in KINDS:
        errors["kind"] = [_l("Choose a kind of quiz.")]
    if settings.language not in LANGUAGES:
        errors["language"] = [_l("Choose a language.")]
    if settings.attempts_allowed is None or not 0 <= settings.attempts_allowed <= MAX_ATTEMPTS:
        errors["attempts_allowed"] = [
            _l("Enter a number from 0 (unlimited) to %(n)s.", n=MAX_ATTEMPTS)
        ]
    limit = settings.time_limit_minutes
    if limit is not None and not 1 <= limit <= MAX_TIME_LIMIT:
        errors["time_limit_minutes"] = [
            _l("Enter a number of minutes from 1 to %(n)s, or leave it empty.", n=MAX_TIME_LIMIT)
        ]
    if settings.pass_mark is None or not 0 <= settings.pass_mark <= 100:
        errors["pass_mark"] = [_l("Enter a percentage from 0 to 100.")]
    if settings.show_results not in SHOW_RESULTS:
        errors["show_results"] = [_l("Choose when results are shown.")]
    if (
        settings.opens_at is not None
        and settings.closes_at is not None
        and settings.closes_at <= settings.opens_at
    ):
        errors["closes_at"] = [_l("The quiz must close after it opens.")]
    if errors:
        raise Invalid(field_errors=errors)
    settings.title = title
    return settings


def create_quiz(cohort: Cohort, settings: QuizSettings, *, actor_id: int | None) -> Quiz:
    """A new, unpublished quiz for the cohort (not committed)."""
    settings = _validate(settings)
    quiz = Quiz(cohort_id=cohort.id, created_by_id=actor_id, published=False)
    for name in QuizSettings.__dataclass_fields__:
        setattr(quiz, name, getattr(settings, name))
    db.session.add(quiz)
    db.session.flush()
    forget("quizzes.of_cohort")
    audit.record(
        "quizzes.quiz.create",
        "quiz",
        quiz.id,
        actor_id=actor_id,
        details={"cohort": cohort.id, "kind": quiz.kind},
    )
    return quiz


def update_quiz(quiz: Quiz, settings: QuizSettings, *, actor_id: int | None) -> Quiz:
    """Change a quiz's settings; allowed after attempts (a later close, a new pass mark
    applies to attempts graded from now on)."""
    settings = _validate(settings)
    changed = {}
    for name in QuizSettings.__dataclass_fields__:
        value = getattr(settings, name)
        if getattr(quiz, name) != value:
            changed[name] = str(value)
            setattr(quiz, name, value)
    db.session.flush()
    if changed:
        audit.record("quizzes.quiz.update", "quiz", quiz.id, actor_id=actor_id, details=changed)
    return quiz


def _refuse_if_attempted(quiz: Quiz) -> None:
    if has_attempts(quiz):
        raise Conflict(
            _l("Someone has already attempted this quiz, so its questions can no longer change.")
        )


def _next_position(quiz: Quiz) -> int:
    return max((s.position for s in quiz.slots), default=0) + 1


def _check_mark(mark: float | None) -> dict[str, list[Any]]:
    if mark is not None and not 0 <= mark <= 1000:
        return {"mark": [_l("Enter a mark from 0 to 1000, or leave it empty.")]}
    return {}


def add_question_slot(
    quiz: Quiz, question_id: int | None, *, mark: float | None = None, actor_id: int | None
) -> QuizSlot:
    """Add one fixed question (its latest version is what the next attempts get)."""
    _refuse_if_attempted(quiz)
    errors = _check_mark(mark)
    question = db.session.get(Question, question_id) if question_id else None
    if question is None or question.archived or not latest_versions([question.id]):
        errors["question_id"] = [_l("Choose a question.")]
    elif any(s.question_id == question.id for s in quiz.slots):
        errors["question_id"] = [_l("This question is already in the quiz.")]
    if errors:
        raise Invalid(field_errors=errors)
    assert question is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    slot = QuizSlot(position=_next_position(quiz), question_id=question.id, count=1, mark=mark)
    quiz.slots.append(slot)
    db.session.flush()
    audit.record(
        "quizzes.quiz.slot_add",
        "quiz",
        quiz.id,
        actor_id=actor_id,
        details={"question": question.id},
    )
    return slot


def add_random_slot(
    quiz: Quiz,
    bank_id: int | None,
    *,
    module_slug: str = "",
    count: int | None,
    mark: float | None = None,
    actor_id: int | None,
) -> QuizSlot:
    """Add "N random questions from a bank (module)"; refused when the bank has fewer
    questions in the quiz's language than asked, counting those other slots already take."""
    _refuse_if_attempted(quiz)
    errors = _check_mark(mark)
    bank = db.session.get(QuestionBank, bank_id) if bank_id else None
    module_slug = (module_slug or "").strip()
    if bank is None:
        errors["bank_id"] = [_l("Choose a question bank.")]
    if count is None or not 1 <= count <= MAX_RANDOM:
        errors["count"] = [_l("Enter a number from 1 to %(n)s.", n=MAX_RANDOM)]
    if not errors:
        assert bank is not None and count is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        pool = {q.id for q in random_pool(bank.id, module_slug, quiz.language)}
        taken = {s.question_id for s in quiz.slots if s.question_id is not None}
        # Random slots on the same bank share its pool: they never draw the same question.
        taken_by_random = sum(
            s.count
            for s in quiz.slots
            if s.bank_id == bank.id
            and s.question_id is None
            and (not s.module_slug or not module_slug or s.module_slug == module_slug)
        )
        available = len(pool - taken) - taken_by_random
        if count > available:
            errors["count"] = [
                _l(
                    "The bank has only %(n)s more questions in this quiz's language"
                    " (and module) for this quiz.",
                    n=max(available, 0),
                )
            ]
    if errors:
        raise Invalid(field_errors=errors)
    assert bank is not None and count is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    slot = QuizSlot(
        position=_next_position(quiz),
        bank_id=bank.id,
        module_slug=module_slug,
        count=count,
        mark=mark,
    )
    quiz.slots.append(slot)
    db.session.flush()
    audit.record(
        "quizzes.quiz.slot_add",
        "quiz",
        quiz.id,
        actor_id=actor_id,
        details={"bank": bank.id, "module": module_slug, "count": count},
    )
    return slot


def remove_slot(quiz: Quiz, slot_id: int, *, actor_id: int | None) -> None:
    _refuse_if_attempted(quiz)
    slot = next((s for s in quiz.slots if s.id == slot_id), None)
    if slot is None:
        raise NotFound()
    quiz.slots.remove(slot)
    db.session.flush()
    audit.record(
        "quizzes.quiz.slot_remove", "quiz", quiz.id, actor_id=actor_id, details={"slot": slot_id}
    )


def set_published(quiz: Quiz, published: bool, *, actor_id: int | None) -> Quiz:
    """Publish (learners see and take it) or withdraw; a quiz without questions cannot be
    published, since a learner would start an attempt with nothing to answer."""
    if published and question_count(quiz) == 0:
        raise Invalid(_l("Add at least one question before publishing the quiz."))
    if quiz.published != published:
        quiz.published = published
        db.session.flush()
        # A published final quiz is a required item: completion of its cohort may change.
        if quiz.cohort_id is not None:
            completion.mark_dirty(quiz.cohort_id)
        audit.record(
            "quizzes.quiz.publish" if published else "quizzes.quiz.unpublish",
            "quiz",
            quiz.id,
            actor_id=actor_id,
        )
    return quiz
