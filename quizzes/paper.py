"""Paper mode: a quiz printed for learners without devices, and their answers typed back in.

Many madrasa classrooms have one phone for thirty learners. The teacher prints the quiz
(questions numbered, answers lettered A, B, C…, space to write) with an answer sheet to
circle letters on, then types each learner's sheet into one fast page. The result is an
ordinary graded attempt (``source="paper"``, ``entered_by_id`` the teacher), graded by the
same question types as online, so results, pre/post gains and item analysis treat paper and
screen alike.

The printed paper and the data entry must show the same questions in the same order with
the same letters, without storing anything new (the models stay as they are). So the paper
version is *deterministic*:

* questions follow the slot order (``shuffle_questions`` does not apply on paper);
* a random slot draws, from the same pool an online attempt uses, the questions whose
  SHA-256 of ``"<quiz id>:<question id>"`` ranks lowest: a draw seeded by the quiz id. It
  does not depend on the pool's order, and adding a question to the bank only changes the
  paper if the new question happens to rank among the drawn ones;
* answers are shuffled (when the quiz and the question allow it) by a generator seeded with
  the quiz and question version ids; a matching question's right-hand items are always
  shuffled, as Moodle does, or the order would give the pairs away.

Every question is printed in its latest version, and entry grades against the latest
version too; editing a question between printing and entry changes what is graded (as it
would for an online attempt started after the edit).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from lms.accounts.models import User
from lms.audit import services as audit
from lms.db import begin_write
from lms.errors import Conflict, Invalid
from lms.extensions import db
from lms.timeutil import utcnow
from quizzes import attempts, quiz_service, results
from quizzes.analysis import letter
from quizzes.models import (
    SUBMITTED,
    Answer,
    Attempt,
    Question,
    QuestionVersion,
    Quiz,
)
from quizzes.question_types import get_type
from quizzes.question_types.base import QuestionType

PAPER = "paper"
#: How each question is laid out on paper and entered back.
CHOICE, MULTI, MATCH, LINE, ESSAY, INFO = "choice", "multi", "match", "line", "essay", "info"

# --- The paper version of a quiz --------------------------------------------------------


@dataclass(frozen=True)
class PaperOption:
    """A lettered answer: ``value`` is what the online form would post for it."""

    letter: str
    value: str
    html: Markup


@dataclass(frozen=True)
class PaperItem:
    """A left-hand item of a matching question (``index`` into ``data["pairs"]``)."""

    index: int
    label: str
    html: Markup


@dataclass(frozen=True)
class PaperQuestion:
    """One question as printed: ``position`` is its answer's place in the attempt (text
    between questions has one too, as online), ``number`` the printed number (None for
    text between questions)."""

    position: int
    number: int | None
    layout: str
    question: Question
    version: QuestionVersion
    mark: float
    html: Markup
    options: tuple[PaperOption, ...] = ()
    items: tuple[PaperItem, ...] = ()

    @property
    def prefix(self) -> str:
        return f"q{self.number}"

    @property
    def letters(self) -> list[str]:
        return [option.letter for option in self.options]

    @property
    def shown_order(self) -> list[Any]:
        """The order the choices were printed in, stored as an online attempt stores it
        (answer indexes, or right-hand texts), so the review shows the paper's order."""
        if self.version.qtype == "multichoice":
            return [int(option.value) for option in self.options]
        if self.version.qtype == "match":
            return [option.value for option in self.options]
        return []


def _draw_key(quiz_id: int, question_id: int) -> str:
    return hashlib.sha256(f"{quiz_id}:{question_id}".encode()).hexdigest()


def _shuffled(items: list[Any], *seed: int) -> list[Any]:
    """A shuffle that is the same for every print and every entry of this quiz."""
    digest = hashlib.sha256(":".join(map(str, ("paper", *seed))).encode()).digest()
    result = list(items)
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(result)  # nosec B311  # a deterministic shuffle by design (same paper every print)
    return result


def drawn_questions(quiz: Quiz) -> list[tuple[int, float | None]]:
    """(question id, slot mark) for the paper version, in order (see the module)."""
    slots = sorted(quiz.slots, key=lambda slot: (slot.position, slot.id))
    taken = {slot.question_id for slot in slots if slot.question_id is not None}
    drawn: list[tuple[int, float | None]] = []
    for slot in slots:
        if slot.question_id is not None:
            drawn.append((slot.question_id, slot.mark))
            continue
        if slot.bank_id is None:
            continue
        pool = [
            question.id
            for question in quiz_service.random_pool(slot.bank_id, slot.module_slug, quiz.language)
            if question.id not in taken
        ]
        pool.sort(key=lambda question_id: _draw_key(quiz.id, question_id))
        for question_id in pool[: slot.count]:
            taken.add(question_id)
            drawn.append((question_id, slot.mark))
    return drawn


