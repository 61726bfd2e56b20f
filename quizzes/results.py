"""Quiz results: per learner and per cohort, per question, CSV, and pre/post-test gains.

Also what the quizzes plugin tells the host about progress: final and post-tests are
progress items, and the ``quizzes.passed`` completion rule. Every function runs a fixed
number of queries whatever the size of the class.

Gains compare each learner's *first* graded attempt at the pre-test and at the post-test:
a retaken pre-test is no longer a measure of what the learner knew before the course, and
counting best retakes of the post-test would reward practice on the test itself.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.roles import LEARNER_ROLES
from lms.cohorts.models import Cohort, Membership
from lms.errors import Invalid
from lms.extensions import db
from lms.plugins import CompletionContext, CompletionResult, ProgressItem
from lms.progress import api as progress
from lms.progress.models import ProgressRecord
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    NEEDS_GRADING,
    Answer,
    Attempt,
    Question,
    QuestionVersion,
    Quiz,
)
from quizzes.quiz_service import question_label, quizzes_of

ITEM_TYPE = "quizzes.quiz"
GAIN_ITEM_TYPE = "quizzes.gain"
RULE_ID = "quizzes.passed"
SOURCE = "quizzes"
PASSED, FAILED = "passed", "failed"


def learners(cohort_id: int) -> list[User]:
    """The cohort's participants or students, by name (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort_id, Membership.role.in_(LEARNER_ROLES))
            .order_by(User.name, User.id)
        )
    )


# --- per quiz --------------------------------------------------------------------------------


def best_of(attempts: Iterable[Attempt]) -> Attempt | None:
    """The quiz's grade for a learner: the highest graded attempt, the first among equals
    (the same choice ``attempts.record_outcome`` writes to the ledger)."""
    graded = [a for a in attempts if a.status == GRADED]
    return max(graded, key=lambda a: (a.percent or 0.0, -a.number)) if graded else None


@dataclass
class LearnerRow:
    """One learner's attempts at one quiz."""

    learner: User
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def graded(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == GRADED]

    @property
    def best(self) -> Attempt | None:
        return best_of(self.attempts)

    @property
    def last(self) -> Attempt | None:
        graded = self.graded
        return graded[-1] if graded else None

    @property
    def passed(self) -> bool | None:
        best = self.best
        return best.passed if best is not None else None

    @property
    def waiting(self) -> int:
        """Attempts waiting for a teacher to grade an essay."""
        return sum(1 for a in self.attempts if a.status == NEEDS_GRADING)

    @property
    def in_progress(self) -> bool:
        return any(a.status == IN_PROGRESS for a in self.attempts)


def quiz_results(quiz: Quiz) -> list[LearnerRow]:
    """Every learner of the quiz's cohort with their attempts (two queries)."""
    people = learners(quiz.cohort_id) if quiz.cohort_id is not None else []
    rows = {person.id: LearnerRow(person) for person in people}
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.user_id.in_(rows))
        .order_by(Attempt.user_id, Attempt.number)
    ):
        rows[attempt.user_id].attempts.append(attempt)
    return list(rows.values())


@dataclass(frozen=True)
class Summary:
    learners: int
    attempted: int
    passed: int
    mean_best: float | None


