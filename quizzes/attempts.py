"""Taking a quiz: start or resume, save as you go, submit once, grade, grade essays by hand.

Learners take quizzes on phones over connections that drop. So every page change saves
what is on the page; a start or submit repeated by a double tap or a re-sent request must
not make a second attempt or a second grade. The database decides, not a read-then-write:

- ``Attempt.idempotency_key`` is unique and the start form carries a key made when the page
  was rendered, so starting inserts the attempt and, when that insert collides, returns the
  attempt the other request made;
- submitting is one conditional ``UPDATE … WHERE status = 'in_progress'``: only the request
  whose update changed the row grades the attempt and writes the ledger.

Writers of one attempt (save, submit, a teacher's grade) first lock its row (``SELECT … FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite through ``lms.db.begin_write``), so a
save never lands after the grade that should have included it.

Time is enforced here, not in the browser: after the deadline (start + time limit, or the
quiz's closing time, plus a short grace for a slow connection) answers are no longer
accepted and the attempt is submitted with what was saved.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nh3
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.accounts.permissions import can
from lms.accounts.roles import LEARNER_ROLES
from lms.audit import services as audit
from lms.cohorts.models import Cohort, Membership
from lms.db import begin_write
from lms.errors import Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.progress import api as progress
from lms.timeutil import utcnow
from quizzes import quiz_service
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    NEEDS_GRADING,
    SUBMITTED,
    Answer,
    Attempt,
    QuestionVersion,
    Quiz,
)
from quizzes.question_types import QuestionType, get_type

PAGE_SIZE = 5
#: Answers sent this long after the deadline still count: a phone on a slow network may
#: take that long to deliver a form the learner sent in time.
GRACE = timedelta(seconds=30)
ITEM_TYPE = "quizzes.quiz"
SOURCE = "quizzes"
_KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def new_key() -> str:
    """A fresh idempotency key for a start form (made each time the page is rendered)."""
    return uuid.uuid4().hex


def type_of(qtype: str) -> QuestionType | None:
    """The question type, or None when the plugin that brought it is gone."""
    try:
        return get_type(qtype)
    except KeyError:
        return None


# --- who may take, and when ------------------------------------------------------------------


def member_role(cohort_id: int, user_id: int) -> str | None:
    return db.session.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort_id, Membership.user_id == user_id
        )
    )


def may_take(user: Any, quiz: Quiz, cohort: Cohort) -> bool:
    """Members of the cohort holding ``quizzes.take`` there: its learners, and its trainers
    or teachers trying the quiz out (results list learners only)."""
    return (
        quiz.published
        and can(user, "quizzes.take", cohort)
        and member_role(cohort.id, user.id) is not None
    )


def is_learner(cohort_id: int, user_id: int) -> bool:
    return member_role(cohort_id, user_id) in LEARNER_ROLES


def attempts_of(quiz_id: int, user_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.quiz_id == quiz_id, Attempt.user_id == user_id)
            .order_by(Attempt.number)
        )
    )


def open_attempt(quiz_id: int, user_id: int) -> Attempt | None:
    return db.session.scalar(
        select(Attempt)
        .where(
            Attempt.quiz_id == quiz_id,
            Attempt.user_id == user_id,
            Attempt.status == IN_PROGRESS,
        )
        .order_by(Attempt.number.desc())
        .limit(1)
    )


def deadline(quiz: Quiz, attempt: Attempt) -> datetime | None:
    """When answers stop being accepted (before the grace): the time limit or the closing
    time, whichever comes first."""
    ends = []
    if quiz.time_limit_minutes:
        ends.append(attempt.started_at + timedelta(minutes=quiz.time_limit_minutes))
    if quiz.closes_at is not None:
        ends.append(quiz.closes_at)
    return min(ends) if ends else None


def is_overdue(quiz: Quiz, attempt: Attempt, now: datetime | None = None) -> bool:
    ends = deadline(quiz, attempt)
    return ends is not None and (now or utcnow()) > ends + GRACE


def attempts_left(quiz: Quiz, used: int) -> int | None:
    """None means unlimited."""
    return None if quiz.attempts_allowed == 0 else max(quiz.attempts_allowed - used, 0)


# --- starting ----------------------------------------------------------------------------


def _by_key(key: str) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(Attempt.idempotency_key == key))


def _own(attempt: Attempt, quiz: Quiz, user: Any) -> Attempt:
    """An attempt found by key must be this learner's attempt at this quiz; a key reused
    from someone else's form says nothing about theirs."""
    if attempt.quiz_id != quiz.id or attempt.user_id != user.id:
        raise Conflict(_l("This form was already used. Reload the page and try again."))
    return attempt


