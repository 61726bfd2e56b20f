"""Item-analysis sums kept ahead of time, so analysing a quiz does not read every answer.

The item analysis (``quizzes.analysis``) needs, per question version and place, how many
counted answers had each fraction, mark, rest-of-test mark and choice response, and the
distribution of the counted attempts' totals — counted meaning each learner's first graded
attempt, as in Moodle. A national test taken by 50,000 learners has a million answers, and
grouping them took over a second. ``ItemStatistics`` and ``TotalStatistics`` hold those
groups already counted: a few thousand rows for that test.

They are derived data, kept as counts moved by differences: when a flush writes a
learner's attempts or answers at a quiz, what that learner counted for is read from the
database before it (``before_flush``), what they count for is read again after it
(``after_flush``), and the difference is added to the counts in the same transaction (an
``INSERT … ON CONFLICT`` adding to the row, so two learners submitting at once do not
collide). Writes made around the application are not seen: ``lms quizzes
rebuild-statistics`` counts every answer again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Text, and_, case, delete, event, func, inspect, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from lms.db import batches, upsert
from lms.extensions import db
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    Answer,
    Attempt,
    ItemStatistics,
    QuestionVersion,
    TotalStatistics,
)

#: Question types whose responses pick among the version's answers (distractor analysis).
CHOICE_TYPES = frozenset({"multichoice", "truefalse"})
_PENDING = "quizzes_stats_pending"
#: The primary key of ``ItemStatistics``: what makes two counted answers one group.
_ITEM_KEY = ("quiz_id", "question_version_id", "position", "fraction", "mark", "rest", "response")

Pair = tuple[int, int]
#: (quiz, version, place, fraction, mark, rest, response, question, choice) → answers, and
#: (quiz, score, maximum) → attempts.
Counts = tuple[dict[tuple[Any, ...], int], dict[tuple[Any, ...], int]]


def counted_answer() -> Any:
    """Answers that take part in the statistics: graded, and worth something (a
    description has no mark and would only add zero-variance noise)."""
    return and_(Answer.fraction.is_not(None), Answer.mark.is_not(None), Answer.max_mark > 0)


def _response_text() -> Any:
    """A choice question's response as JSON text ("" without one, and for other types:
    free-text answers would make as many groups as answers)."""
    is_choice = QuestionVersion.qtype.in_(CHOICE_TYPES)
    return case((is_choice, func.coalesce(sql_cast(Answer.response, Text), "")), else_="")


def counts_of(pairs: Collection[Pair]) -> Counts:
    """What these learners count for now: their first graded attempt at each quiz."""
    items: dict[tuple[Any, ...], int] = defaultdict(int)
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for chunk in batches(sorted(pairs)):
        first: dict[Pair, tuple[int, int, float, float]] = {}
        for attempt_id, quiz_id, user_id, number, score, max_score in db.session.execute(
            select(
                Attempt.id,
                Attempt.quiz_id,
                Attempt.user_id,
                Attempt.number,
                Attempt.score,
                Attempt.max_score,
            ).where(Attempt.status == GRADED, tuple_(Attempt.quiz_id, Attempt.user_id).in_(chunk))
        ):
            known = first.get((quiz_id, user_id))
            if known is None or number < known[1]:
                first[(quiz_id, user_id)] = (attempt_id, number, score, max_score)
        scores = {}
        for (quiz_id, _user), (attempt_id, _number, score, max_score) in first.items():
            if score is None or max_score is None:
                continue
            scores[attempt_id] = (quiz_id, score)
            totals[(quiz_id, float(score), float(max_score))] += 1
        if not scores:
            continue
        for (
            attempt_id,
            version,
            position,
            question,
            qtype,
            fraction,
            mark,
            text,
        ) in db.session.execute(
            select(
                Answer.attempt_id,
                Answer.question_version_id,
                Answer.position,
                QuestionVersion.question_id,
                QuestionVersion.qtype,
                Answer.fraction,
                Answer.mark,
                _response_text(),
            )
            .join(QuestionVersion, QuestionVersion.id == Answer.question_version_id)
            .where(Answer.attempt_id.in_(list(scores)), counted_answer())
        ):
            quiz_id, score = scores[attempt_id]
            key = (
                quiz_id,
                version,
                position,
                float(fraction),
                float(mark),
                float(score) - float(mark),
                text,
                question,
                qtype in CHOICE_TYPES,
            )
            items[key] += 1
    return items, totals


def apply(before: Counts, after: Counts) -> None:
    """Add what changed to the kept counts, and drop the counts that fell to nothing."""
    quizzes: set[int] = set()
    item_rows = []
    for key in set(before[0]) | set(after[0]):
        change = after[0].get(key, 0) - before[0].get(key, 0)
        if change:
            quiz_id, version, position, fraction, mark, rest, text, question, choice = key
            quizzes.add(quiz_id)
            item_rows.append(
                {
                    "quiz_id": quiz_id,
                    "question_version_id": version,
                    "position": position,
                    "fraction": fraction,
                    "mark": mark,
                    "rest": rest,
                    "response": text,
                    "question_id": question,
                    "choice": choice,
                    "answers": change,
                }
            )
    total_rows = []
    for key in set(before[1]) | set(after[1]):
        change = after[1].get(key, 0) - before[1].get(key, 0)
        if change:
            quizzes.add(key[0])
            total_rows.append(
                {"quiz_id": key[0], "score": key[1], "max_score": key[2], "attempts": change}
            )
    items, totals = ItemStatistics.__table__, TotalStatistics.__table__
    for chunk in batches(item_rows):
        statement = upsert(ItemStatistics).values(chunk)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=list(_ITEM_KEY),
                set_={"answers": items.c.answers + statement.excluded.answers},
            )
        )
    for chunk in batches(total_rows):
        statement = upsert(TotalStatistics).values(chunk)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["quiz_id", "score", "max_score"],
                set_={"attempts": totals.c.attempts + statement.excluded.attempts},
            )
        )
    if quizzes:
        ids = sorted(quizzes)
        db.session.execute(
            delete(ItemStatistics).where(
                ItemStatistics.quiz_id.in_(ids), ItemStatistics.answers <= 0
            )
        )
        db.session.execute(
            delete(TotalStatistics).where(
                TotalStatistics.quiz_id.in_(ids), TotalStatistics.attempts <= 0
            )
        )


def rebuild_all() -> int:
    """Every count made again from the answers, by the database; the number of quizzes
    with counted attempts."""
    db.session.execute(delete(ItemStatistics))
    db.session.execute(delete(TotalStatistics))
    ranked = (
        select(
            Attempt.id.label("attempt_id"),
            Attempt.quiz_id.label("quiz_id"),
            Attempt.score.label("score"),
            Attempt.max_score.label("max_score"),
            func.row_number()
            .over(partition_by=(Attempt.quiz_id, Attempt.user_id), order_by=Attempt.number)
            .label("rank"),
        )
        .where(Attempt.status == GRADED)
        .subquery("ranked")
    )
    first = (
        select(ranked.c.attempt_id, ranked.c.quiz_id, ranked.c.score, ranked.c.max_score)
        .where(ranked.c.rank == 1, ranked.c.score.is_not(None), ranked.c.max_score.is_not(None))
        .subquery("first")
    )
    # One expression object per column, in the select and the GROUP BY alike (PostgreSQL
    # matches them by their text, bound parameters' names included).
    keys = (
        first.c.quiz_id,
        Answer.question_version_id,
        Answer.position,
        Answer.fraction,
        Answer.mark,
        first.c.score - Answer.mark,
        _response_text(),
        QuestionVersion.question_id,
        QuestionVersion.qtype.in_(CHOICE_TYPES),
    )
    db.session.execute(
        ItemStatistics.__table__.insert().from_select(
            [*_ITEM_KEY, "question_id", "choice", "answers"],
            select(*keys, func.count())
            .select_from(Answer)
            .join(first, first.c.attempt_id == Answer.attempt_id)
            .join(QuestionVersion, QuestionVersion.id == Answer.question_version_id)
            .where(counted_answer())
            .group_by(*keys),
        )
    )
    db.session.execute(
        TotalStatistics.__table__.insert().from_select(
            ["quiz_id", "score", "max_score", "attempts"],
            select(first.c.quiz_id, first.c.score, first.c.max_score, func.count()).group_by(
                first.c.quiz_id, first.c.score, first.c.max_score
            ),
        )
    )
    return int(db.session.scalar(select(func.count(func.distinct(TotalStatistics.quiz_id)))) or 0)


# --- keeping the counts current -------------------------------------------------------------


def _pairs_of(session: Session, objects: Iterable[Any]) -> set[Pair]:
    """The (quiz, learner) of changed attempts and answers (answers' attempts read from the
    database when they are not at hand)."""
    pairs: set[Pair] = set()
    attempt_ids: set[int] = set()
    for obj in objects:
        if isinstance(obj, Attempt):
            if obj.quiz_id is not None and obj.user_id is not None:
                pairs.add((obj.quiz_id, obj.user_id))
        elif isinstance(obj, Answer):
            attempt = obj.__dict__.get("attempt")
            if attempt is not None and attempt.quiz_id is not None:
                pairs.add((attempt.quiz_id, attempt.user_id))
            elif obj.attempt_id is not None:
                attempt_ids.add(obj.attempt_id)
    for ids in batches(sorted(attempt_ids)):
        pairs.update(
            (quiz_id, user_id)
            for quiz_id, user_id in session.execute(
                select(Attempt.quiz_id, Attempt.user_id).where(Attempt.id.in_(ids))
            )
        )
    return pairs


def _staying_in_progress(session: Session, obj: Any) -> bool:
    """An attempt (or an answer of one) that is in progress and stays so in this flush: it
    counts for nothing before or after, so saving a page of answers, the commonest write of
    all, costs the counts no statement. Judged from what is loaded only (no query)."""
    attempt = obj
    if isinstance(obj, Answer):
        attempt = obj.__dict__.get("attempt")
        if attempt is None and obj.attempt_id is not None:
            attempt = session.identity_map.get(session.identity_key(Attempt, obj.attempt_id))
    if attempt is None or attempt.__dict__.get("status") != IN_PROGRESS:
        return False
    return not inspect(attempt).attrs.status.history.has_changes()


@event.listens_for(Session, "before_flush")
def _read_before(session: Session, _context: Any, _instances: Any) -> None:
    """What the learners whose attempts or answers change count for, read while the
    database still has it."""
    changed = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, (Attempt, Answer)) and not _staying_in_progress(session, obj)
    ]
    if not changed:
        return
    with session.no_autoflush:
        pairs = _pairs_of(session, changed)
        if pairs:
            session.info[_PENDING] = (pairs, counts_of(pairs))


@event.listens_for(Session, "after_flush")
def _apply_after(session: Session, _context: Any) -> None:
    """Add the difference of what they count for now to the counts, in the same
    transaction (so the flush's own transaction already sees the new figures)."""
    pending = session.info.pop(_PENDING, None)
    if pending is None or not has_app_context() or "lms" not in current_app.extensions:
        return
    pairs, before = pending
    apply(before, counts_of(pairs))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