def summarise(rows: list[LearnerRow]) -> Summary:
    bests = [row.best.percent for row in rows if row.best is not None]
    return Summary(
        learners=len(rows),
        attempted=sum(1 for row in rows if row.attempts),
        passed=sum(1 for row in rows if row.passed),
        mean_best=round(sum(bests) / len(bests), 1) if bests else None,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class QuestionStat:
    """How one question went: its mean fraction over graded answers of graded attempts."""

    question_id: int
    label: str
    qtype: str
    answers: int
    mean_fraction: float | None


def question_stats(quiz: Quiz) -> list[QuestionStat]:
    """Per question (every version of it together), in the order questions first appear
    in attempts (one query)."""
    rows = db.session.execute(
        select(Question, QuestionVersion, Answer.fraction, Answer.position)
        .join(QuestionVersion, QuestionVersion.question_id == Question.id)
        .join(Answer, Answer.question_version_id == QuestionVersion.id)
        .join(Attempt, Answer.attempt_id == Attempt.id)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == GRADED)
        .order_by(Answer.position, Answer.id)
    ).all()
    fractions: dict[int, list[float]] = defaultdict(list)
    first: dict[int, tuple[Question, QuestionVersion]] = {}
    for question, version, fraction, _position in rows:
        first.setdefault(question.id, (question, version))
        if fraction is not None:
            fractions[question.id].append(fraction)
    stats = []
    for question_id, (question, version) in first.items():
        values = fractions.get(question_id, [])
        if not values and not question.name and version.qtype == "description":
            continue
        stats.append(
            QuestionStat(
                question_id=question_id,
                label=question_label(question, version, 100),
                qtype=version.qtype,
                answers=len(values),
                mean_fraction=round(sum(values) / len(values), 3) if values else None,
            )
        )
    return stats


def learner_results(user_id: int, cohort_id: int) -> list[tuple[Quiz, LearnerRow]]:
    """One learner's attempts at each published quiz of a cohort (two queries)."""
    person = db.session.get(User, user_id)
    assert person is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    quizzes = list(
        db.session.scalars(
            select(Quiz)
            .where(Quiz.cohort_id == cohort_id, Quiz.published.is_(True))
            .order_by(Quiz.created_at, Quiz.id)
        )
    )
    rows = {quiz.id: LearnerRow(person) for quiz in quizzes}
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.quiz_id.in_(rows))
        .order_by(Attempt.number)
    ):
        rows[attempt.quiz_id].attempts.append(attempt)
    return [(quiz, rows[quiz.id]) for quiz in quizzes]


# --- CSV -------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Spreadsheets run a cell that starts with = + - @ as a formula; names are text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def quiz_csv(quiz: Quiz) -> str:
    """The quiz's results, one row per learner: best and last score, pass, each attempt."""
    rows = quiz_results(quiz)
    most = max((len(row.attempts) for row in rows), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "username",
            "name",
            "attempts",
            "best_percent",
            "last_percent",
            "passed",
            *[f"attempt_{n}_percent" for n in range(1, most + 1)],
        ]
    )
    for row in rows:
        best, last = row.best, row.last
        writer.writerow(
            [
                _cell(row.learner.username),
                _cell(row.learner.name),
                len(row.attempts),
                _percent(best.percent if best else None),
                _percent(last.percent if last else None),
                "" if row.passed is None else ("yes" if row.passed else "no"),
                *[_percent(a.percent) for a in row.attempts],
                *[""] * (most - len(row.attempts)),
            ]
        )
    return out.getvalue()


def cohort_csv(cohort: Cohort) -> str:
    """Every learner × every published quiz of the cohort: best percent and pass."""
    quizzes = list(
        db.session.scalars(
            select(Quiz)
            .where(Quiz.cohort_id == cohort.id, Quiz.published.is_(True))
            .order_by(Quiz.created_at, Quiz.id)
        )
    )
    people = learners(cohort.id)
    by_key: dict[tuple[int, int], list[Attempt]] = defaultdict(list)
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.quiz_id.in_([q.id for q in quizzes]), Attempt.status == GRADED)
        .order_by(Attempt.number)
    ):
        by_key[(attempt.quiz_id, attempt.user_id)].append(attempt)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["username", "name"]
    for quiz in quizzes:
        header += [f"{quiz.title} ({quiz.kind}) best_percent", f"{quiz.title} ({quiz.kind}) passed"]
    writer.writerow([_cell(h) for h in header])
    for person in people:
        cells: list[Any] = [_cell(person.username), _cell(person.name)]
        for quiz in quizzes:
            best = best_of(by_key.get((quiz.id, person.id), []))
            cells.append(_percent(best.percent if best else None))
            cells.append("" if best is None else ("yes" if best.passed else "no"))
        writer.writerow(cells)
    return out.getvalue()


