"""The kept item-analysis counts equal the counts made from every answer, and stay so as
attempts are graded, regraded, added and deleted (``quizzes.statistics``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from lms.extensions import db
from quizzes import analysis, attempts
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    NEEDS_GRADING,
    Answer,
    Attempt,
    ItemStatistics,
    TotalStatistics,
)
from quizzes.statistics import rebuild_all
from tests import factories
from tests.quizzes.test_analysis import MC, _attempt, _class, _hand_data, _question, _quiz


def _kept() -> tuple[list[Any], list[Any]]:
    items = sorted(
        tuple(row)
        for row in db.session.execute(
            select(
                ItemStatistics.quiz_id,
                ItemStatistics.question_version_id,
                ItemStatistics.position,
                ItemStatistics.fraction,
                ItemStatistics.mark,
                ItemStatistics.rest,
                ItemStatistics.response,
                ItemStatistics.question_id,
                ItemStatistics.choice,
                ItemStatistics.answers,
            )
        )
    )
    totals = sorted(
        tuple(row)
        for row in db.session.execute(
            select(
                TotalStatistics.quiz_id,
                TotalStatistics.score,
                TotalStatistics.max_score,
                TotalStatistics.attempts,
            )
        )
    )
    return items, totals


def _same_as_counted_afresh() -> tuple[list[Any], list[Any]]:
    """The kept counts, checked against counting every answer again (then rolled back)."""
    kept = _kept()
    db.session.commit()
    rebuild_all()
    afresh = _kept()
    db.session.rollback()
    assert kept == afresh
    return kept


def test_the_kept_counts_are_the_counts_of_every_answer(app):
    quiz, _versions = _hand_data()
    db.session.commit()
    items, totals = _same_as_counted_afresh()
    # Six first attempts count (not L1's second, not the one in progress): 6 × 4 answers.
    assert sum(row[-1] for row in items) == 24
    assert sum(row[-1] for row in totals) == 6
    assert analysis.analyse(quiz).quiz.attempts == 6


def test_the_counts_follow_a_regrade_a_deleted_attempt_and_a_pending_one(app):
    quiz, (q1, _q2, _q3, _q4) = _hand_data()
    db.session.commit()
    first_attempts = list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.quiz_id == quiz.id, Attempt.number == 1, Attempt.status == GRADED)
            .order_by(Attempt.id)
        )
    )
    # A regrade: L5's answer to Q1 is right after all, and the score moves with it.
    answer = db.session.scalar(
        select(Answer).where(Answer.attempt_id == first_attempts[4].id, Answer.position == 1)
    )
    answer.fraction, answer.mark = 1.0, 1.0
    first_attempts[4].score = 2.0
    db.session.commit()
    _same_as_counted_afresh()
    # L1's first attempt is deleted: the second (all wrong) counts now.
    db.session.delete(first_attempts[0])
    db.session.commit()
    _same_as_counted_afresh()
    assert analysis.analyse(quiz).quiz.attempts == 6
    # L2's attempt waits for a teacher again: it no longer counts.
    first_attempts[1].status = NEEDS_GRADING
    db.session.commit()
    _same_as_counted_afresh()
    assert analysis.analyse(quiz).quiz.attempts == 5
    # A new learner's attempt is counted in its own transaction, before the commit.
    _attempt(quiz, factories.user().id, [(q1, 1.0, [0])])
    assert analysis.analyse(quiz).quiz.attempts == 6
    db.session.commit()
    _same_as_counted_afresh()


def test_an_essay_counts_once_a_teacher_has_graded_it(app):
    teacher = factories.user()
    cohort, people = _class(2, teacher)
    choice = _question("multichoice", MC, name="Soap")
    essay = _question("essay", {}, name="Explain")
    quiz = _quiz(cohort, [choice, essay])
    waiting = [
        _attempt(quiz, person.id, [(choice, 1.0, [0]), (essay, None, "…")], status=NEEDS_GRADING)
        for person in people
    ]
    for attempt in waiting:
        attempt.score, attempt.max_score = 1.0, 2.0
    db.session.commit()
    assert _kept() == ([], [])
    for mark, attempt in zip((1.0, 0.5), waiting, strict=True):
        essay_answer = next(a for a in attempt.answers if a.position == 2)
        attempts.grade_manually(essay_answer.id, teacher, mark=mark)
        db.session.commit()
    items, totals = _same_as_counted_afresh()
    assert [row[1:] for row in totals] == [(1.5, 2.0, 1), (2.0, 2.0, 1)]
    assert sum(row[-1] for row in items) == 4
    # Graded again: the mark is corrected, and so are the counts.
    attempts.grade_manually(
        next(a for a in waiting[1].answers if a.position == 2).id, teacher, mark=0.0
    )
    db.session.commit()
    items, totals = _same_as_counted_afresh()
    assert [row[1:] for row in totals] == [(1.0, 2.0, 1), (2.0, 2.0, 1)]


def test_rebuild_statistics_after_writes_made_around_the_application(app):
    _hand_data()
    db.session.commit()
    kept = _kept()
    db.session.execute(text("UPDATE quizzes_answer SET fraction = 0, mark = 0"))
    db.session.commit()
    assert _kept() == kept  # plain SQL: not seen
    result = app.test_cli_runner().invoke(args=["quizzes", "rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert "Item-analysis counts made again for 1 quizzes." in result.output
    db.session.expire_all()
    assert _kept() != kept
    assert {row[4] for row in _kept()[0]} == {0.0}


def test_the_migration_makes_the_counts_of_attempts_graded_before_it(app):
    """An installation upgraded to 0013 gets the counts the listener would have kept."""
    from flask_migrate import downgrade, upgrade

    _hand_data()
    db.session.commit()
    kept = _kept()
    assert kept[0] and kept[1]
    db.session.remove()
    try:
        downgrade(revision="0012")
    finally:
        upgrade()
    assert _kept() == kept


def test_saving_answers_of_an_attempt_in_progress_costs_the_counts_nothing(app):
    """The commonest write of all (a page of answers saved) reads and writes no count."""
    from tests.reports import count_statements

    teacher = factories.user()
    cohort, people = _class(1, teacher)
    choice = _question("multichoice", MC, name="Soap")
    quiz = _quiz(cohort, [choice])
    attempt = _attempt(quiz, people[0].id, [(choice, None, None)], status=IN_PROGRESS)
    db.session.commit()
    assert attempt.status == IN_PROGRESS  # loaded, as the service's own check loads it
    answer = attempt.answers[0]
    answer.response = [1]
    with count_statements(app) as statements:
        db.session.flush()
    assert len(statements) == 1 and statements[0].startswith("UPDATE quizzes_answer")
    # Submitting and grading it does count.
    attempt.status, answer.fraction, answer.mark, attempt.score = GRADED, 0.0, 0.0, 0.0
    db.session.commit()
    assert _kept()[1] == [(quiz.id, 0.0, 1.0, 1)]