def clean_key(key: str | None) -> str:
    key = (key or "").strip()
    if not _KEY_RE.match(key):
        raise Invalid(_l("The form has expired. Reload the page and try again."))
    return key


def start_attempt(
    quiz: Quiz, user: Any, key: str | None, *, now: datetime | None = None
) -> Attempt:
    """The attempt for this start form: the one already made with ``key``, the learner's
    unfinished one (resumed), or a new one with its questions drawn and versions frozen.

    Called twice with one key (a double tap, a resent request, twenty at once) it returns
    one attempt: the unique key makes the losing insert fail, and the loser returns the
    winner's attempt.
    """
    key = clean_key(key)
    now = now or utcnow()
    begin_write()
    if not may_take(user, quiz, quiz_service.cohort_of(quiz)):
        raise NotAllowed()
    existing = _by_key(key)
    if existing is not None:
        return _own(existing, quiz, user)
    unfinished = open_attempt(quiz.id, user.id)
    if unfinished is not None:
        if not is_overdue(quiz, unfinished, now):
            return unfinished
        submit_attempt(unfinished, user, now=now)
    state = quiz_service.availability(quiz, now)
    if state == "not_open":
        raise Invalid(_l("This quiz is not open yet."))
    if state == "closed":
        raise Invalid(_l("This quiz is closed."))
    used = db.session.scalar(
        select(func.coalesce(func.max(Attempt.number), 0)).where(
            Attempt.quiz_id == quiz.id, Attempt.user_id == user.id
        )
    )
    if attempts_left(quiz, used) == 0:
        raise Invalid(_l("You have used all your attempts at this quiz."))
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user.id,
        number=used + 1,
        idempotency_key=key,
        status=IN_PROGRESS,
        source="online",
        started_at=now,
    )
    attempt.answers = _draw(quiz, random.Random())  # nosec B311  # draws and shuffles questions; not a secret or a security control
    try:
        # Added inside the savepoint: begin_nested() flushes pending objects first, and an
        # insert that collides there would roll back the whole transaction.
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        # Another request inserted first: with this key, or (another tab) the same number.
        found = _by_key(key)
        if found is not None:
            return _own(found, quiz, user)
        found = open_attempt(quiz.id, user.id)
        if found is not None:
            return found
        raise Conflict() from None
    audit.record(
        "quizzes.attempt.start",
        "attempt",
        attempt.id,
        actor_id=user.id,
        details={"quiz": quiz.id, "number": attempt.number},
    )
    return attempt


def _draw(quiz: Quiz, rng: random.Random) -> list[Answer]:
    """The attempt's questions: fixed slots' latest versions and random draws (never the
    same question twice), shuffled when the quiz says so, each answer frozen on a version
    with the order its choices are shown in."""
    fixed_ids = [s.question_id for s in quiz.slots if s.question_id is not None]
    versions = quiz_service.latest_versions(fixed_ids)
    used: set[int] = set(fixed_ids)
    per_slot: dict[int, list[QuestionVersion]] = {}
    # Slots limited to a module draw before "any module" ones, which could otherwise take
    # the few questions a module has.
    for slot in sorted(
        (s for s in quiz.slots if s.question_id is None), key=lambda s: not s.module_slug
    ):
        assert slot.bank_id is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        pool = [
            q
            for q in quiz_service.random_pool(slot.bank_id, slot.module_slug, quiz.language)
            if q.id not in used
        ]
        chosen = rng.sample(pool, min(slot.count, len(pool)))
        used.update(q.id for q in chosen)
        drawn = quiz_service.latest_versions(q.id for q in chosen)
        per_slot[slot.id] = [drawn[q.id] for q in chosen]
    picks: list[tuple[QuestionVersion, float | None]] = []
    for slot in quiz.slots:
        if slot.question_id is None:
            picks.extend((version, slot.mark) for version in per_slot[slot.id])
        elif (version := versions.get(slot.question_id)) is not None:
            picks.append((version, slot.mark))
    if not any(quiz_service.is_answerable(v.qtype) for v, _mark in picks):
        raise Invalid(_l("This quiz has no questions yet."))
    if quiz.shuffle_questions:
        rng.shuffle(picks)
    answers = []
    for position, (version, mark) in enumerate(picks, start=1):
        qtype = type_of(version.qtype)
        answerable = qtype is not None and qtype.answerable
        order = list(qtype.choices(version.data or {})) if qtype is not None else []
        if order and quiz.shuffle_answers and (version.data or {}).get("shuffle", True):
            rng.shuffle(order)
        answers.append(
            Answer(
                position=position,
                question_version_id=version.id,
                max_mark=(version.default_mark if mark is None else mark) if answerable else 0.0,
                shown_order=order,
                response=None,
            )
        )
    return answers