# --- pre/post gains --------------------------------------------------------------------------


def pre_post(cohort_id: int) -> tuple[Quiz | None, Quiz | None]:
    """The cohort's published pre-test and post-test (the latest of each, when several)."""
    found: dict[str, Quiz] = {}
    for quiz in quizzes_of(cohort_id, published_only=True):
        if quiz.kind not in ("pre", "post"):
            continue
        found[quiz.kind] = quiz
    return found.get("pre"), found.get("post")


def first_scores(quiz_id: int, user_ids: Iterable[int] | None = None) -> dict[int, float]:
    """Each learner's first graded attempt's percent (one query)."""
    query = select(Attempt.user_id, Attempt.percent).where(
        Attempt.quiz_id == quiz_id, Attempt.status == GRADED
    )
    if user_ids is not None:
        query = query.where(Attempt.user_id.in_(list(user_ids)))
    scores: dict[int, float] = {}
    for user_id, percent in db.session.execute(query.order_by(Attempt.user_id, Attempt.number)):
        if user_id not in scores and percent is not None:
            scores[user_id] = percent
    return scores


def normalised_gain(pre: float, post: float) -> float | None:
    """Hake's g = (post − pre) / (100 − pre): the share of what there was left to learn
    that was learnt; undefined when the pre-test was already perfect."""
    if pre >= 100:
        return None
    return (post - pre) / (100 - pre)


@dataclass(frozen=True)
class GainRow:
    learner: User
    pre: float | None
    post: float | None

    @property
    def gain(self) -> float | None:
        """Post − pre, in percentage points."""
        if self.pre is None or self.post is None:
            return None
        return round(self.post - self.pre, 2)

    @property
    def normalised(self) -> float | None:
        if self.pre is None or self.post is None:
            return None
        g = normalised_gain(self.pre, self.post)
        return None if g is None else round(g, 4)