def _layout(qtype: QuestionType | None, version: QuestionVersion) -> str:
    if qtype is None or not qtype.answerable:
        return INFO
    if version.qtype == "multichoice":
        return CHOICE if (version.data or {}).get("single", True) else MULTI
    if version.qtype == "truefalse":
        return CHOICE
    if version.qtype == "match":
        return MATCH
    if qtype.manual:
        return ESSAY
    return LINE


def _options(quiz: Quiz, version: QuestionVersion, qtype: QuestionType) -> list[PaperOption]:
    data = version.data or {}
    if version.qtype == "truefalse":
        return [
            PaperOption(letter(0), "true", Markup(escape(_("True")))),  # nosec B704  # escape() output (Markup already)
            PaperOption(letter(1), "false", Markup(escape(_("False")))),  # nosec B704  # escape() output (Markup already)
        ]
    if version.qtype == "match":
        rights = _shuffled(qtype.choices(data), quiz.id, version.id)
        return [
            PaperOption(letter(i), right, attempts.render_text(right, "plain"))
            for i, right in enumerate(rights)
        ]
    # The same list the type grades against: malformed entries are not answers.
    answers = [a for a in data.get("answers") or [] if isinstance(a, Mapping)]
    order = [i for i in qtype.choices(data) if isinstance(i, int) and 0 <= i < len(answers)]
    if quiz.shuffle_answers and data.get("shuffle", True):
        order = _shuffled(order, quiz.id, version.id)
    options = []
    for i, index in enumerate(order):
        answer = answers[index]
        html = attempts.render_text(
            str(answer.get("text") or ""), str(answer.get("format") or "moodle")
        )
        options.append(PaperOption(letter(i), str(index), html))
    return options


def _items(version: QuestionVersion, qtype: QuestionType) -> list[PaperItem]:
    real_pairs = getattr(qtype, "real_pairs", None)
    if real_pairs is None:
        return []
    return [
        PaperItem(index, f"{n}", attempts.render_text(left, "plain"))
        for n, (index, left, _right) in enumerate(real_pairs(version.data or {}), start=1)
    ]


def paper_questions(quiz: Quiz) -> list[PaperQuestion]:
    """The paper version of the quiz, numbered (a few queries, whatever its size)."""
    drawn = drawn_questions(quiz)
    ids = [question_id for question_id, _mark in drawn]
    versions = quiz_service.latest_versions(ids)
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    result: list[PaperQuestion] = []
    number = 0
    for question_id, slot_mark in drawn:
        version = versions.get(question_id)
        if version is None:
            continue
        try:
            qtype: QuestionType | None = get_type(version.qtype)
        except KeyError:
            qtype = None
        layout = _layout(qtype, version)
        if layout != INFO:
            number += 1
        mark = slot_mark if slot_mark is not None else version.default_mark
        result.append(
            PaperQuestion(
                position=len(result) + 1,
                number=number if layout != INFO else None,
                layout=layout,
                question=questions[question_id],
                version=version,
                mark=float(mark or 0.0) if layout != INFO else 0.0,
                html=attempts.render_text(version.text, version.text_format),
                options=tuple(_options(quiz, version, qtype))
                if qtype is not None and layout in (CHOICE, MULTI, MATCH)
                else (),
                items=tuple(_items(version, qtype)) if qtype and layout == MATCH else (),
            )
        )
    return result


def answerable(questions: Iterable[PaperQuestion]) -> list[PaperQuestion]:
    return [q for q in questions if q.number is not None]


def sheet_width(questions: Iterable[PaperQuestion]) -> int:
    """How many letter columns the answer sheet's grid needs."""
    return max((len(q.options) for q in questions if q.options), default=0)


# --- Reading a paper sheet back ---------------------------------------------------------

#: Cyrillic letters that look like Latin ones: a teacher on a Russian or Kyrgyz keyboard
#: types the letter printed on the sheet with whichever key shows it.
_HOMOGLYPHS = str.maketrans("АВСЕНКМОРТХавсеоркмнтх", "ABCEHKMOPTXABCEOPKMHTX")
_SEPARATORS = re.compile(r"[\s,;/.+]+")


