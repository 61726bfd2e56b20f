"""Results, the ledger, the completion rule, CSV export and pre/post gains."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from lms.cohorts.models import CLASS
from lms.errors import Invalid
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.models import ProgressRecord
from quizzes import results
from tests import factories
from tests.quizzes.test_attempts import bank, cohort_with, essay, make_quiz, take, truefalse


def _answers(questions, right: int) -> dict:
    """The first ``right`` questions answered right ("true"), the rest wrong."""
    return {q: ("1" if i < right else "0") for i, q in enumerate(questions)}


def test_graded_attempts_go_to_the_ledger(app):
    group, _leader, (passer, failer) = cohort_with()
    qs = bank()
    questions = [truefalse(qs) for _ in range(4)]
    quiz = make_quiz(group, questions, kind="final", pass_mark=75)
    take(quiz, passer, _answers(questions, 3))
    take(quiz, failer, _answers(questions, 2))
    db.session.commit()
    records = db.session.scalars(select(ProgressRecord).order_by(ProgressRecord.id)).all()
    assert [
        (r.user_id, r.cohort_id, r.item_type, r.item_id, r.outcome, r.score, r.source)
        for r in records
    ] == [
        (passer.id, group.id, "quizzes.quiz", str(quiz.id), "passed", 75.0, "quizzes"),
        (failer.id, group.id, "quizzes.quiz", str(quiz.id), "failed", 50.0, "quizzes"),
    ]


def test_finals_are_required_items_and_post_tests_optional(app):
    group, _leader, _learners = cohort_with()
    found = truefalse(bank())
    final = make_quiz(group, [found], kind="final", title="Final")
    post = make_quiz(group, [found], kind="post", title="Post")
    make_quiz(group, [found], kind="practice", title="Practice")
    make_quiz(group, [found], kind="pre", title="Pre")
    make_quiz(group, [found], kind="final", title="Draft final", publish=False)
    items = [i for i in progress.progress_items(group) if i.item_type == "quizzes.quiz"]
    assert [(i.item_id, i.label, i.required, i.passing_outcomes) for i in items] == [
        (str(final.id), "Final", True, frozenset({"passed"})),
        (str(post.id), "Post", False, frozenset({"passed"})),
    ]


def test_completion_rule_quizzes_passed(app):
    group, _leader, (good, weak) = cohort_with()
    qs = bank()
    questions = [truefalse(qs) for _ in range(2)]
    final_a = make_quiz(group, questions, kind="final", pass_mark=100, attempts_allowed=0)
    final_b = make_quiz(group, questions, kind="final", pass_mark=50)
    group.completion_rule = "quizzes.passed"
    take(final_a, good, _answers(questions, 2))
    take(final_b, good, _answers(questions, 1))
    take(final_a, weak, _answers(questions, 1))
    take(final_b, weak, _answers(questions, 2))
    db.session.commit()

    done = progress.evaluate_completion(group)  # every published final
    assert done[good.id].completed is True
    assert done[weak.id].completed is False and done[weak.id].missing == (final_a.title,)

    group.completion_params = {"quiz_id": final_b.id}
    assert progress.evaluate_completion(group)[weak.id].completed is True
    group.completion_params = {"quiz_id": [str(final_a.id), final_b.id]}
    assert progress.evaluate_completion(group)[weak.id].completed is False

    # A retake that passes turns the learner complete; a later failed one does not undo it.
    take(final_a, weak, _answers(questions, 2))
    take(final_a, weak, _answers(questions, 0))
    assert progress.evaluate_completion(group)[weak.id].completed is True

    group.completion_params = {"quiz_id": 999999}
    with pytest.raises(Invalid):
        progress.evaluate_completion(group)


def test_pre_post_gains_computed_by_hand(app, client):
    """Five true/false questions, so every score is a multiple of 20 %.

    learner  pre  post  gain  g
    A         40    80    40  40/60 = 0.6667   (a second pre-test of 100 does not count)
    B         60    80    20  20/40 = 0.5
    C        100    80   −20  undefined (perfect pre-test)
    D         20     —     —  —
    Pairs A, B, C: mean pre 66.67, mean post 80 → Hake ⟨g⟩ = 13.33 / 33.33 = 0.4;
    mean of individual g (A, B) = (0.6667 + 0.5) / 2 = 0.5833.
    """
    group, leader, people = cohort_with(4)
    a, b, c, d = people
    qs = bank()
    questions = [truefalse(qs) for _ in range(5)]
    pre = make_quiz(group, questions, kind="pre", title="Pre", attempts_allowed=0)
    post = make_quiz(group, questions, kind="post", title="Post")
    for person, before, after in ((a, 2, 4), (b, 3, 4), (c, 5, 4), (d, 1, None)):
        take(pre, person, _answers(questions, before))
        if after is not None:
            take(post, person, _answers(questions, after))
    take(pre, a, _answers(questions, 5))
    db.session.commit()

    gains = results.cohort_gains(group.id)
    rows = {row.learner.id: row for row in gains.rows}
    assert (rows[a.id].pre, rows[a.id].post, rows[a.id].gain) == (40, 80, 40)
    assert rows[a.id].normalised == pytest.approx(0.6667)
    assert rows[b.id].normalised == 0.5
    assert rows[c.id].gain == -20 and rows[c.id].normalised is None
    assert rows[d.id].post is None and rows[d.id].normalised is None
    assert gains.pairs == 3 and gains.individual_count == 2
    assert gains.mean_pre == pytest.approx(66.67) and gains.mean_post == 80
    assert gains.hake == pytest.approx(0.4)
    assert gains.mean_individual == pytest.approx(0.5833)

    # The ledger has each defined normalised gain once, on the post-test.
    recorded = db.session.scalars(
        select(ProgressRecord).where(ProgressRecord.item_type == "quizzes.gain")
    ).all()
    assert {(r.user_id, r.item_id, r.score) for r in recorded} == {
        (a.id, str(post.id), 0.6667),
        (b.id, str(post.id), 0.5),
    }
    assert recorded[0].details["pre_quiz"] == pre.id

    factories.login(client, leader)
    page = client.get(f"/quizzes/cohorts/{group.id}/gains").get_data(as_text=True)
    assert "0.40" in page and "0.58" in page and "0.67" in page
    cohort_page = client.get(f"/cohorts/{group.id}").get_data(as_text=True)
    assert "Pre-test and post-test gains" in cohort_page and "0.40" in cohort_page
    client.post("/account/logout")
    factories.login(client, a)
    assert client.get(f"/quizzes/cohorts/{group.id}/gains").status_code == 403
    assert "Pre-test and post-test gains" not in client.get(f"/cohorts/{group.id}").get_data(
        as_text=True
    )


def test_results_page_and_csv_export(app, client):
    group, teacher, (first, second) = cohort_with(kind=CLASS)
    first.name, second.name = "Aibek", "=cmd Bermet"
    qs = bank()
    questions = [truefalse(qs) for _ in range(2)]
    quiz = make_quiz(group, questions, title="Water", pass_mark=50, attempts_allowed=2)
    take(quiz, first, _answers(questions, 0))
    take(quiz, first, _answers(questions, 2))
    take(quiz, second, _answers(questions, 1))
    db.session.commit()
    factories.login(client, teacher)

    page = client.get(f"/quizzes/quizzes/{quiz.id}/results").get_data(as_text=True)
    assert "2 of 2 learners attempted the quiz; 2 passed." in page
    assert "Aibek" in page and "0.67" in page  # question 1: right in 2 of 3 attempts

    response = client.get(f"/quizzes/quizzes/{quiz.id}/results.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "username",
        "name",
        "attempts",
        "best_percent",
        "last_percent",
        "passed",
        "attempt_1_percent",
        "attempt_2_percent",
    ]
    by_user = {row[0]: row for row in rows[1:]}
    assert by_user[first.username] == [
        first.username,
        "Aibek",
        "2",
        "100",
        "100",
        "yes",
        "0",
        "100",
    ]
    # A name a spreadsheet would run as a formula is written as text.
    assert by_user[second.username] == [
        second.username,
        "'=cmd Bermet",
        "1",
        "50",
        "50",
        "yes",
        "50",
        "",
    ]

    cohort_csv = client.get(f"/quizzes/cohorts/{group.id}/results.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(cohort_csv.lstrip("\ufeff"))))
    assert rows[0] == [
        "username",
        "name",
        "Water (practice) best_percent",
        "Water (practice) passed",
    ]
    assert {row[0]: row[2:] for row in rows[1:]}[first.username] == ["100", "yes"]

    client.post("/account/logout")
    factories.login(client, first)
    assert client.get(f"/quizzes/quizzes/{quiz.id}/results").status_code == 403
    assert client.get(f"/quizzes/quizzes/{quiz.id}/results.csv").status_code == 403
    assert client.get(f"/quizzes/cohorts/{group.id}/results.csv").status_code == 403


def test_an_attempt_waiting_for_an_essay_has_no_ledger_record_yet(app):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    quiz = make_quiz(group, [truefalse(qs), essay(qs)], kind="final")
    take(quiz, learner, {})
    db.session.commit()
    assert db.session.scalars(select(ProgressRecord)).all() == []
    row = next(r for r in results.quiz_results(quiz) if r.learner.id == learner.id)
    assert row.waiting == 1 and row.best is None


def test_a_trainer_trying_a_quiz_out_records_no_progress(app):
    group, leader, _learners = cohort_with()
    found = truefalse(bank())
    quiz = make_quiz(group, [found], kind="final")
    attempt = take(quiz, leader, {found: "1"})
    db.session.commit()
    assert attempt.passed is True
    assert db.session.scalars(select(ProgressRecord)).all() == []
    assert leader.id not in {row.learner.id for row in results.quiz_results(quiz)}