@dataclass(frozen=True)
class Gains:
    """A cohort's pre/post gains; the two cohort means answer different questions, so both
    are shown: Hake's ⟨g⟩ from the mean scores (comparable with published studies) and the
    mean of the learners' own gains (which weights every learner alike)."""

    pre_quiz: Quiz | None
    post_quiz: Quiz | None
    rows: list[GainRow]
    mean_pre: float | None = None
    mean_post: float | None = None
    #: Hake's ⟨g⟩ = (mean post − mean pre) / (100 − mean pre), over learners with both
    hake: float | None = None
    #: the mean of individual normalised gains (learners with a pre-test of 100 left out)
    mean_individual: float | None = None
    pairs: int = 0
    individual_count: int = 0

    @property
    def mean_gain(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return round(self.mean_post - self.mean_pre, 2)


def cohort_gains(cohort_id: int) -> Gains:
    """Each learner's gain and normalised gain, and the cohort's two mean gains."""
    pre_quiz, post_quiz = pre_post(cohort_id)
    if pre_quiz is None or post_quiz is None:
        return Gains(pre_quiz, post_quiz, [])
    people = learners(cohort_id)
    ids = [p.id for p in people]
    pre, post = first_scores(pre_quiz.id, ids), first_scores(post_quiz.id, ids)
    rows = [GainRow(p, pre.get(p.id), post.get(p.id)) for p in people]
    paired = [r for r in rows if r.pre is not None and r.post is not None]
    if not paired:
        return Gains(pre_quiz, post_quiz, rows)
    mean_pre = sum(r.pre for r in paired) / len(paired)  # type: ignore[misc]
    mean_post = sum(r.post for r in paired) / len(paired)  # type: ignore[misc]
    hake = normalised_gain(mean_pre, mean_post)
    individual = [
        g
        for r in paired
        if (g := normalised_gain(r.pre, r.post)) is not None  # type: ignore[arg-type]
    ]
    return Gains(
        pre_quiz,
        post_quiz,
        rows,
        mean_pre=round(mean_pre, 2),
        mean_post=round(mean_post, 2),
        hake=None if hake is None else round(hake, 4),
        mean_individual=round(sum(individual) / len(individual), 4) if individual else None,
        pairs=len(paired),
        individual_count=len(individual),
    )


def record_gain(cohort_id: int, user_id: int, *, actor_id: int | None) -> None:
    """Write the learner's normalised gain to the ledger when it is known and changed.

    Called whenever a pre- or post-test attempt is graded; the record's item is the
    post-test, its score the normalised gain (nothing is written while g is undefined).
    """
    pre_quiz, post_quiz = pre_post(cohort_id)
    if pre_quiz is None or post_quiz is None:
        return
    pre = first_scores(pre_quiz.id, [user_id]).get(user_id)
    post = first_scores(post_quiz.id, [user_id]).get(user_id)
    if pre is None or post is None:
        return
    g = normalised_gain(pre, post)
    if g is None:
        return
    g = round(g, 4)
    details = {"pre_quiz": pre_quiz.id, "post_quiz": post_quiz.id, "pre": pre, "post": post}
    latest = db.session.scalar(
        select(ProgressRecord)
        .where(
            ProgressRecord.user_id == user_id,
            ProgressRecord.item_type == GAIN_ITEM_TYPE,
            ProgressRecord.item_id == str(post_quiz.id),
        )
        .order_by(ProgressRecord.id.desc())
        .limit(1)
    )
    if latest is not None and latest.score == g and latest.details == details:
        return
    progress.record(
        user_id=user_id,
        cohort_id=cohort_id,
        item_type=GAIN_ITEM_TYPE,
        item_id=post_quiz.id,
        outcome="measured",
        score=g,
        source=SOURCE,
        recorded_by_id=actor_id,
        details={**details, "gain": round(post - pre, 2)},
    )


# --- progress items and the completion rule --------------------------------------------------


def progress_items(cohort: Any) -> list[ProgressItem]:
    """Published finals are required items, post-tests optional ones; passed by passing."""
    return [
        ProgressItem(ITEM_TYPE, str(quiz.id), quiz.title, quiz.kind == "final", frozenset({PASSED}))
        for quiz in quizzes_of(cohort.id, published_only=True)
        if quiz.kind in ("final", "post")
    ]


def _rule_quizzes(cohort_id: int, param: Any) -> list[Quiz]:
    """The quizzes the rule asks for: ``quiz_id`` (one id or a list), or every published
    final when it is absent or "finals"; only quizzes of this cohort count."""
    query = select(Quiz).where(Quiz.cohort_id == cohort_id).order_by(Quiz.created_at, Quiz.id)
    if param in (None, "", "finals", "all finals", "all-finals"):
        return list(db.session.scalars(query.where(Quiz.published.is_(True), Quiz.kind == "final")))
    values = param if isinstance(param, list) else [param]
    ids = []
    for value in values:
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise Invalid(_l("The completion rule names a quiz that does not exist."))
        ids.append(int(value))
    found = list(db.session.scalars(query.where(Quiz.id.in_(ids))))
    if len(found) != len(set(ids)):
        raise Invalid(_l("The completion rule names a quiz that does not exist."))
    return found


def passed_rule(ctx: CompletionContext) -> dict[int, CompletionResult]:
    """Complete when the learner's latest outcome of every named quiz is "passed"."""
    quizzes = _rule_quizzes(ctx.cohort.id, ctx.params.get("quiz_id"))
    results: dict[int, CompletionResult] = {}
    for learner in ctx.learner_ids:
        missing = tuple(
            quiz.title
            for quiz in quizzes
            if (record := ctx.latest.get((learner, ITEM_TYPE, str(quiz.id)))) is None
            or record.outcome != PASSED
        )
        results[learner] = CompletionResult(
            completed=bool(quizzes) and not missing, missing=missing
        )
    return results