def _letters(text: str, allowed: list[str]) -> list[str] | None:
    """The letters typed in a field ("b", "A C", "AC", "а,с"); None if one is not a letter
    of this question."""
    text = (text or "").translate(_HOMOGLYPHS).upper().strip()
    if not text:
        return []
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if all(len(name) == 1 for name in allowed):
        tokens = [char for token in tokens for char in token]
    if any(token not in allowed for token in tokens):
        return None
    return list(dict.fromkeys(tokens))


@dataclass
class Entry:
    """What a teacher typed for one learner: field values (to show again), the responses
    as the question types store them, marks given to essays, and field errors."""

    values: dict[str, str] = field(default_factory=dict)
    responses: dict[int, Any] = field(default_factory=dict)
    essay_marks: dict[int, float | None] = field(default_factory=dict)
    errors: dict[str, list[Any]] = field(default_factory=dict)


def _parse_mark(text: str, maximum: float) -> float | str | None:
    """An essay mark typed in: None when empty, the number, or "bad"."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return "bad"
    return value if 0 <= value <= maximum else "bad"


def read_entry(questions: list[PaperQuestion], form: Mapping[str, Any]) -> Entry:
    """Turn the typed letters and texts into the fields an online form would post, and let
    each question type read its response from them, so paper and screen store alike."""
    entry = Entry()
    for q in answerable(questions):
        qtype = get_type(q.version.qtype)
        posted: MultiDict[str, str] = MultiDict()
        if q.layout in (CHOICE, MULTI):
            typed = str(form.get(q.prefix) or "")
            entry.values[q.prefix] = typed
            chosen = _letters(typed, q.letters)
            if chosen is None or (q.layout == CHOICE and len(chosen) > 1):
                entry.errors[q.prefix] = [
                    _l("Type one of the letters %(letters)s.", letters=", ".join(q.letters))
                    if q.layout == CHOICE
                    else _l("Type letters from %(letters)s.", letters=", ".join(q.letters))
                ]
                continue
            by_letter = {option.letter: option.value for option in q.options}
            for name in chosen:
                posted.add(q.prefix, by_letter[name])
        elif q.layout == MATCH:
            by_letter = {option.letter: option.value for option in q.options}
            for item in q.items:
                name = f"{q.prefix}-{item.index}"
                typed = str(form.get(name) or "")
                entry.values[name] = typed
                chosen = _letters(typed, q.letters)
                if chosen is None or len(chosen) > 1:
                    entry.errors[name] = [
                        _l("Type one of the letters %(letters)s.", letters=", ".join(q.letters))
                    ]
                elif chosen:
                    posted[name] = by_letter[chosen[0]]
        else:
            typed = str(form.get(q.prefix) or "")
            entry.values[q.prefix] = typed
            posted[q.prefix] = typed
            if q.layout == ESSAY:
                name = f"{q.prefix}-mark"
                entry.values[name] = str(form.get(name) or "")
                mark = _parse_mark(entry.values[name], q.mark)
                if isinstance(mark, str):
                    entry.errors[name] = [
                        _l("Enter a mark from 0 to %(max)s, or leave it empty.", max=f"{q.mark:g}")
                    ]
                else:
                    entry.essay_marks[q.position] = mark
        entry.responses[q.position] = qtype.response_from_form(
            q.version.data or {}, posted, q.prefix
        )
    return entry


def entry_from_attempt(questions: list[PaperQuestion], attempt: Attempt) -> Entry:
    """The fields as they were typed for an attempt, to correct them (answers to an older
    version of a question at that place are left empty: the paper changed since)."""
    entry = Entry()
    answers = {answer.position: answer for answer in attempt.answers}
    for q in answerable(questions):
        answer = answers.get(q.position)
        if answer is None or answer.question_version_id != q.version.id:
            continue
        response = answer.response
        if q.layout in (CHOICE, MULTI):
            if isinstance(response, bool):
                values = ["true" if response else "false"]
            elif isinstance(response, list):
                values = [str(i) for i in response]
            else:
                values = []
            by_value = {option.value: option.letter for option in q.options}
            entry.values[q.prefix] = " ".join(by_value[v] for v in values if v in by_value)
        elif q.layout == MATCH:
            by_value = {option.value: option.letter for option in q.options}
            given = response if isinstance(response, Mapping) else {}
            for item in q.items:
                right = given.get(str(item.index))
                entry.values[f"{q.prefix}-{item.index}"] = by_value.get(right, "")
        else:
            entry.values[q.prefix] = "" if response is None else str(response)
            if q.layout == ESSAY and answer.graded_by_id is not None and answer.mark is not None:
                entry.values[f"{q.prefix}-mark"] = f"{answer.mark:g}"
    return entry


# --- Saving -----------------------------------------------------------------------------


def learners(quiz: Quiz) -> list[User]:
    """The cohort's learners (participants of a ToT, students of a class), by name."""
    return results.learners(quiz.cohort_id) if quiz.cohort_id is not None else []