# --- saving and submitting ---------------------------------------------------------------


def get_attempt(attempt_id: int) -> Attempt:
    found = db.session.get(Attempt, attempt_id)
    if found is None:
        raise NotFound()
    return found


def _lock(attempt: Attempt) -> Attempt:
    """Take the attempt's write lock and reload it and its answers as committed, so what
    another request saved in the meantime is what this one builds on."""
    db.session.flush()
    begin_write()
    locked = db.session.scalars(
        select(Attempt)
        .where(Attempt.id == attempt.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    list(
        db.session.scalars(
            select(Answer)
            .where(Answer.attempt_id == locked.id)
            .options(joinedload(Answer.question_version))
            .execution_options(populate_existing=True)
        )
    )
    db.session.expire(locked, ["answers"])
    return locked


def page_count(attempt: Attempt) -> int:
    return max(1, -(-len(attempt.answers) // PAGE_SIZE))


def page_answers(attempt: Attempt, page: int) -> list[Answer]:
    page = min(max(page, 1), page_count(attempt))
    return attempt.answers[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]


def field_prefix(answer: Answer) -> str:
    return f"q{answer.position}"


def _check_owner(attempt: Attempt, user: Any) -> None:
    if attempt.user_id != user.id:
        raise NotAllowed()


def save_responses(
    attempt: Attempt,
    user: Any,
    form: Mapping[str, Any],
    page: int,
    *,
    now: datetime | None = None,
) -> bool:
    """Save the answers on one page; False when the attempt no longer accepts answers
    (submitted, or past its deadline: late answers are not taken)."""
    _check_owner(attempt, user)
    attempt = _lock(attempt)
    return _save_page(attempt, form, page, now or utcnow())


def _save_page(attempt: Attempt, form: Mapping[str, Any], page: int, now: datetime) -> bool:
    """Save one page of a locked attempt (see ``save_responses``)."""
    quiz = db.session.get(Quiz, attempt.quiz_id)
    assert quiz is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    if attempt.status != IN_PROGRESS or is_overdue(quiz, attempt, now):
        return False
    for answer in page_answers(attempt, page):
        version = answer.question_version
        qtype = type_of(version.qtype)
        if qtype is None or not qtype.answerable:
            continue
        response = qtype.response_from_form(version.data or {}, form, field_prefix(answer))
        if response != answer.response:
            answer.response = response
            answer.updated_at = now
    db.session.flush()
    return True


def submit_attempt(
    attempt: Attempt,
    user: Any,
    *,
    form: Mapping[str, Any] | None = None,
    page: int | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> Attempt:
    """Save the last page (unless too late), then submit and grade, exactly once.

    Repeats of the request find the attempt no longer in progress and return it as it is.
    """
    _check_owner(attempt, user)
    if key is not None and clean_key(key) != attempt.idempotency_key:
        raise Conflict(_l("This form belongs to another attempt. Reload the page."))
    now = now or utcnow()
    attempt = _lock(attempt)
    if form is not None and page is not None:
        _save_page(attempt, form, page, now)
    won = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == IN_PROGRESS)
        .values(status=SUBMITTED, submitted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(attempt)
    if won != 1:
        return attempt
    quiz = db.session.get(Quiz, attempt.quiz_id)
    assert quiz is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    audit.record(
        "quizzes.attempt.submit",
        "attempt",
        attempt.id,
        actor_id=user.id,
        details={"quiz": quiz.id, "late": is_overdue(quiz, attempt, now)},
    )
    _grade(attempt, quiz, now=now, actor_id=None)
    return attempt


def finish_overdue(quiz: Quiz, *, user_id: int | None = None, now: datetime | None = None) -> int:
    """Submit attempts left open past their deadline, with what they saved; each is
    submitted once even when pages of several people call this at the same moment."""
    now = now or utcnow()
    query = select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.status == IN_PROGRESS)
    if user_id is not None:
        query = query.where(Attempt.user_id == user_id)
    finished = 0
    for attempt in list(db.session.scalars(query)):
        if is_overdue(quiz, attempt, now):
            owner = db.session.get(User, attempt.user_id)
            submit_attempt(attempt, owner, now=now)
            finished += 1
    return finished


# --- grading ---------------------------------------------------------------------------


def _grade(attempt: Attempt, quiz: Quiz, *, now: datetime, actor_id: int | None) -> None:
    """Grade every automatically graded answer; essays wait for a teacher."""
    pending = False
    for answer in attempt.answers:
        version = answer.question_version
        qtype = type_of(version.qtype)
        if qtype is None or not qtype.answerable:
            answer.fraction, answer.mark = None, None
            continue
        result = qtype.grade(version.data or {}, answer.response)
        if result.fraction is None:
            pending = True
            continue
        answer.fraction = float(result.fraction)
        answer.mark = round(answer.fraction * answer.max_mark, 4)
        answer.feedback = result.feedback or ""
        answer.graded_at = now
    attempt.status = NEEDS_GRADING if pending else GRADED
    _totals(attempt, quiz)
    db.session.flush()
    if not pending:
        record_outcome(attempt, quiz, actor_id=actor_id)


def _answerable(answer: Answer) -> bool:
    qtype = type_of(answer.question_version.qtype)
    return qtype is not None and qtype.answerable


def _totals(attempt: Attempt, quiz: Quiz) -> None:
    """Score so far; percent and pass only once every answer is graded."""
    answers = [a for a in attempt.answers if _answerable(a)]
    attempt.max_score = round(sum(a.max_mark for a in answers), 4)
    attempt.score = round(sum(a.mark or 0.0 for a in answers), 4)
    if attempt.status == GRADED:
        attempt.percent = (
            round(attempt.score * 100 / attempt.max_score, 2) if attempt.max_score else 0.0
        )
        attempt.passed = attempt.percent >= quiz.pass_mark
    else:
        attempt.percent = attempt.passed = None


def record_outcome(attempt: Attempt, quiz: Quiz, *, actor_id: int | None) -> None:
    """Write the quiz's outcome for the learner to the progress ledger.

    A quiz's grade is the learner's best graded attempt (Moodle's default), so a practice
    retake after passing never turns a pass into a fail; the record names the attempt
    just graded and the best one. A pre- or post-test also updates the learner's gain.
    Trainers and teachers trying a quiz out have no progress to record.
    """
    if quiz.cohort_id is None or not is_learner(quiz.cohort_id, attempt.user_id):
        return
    best = db.session.scalars(
        select(Attempt)
        .where(
            Attempt.quiz_id == quiz.id,
            Attempt.user_id == attempt.user_id,
            Attempt.status == GRADED,
        )
        .order_by(Attempt.percent.desc(), Attempt.number)
        .limit(1)
    ).one()
    progress.record(
        user_id=attempt.user_id,
        cohort_id=quiz.cohort_id,
        item_type=ITEM_TYPE,
        item_id=quiz.id,
        outcome="passed" if best.passed else "failed",
        score=best.percent,
        source=SOURCE,
        recorded_by_id=actor_id,
        details={"attempt": attempt.id, "number": attempt.number, "best_attempt": best.id},
    )
    if quiz.kind in ("pre", "post"):
        from quizzes import results

        results.record_gain(quiz.cohort_id, attempt.user_id, actor_id=actor_id)


@dataclass
class QueueEntry:
    """An essay answer waiting for a teacher."""

    answer: Answer
    attempt: Attempt
    quiz: Quiz
    cohort: Cohort
    learner: User
    text: Markup


def grading_queue(user: Any, *, limit: int = 100) -> list[QueueEntry]:
    """Ungraded answers of submitted attempts in the cohorts where ``user`` grades, oldest
    first (a bounded number of queries: one for the answers, one per cohort checked)."""
    rows = db.session.execute(
        select(Answer, Attempt, Quiz, User)
        .join(Attempt, Answer.attempt_id == Attempt.id)
        .join(Quiz, Attempt.quiz_id == Quiz.id)
        .join(User, Attempt.user_id == User.id)
        .where(Attempt.status == NEEDS_GRADING, Answer.fraction.is_(None))
        .options(joinedload(Answer.question_version))
        .order_by(Attempt.submitted_at, Attempt.id, Answer.position)
    ).all()
    allowed: dict[int, Cohort | None] = {}
    entries: list[QueueEntry] = []
    for answer, attempt, quiz, learner in rows:
        if quiz.cohort_id is None:
            continue
        if quiz.cohort_id not in allowed:
            cohort = db.session.get(Cohort, quiz.cohort_id)
            allowed[quiz.cohort_id] = (
                cohort if cohort is not None and can(user, "quizzes.grade", cohort) else None
            )
        cohort = allowed[quiz.cohort_id]
        qtype = type_of(answer.question_version.qtype)
        if cohort is None or qtype is None or not qtype.manual:
            continue
        version = answer.question_version
        entries.append(
            QueueEntry(
                answer,
                attempt,
                quiz,
                cohort,
                learner,
                render_text(version.text, version.text_format),
            )
        )
        if len(entries) >= limit:
            break
    return entries


def grade_manually(
    answer_id: int,
    grader: Any,
    *,
    mark: float | None,
    feedback: str = "",
    now: datetime | None = None,
) -> Attempt:
    """A teacher's mark for a hand-graded answer; the last one graded completes the attempt
    (its score, pass and ledger record). Grading again later corrects the mark and records
    the corrected outcome. The caller checks ``quizzes.grade`` on the quiz's cohort."""
    now = now or utcnow()
    answer = db.session.get(Answer, answer_id)
    if answer is None:
        raise NotFound()
    attempt = _lock(answer.attempt)
    answer = db.session.get(Answer, answer_id)
    assert answer is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    qtype = type_of(answer.question_version.qtype)
    if qtype is None or not qtype.manual:
        raise Invalid(_l("This answer is graded automatically."))
    if attempt.status in (IN_PROGRESS, SUBMITTED):
        raise Conflict(_l("The attempt has not been submitted yet."))
    if mark is None or not 0 <= mark <= answer.max_mark:
        raise Invalid(
            field_errors={"mark": [_l("Enter a mark from 0 to %(max)s.", max=answer.max_mark)]}
        )
    feedback = (feedback or "").strip()
    if len(feedback) > 5000:
        raise Invalid(field_errors={"feedback": [_l("Use at most %(n)s characters.", n=5000)]})
    answer.mark = round(float(mark), 4)
    answer.fraction = answer.mark / answer.max_mark if answer.max_mark else 0.0
    answer.feedback = feedback
    answer.graded_by_id = grader.id
    answer.graded_at = now
    db.session.flush()
    quiz = db.session.get(Quiz, attempt.quiz_id)
    assert quiz is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    pending = any(a.fraction is None and _answerable(a) for a in attempt.answers)
    was_graded = attempt.status == GRADED
    if not pending:
        attempt.status = GRADED
    _totals(attempt, quiz)
    db.session.flush()
    audit.record(
        "quizzes.answer.grade",
        "attempt",
        attempt.id,
        actor_id=grader.id,
        details={"answer": answer.id, "mark": answer.mark, "regrade": was_graded},
    )
    if not pending:
        record_outcome(attempt, quiz, actor_id=grader.id)
    return attempt


# --- showing questions and reviews -------------------------------------------------------


def render_text(text: str, text_format: str = "moodle") -> Markup:
    """Question and answer text as safe HTML: Moodle and HTML formats keep their (cleaned)
    markup; plain text and Markdown are shown as written, line breaks kept."""
    if text_format in ("html", "moodle"):
        cleaned = nh3.clean(text or "")
        if text_format == "moodle" and "<" not in (text or ""):
            cleaned = cleaned.replace("\n", "<br>")
        return Markup(cleaned)  # nosec B704  # nh3-sanitised HTML
    return Markup("<br>".join(escape(line) for line in (text or "").split("\n")))  # nosec B704  # each line escaped


@dataclass
class Option:
    value: str
    label: Markup
    chosen: bool = False


@dataclass
class QuestionView:
    """One question of an attempt as a page shows it (taking or reviewing)."""

    answer: Answer
    version: QuestionVersion
    qtype: str
    number: int | None
    name: str
    text: Markup
    answerable: bool
    manual: bool
    single: bool = True
    options: list[Option] = field(default_factory=list)
    #: match: (field name, left-hand text, chosen right-hand text)
    rows: list[tuple[str, Markup, str]] = field(default_factory=list)
    #: the response as typed (short answer, numerical, essay)
    typed: str = ""
    right_answer: str = ""
    general_feedback: Markup = field(default_factory=Markup)


def question_views(answers: list[Answer], *, review: bool = False) -> list[QuestionView]:
    """How to show each answer's question (and, in review, the right answer)."""
    views = []
    numbers = {}
    counter = 0
    for answer in sorted(answers[0].attempt.answers if answers else [], key=lambda a: a.position):
        if _answerable(answer):
            counter += 1
            numbers[answer.id] = counter
    for answer in answers:
        version = answer.question_version
        data = version.data or {}
        qtype = type_of(version.qtype)
        response = answer.response
        view = QuestionView(
            answer=answer,
            version=version,
            qtype=version.qtype,
            number=numbers.get(answer.id),
            name=field_prefix(answer),
            text=render_text(version.text, version.text_format),
            answerable=qtype is not None and qtype.answerable,
            manual=qtype is not None and qtype.manual,
        )
        if version.qtype == "multichoice":
            items = data.get("answers") or []
            chosen = set(response) if isinstance(response, list) else set()
            view.single = bool(data.get("single", True))
            order = answer.shown_order or list(range(len(items)))
            view.options = [
                Option(
                    str(i),
                    render_text(str(items[i].get("text", "")), items[i].get("format", "moodle")),
                    i in chosen,
                )
                for i in order
                if isinstance(i, int) and 0 <= i < len(items)
            ]
        elif version.qtype == "truefalse":
            view.options = [
                Option("1", Markup(escape(_l("True"))), response is True),  # nosec B704  # escape() output (Markup already)
                Option("0", Markup(escape(_l("False"))), response is False),  # nosec B704  # escape() output (Markup already)
            ]
        elif version.qtype == "match":
            given = response if isinstance(response, dict) else {}
            choices = answer.shown_order or (qtype.choices(data) if qtype else [])
            view.options = [Option(str(c), Markup(escape(c))) for c in choices]  # nosec B704  # escape() output (Markup already)
            for index, pair in enumerate(data.get("pairs") or []):
                left = str(pair.get("left", "")).strip()
                if left:
                    view.rows.append(
                        (f"{view.name}-{index}", render_text(left), str(given.get(str(index), "")))
                    )
        elif response is not None:
            view.typed = response if isinstance(response, str) else str(response)
        if review and qtype is not None:
            view.right_answer = qtype.right_answer(data)
            view.general_feedback = render_text(version.general_feedback, version.text_format)
        views.append(view)
    return views


@dataclass(frozen=True)
class Visibility:
    """What a reviewer sees of a graded attempt: the score, and the per-question marks,
    right answers and feedback."""

    score: bool
    feedback: bool


def visibility(
    quiz: Quiz, attempt: Attempt, *, staff: bool, now: datetime | None = None
) -> Visibility:
    """Staff see everything; a learner sees what the quiz's settings allow, once graded."""
    if staff:
        return Visibility(True, True)
    if attempt.status != GRADED or quiz.show_results == "never":
        return Visibility(False, False)
    if quiz.show_results == "after_close":
        now = now or utcnow()
        if quiz.closes_at is None or now < quiz.closes_at:
            return Visibility(False, False)
    return Visibility(True, bool(quiz.show_feedback))


def progress_counts(attempt: Attempt) -> tuple[int, int]:
    """(answered, answerable) for the summary before submitting."""
    answerable = [a for a in attempt.answers if _answerable(a)]
    return sum(1 for a in answerable if a.response not in (None, "", [], {})), len(answerable)