def paper_attempts(quiz: Quiz) -> dict[int, Attempt]:
    """The paper attempt of each learner entered so far, by user id."""
    return {
        attempt.user_id: attempt
        for attempt in db.session.scalars(
            select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.source == PAPER)
        )
    }


def _snapshot(attempt: Attempt) -> dict[str, Any]:
    return {str(answer.position): answer.response for answer in attempt.answers}


def save_paper_attempt(
    quiz: Quiz,
    learner_id: int,
    questions: list[PaperQuestion],
    entry: Entry,
    *,
    actor: Any,
    now: datetime | None = None,
) -> tuple[Attempt, bool]:
    """Store one learner's paper answers as a graded attempt; returns it and whether it was
    a correction (not committed).

    Grading is the online service's own (``quizzes.attempts``): the question types grade
    every answer, an essay waits for a teacher unless a mark was written on the paper, and
    the outcome goes to the progress ledger as for an online attempt.

    A learner has at most one paper attempt per quiz: its idempotency key is derived from
    the quiz and the learner, so two teachers typing the same sheet at once make one
    attempt and one clear conflict. A correction replaces that attempt's answers and is
    audited with what changed.
    """
    if entry.errors:
        raise Invalid(field_errors=entry.errors)
    if learner_id not in {person.id for person in learners(quiz)}:
        raise Invalid(field_errors={"user_id": [_l("Choose a learner of this cohort.")]})
    now = now or utcnow()
    begin_write()
    attempt = db.session.scalar(
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.user_id == learner_id, Attempt.source == PAPER)
        .with_for_update()
    )
    corrected = attempt is not None
    before: dict[str, Any] = {}
    if attempt is not None:
        before = _snapshot(attempt)
        attempt.answers.clear()
        db.session.flush()  # the old rows go before the new ones take their positions
    else:
        used = db.session.scalar(
            select(func.coalesce(func.max(Attempt.number), 0)).where(
                Attempt.quiz_id == quiz.id, Attempt.user_id == learner_id
            )
        )
        attempt = Attempt(
            quiz_id=quiz.id,
            user_id=learner_id,
            number=used + 1,
            idempotency_key=f"paper-{quiz.id}-{learner_id}",
            source=PAPER,
            started_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(attempt)
                db.session.flush()
        except IntegrityError:
            raise Conflict(
                _l("Someone else entered this learner's paper at the same time. Reload.")
            ) from None
    attempt.status = SUBMITTED
    attempt.submitted_at = now
    attempt.entered_by_id = actor.id
    for q in questions:
        attempt.answers.append(
            Answer(
                position=q.position,
                question_version_id=q.version.id,
                question_version=q.version,
                max_mark=q.mark,
                shown_order=q.shown_order,
                response=entry.responses.get(q.position),
                updated_at=now,
            )
        )
    db.session.flush()
    attempts._grade(attempt, quiz, now=now, actor_id=actor.id)
    for q in questions:
        mark = entry.essay_marks.get(q.position)
        if q.layout == ESSAY and mark is not None:
            answer = next(a for a in attempt.answers if a.position == q.position)
            attempt = attempts.grade_manually(answer.id, actor, mark=mark, now=now)
    after = _snapshot(attempt)
    details: dict[str, Any] = {"quiz": quiz.id, "user": learner_id, "percent": attempt.percent}
    if corrected:
        details["changed"] = {
            position: {"from": before.get(position), "to": after.get(position)}
            for position in sorted(set(before) | set(after), key=int)
            if before.get(position) != after.get(position)
        }
    audit.record(
        "quizzes.paper.correct" if corrected else "quizzes.paper.enter",
        "attempt",
        attempt.id,
        actor_id=actor.id,
        details=details,
    )
    return attempt, corrected


def pdf_filename(quiz: Quiz) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", quiz.title.lower()).strip("-")[:40] or "quiz"
    return f"{slug}-{quiz.id}-paper.pdf"
