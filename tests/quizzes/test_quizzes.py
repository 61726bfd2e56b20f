"""Quizzes of a cohort: creating, editing, slots, publishing, and who may do it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from lms.cohorts.models import CLASS
from lms.errors import Conflict, Invalid
from lms.extensions import db
from quizzes import attempts, quiz_service
from quizzes.models import Quiz, QuizSlot
from quizzes.quiz_service import QuizSettings
from tests import factories
from tests.quizzes.test_attempts import bank, cohort_with, key, make_quiz, truefalse

SETTINGS = {
    "title": "Hygiene pre-test",
    "kind": "pre",
    "language": "en",
    "attempts_allowed": "1",
    "time_limit_minutes": "20",
    "pass_mark": "60",
    "show_results": "immediately",
    "show_feedback": "y",
    "shuffle_answers": "y",
    "opens_at": "2026-09-01T09:00",
    "closes_at": "",
}


def test_a_teacher_creates_a_quiz_adds_questions_and_publishes_it(app, client):
    group, teacher, (student, _other) = cohort_with(kind=CLASS)
    qs = bank("Health bank")
    fixed = truefalse(qs, text="Soap kills germs")
    for _ in range(3):
        truefalse(qs, module="hygiene")
    db.session.commit()
    factories.login(client, teacher)

    page = client.get(f"/quizzes/cohorts/{group.id}/quizzes").get_data(as_text=True)
    assert "New quiz" in page
    response = client.post(f"/quizzes/cohorts/{group.id}/quizzes", data=SETTINGS)
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz))
    assert response.headers["Location"].endswith(f"/quizzes/quizzes/{quiz.id}/edit")
    assert (quiz.kind, quiz.time_limit_minutes, quiz.published) == ("pre", 20, False)
    assert quiz.shuffle_questions is False and quiz.shuffle_answers is True
    # Typed in Bishkek time (UTC+6), kept as UTC.
    assert quiz.opens_at == datetime(2026, 9, 1, 3, 0)

    edit = client.get(f"/quizzes/quizzes/{quiz.id}/edit").get_data(as_text=True)
    assert "Soap kills germs" in edit and 'value="2026-09-01T09:00"' in edit
    client.post(f"/quizzes/quizzes/{quiz.id}/slots/question", data={"question_id": fixed.id})
    again = client.post(
        f"/quizzes/quizzes/{quiz.id}/slots/question", data={"question_id": fixed.id}
    )
    assert "already in the quiz" in again.get_data(as_text=True)
    too_many = client.post(
        f"/quizzes/quizzes/{quiz.id}/slots/random",
        data={"bank_id": qs.id, "module_slug": "hygiene", "count": "4"},
    )
    assert "only 3 more questions" in too_many.get_data(as_text=True)
    client.post(
        f"/quizzes/quizzes/{quiz.id}/slots/random",
        data={"bank_id": qs.id, "module_slug": "hygiene", "count": "2", "mark": "2"},
    )
    db.session.expire_all()
    slots = db.session.scalars(select(QuizSlot).order_by(QuizSlot.position)).all()
    assert [(s.question_id, s.bank_id, s.count, s.mark) for s in slots] == [
        (fixed.id, None, 1, None),
        (None, qs.id, 2, 2.0),
    ]
    edit = client.get(f"/quizzes/quizzes/{quiz.id}/edit").get_data(as_text=True)
    assert "Each attempt gets 3 questions." in edit
    assert "2 random questions from Health bank (module hygiene)" in edit

    client.post(f"/quizzes/quizzes/{quiz.id}/publish")
    db.session.expire_all()
    assert db.session.get(Quiz, quiz.id).published is True

    client.post("/account/logout")
    factories.login(client, student)
    listing = client.get(f"/quizzes/cohorts/{group.id}/quizzes").get_data(as_text=True)
    assert "Hygiene pre-test" in listing and "New quiz" not in listing
    cohort_page = client.get(f"/cohorts/{group.id}").get_data(as_text=True)
    assert "Hygiene pre-test" in cohort_page


def test_editing_settings_checks_them(app, client):
    group, teacher, _learners = cohort_with(kind=CLASS)
    quiz = make_quiz(group, [truefalse(bank())], publish=False)
    db.session.commit()
    factories.login(client, teacher)
    bad = client.post(
        f"/quizzes/quizzes/{quiz.id}/edit",
        data={**SETTINGS, "opens_at": "2026-09-02T09:00", "closes_at": "2026-09-01T09:00"},
    )
    assert "The quiz must close after it opens." in bad.get_data(as_text=True)
    client.post(
        f"/quizzes/quizzes/{quiz.id}/edit",
        data={**SETTINGS, "title": "Renamed", "kind": "final", "attempts_allowed": "0"},
    )
    db.session.expire_all()
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.title, quiz.kind, quiz.attempts_allowed) == ("Renamed", "final", 0)


def test_a_quiz_without_questions_cannot_be_published(app):
    group, _teacher, _learners = cohort_with()
    quiz = make_quiz(group, [], publish=False)
    with pytest.raises(Invalid):
        quiz_service.set_published(quiz, True, actor_id=None)


def test_slots_are_frozen_once_someone_has_attempted(app):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    first, second = truefalse(qs), truefalse(qs)
    quiz = make_quiz(group, [first])
    attempts.start_attempt(quiz, learner, key())
    with pytest.raises(Conflict):
        quiz_service.add_question_slot(quiz, second.id, actor_id=None)
    with pytest.raises(Conflict):
        quiz_service.remove_slot(quiz, quiz.slots[0].id, actor_id=None)
    # Settings still change (a later closing time, a new pass mark).
    settings = QuizSettings.of(quiz)
    settings.pass_mark = 80
    quiz_service.update_quiz(quiz, settings, actor_id=None)
    assert quiz.pass_mark == 80


def test_settings_are_validated(app):
    group, _leader, _learners = cohort_with()
    with pytest.raises(Invalid) as caught:
        quiz_service.create_quiz(
            group,
            QuizSettings(title=" ", kind="exam", language="fr", attempts_allowed=-1, pass_mark=120),
            actor_id=None,
        )
    assert set(caught.value.field_errors) == {
        "title",
        "kind",
        "language",
        "attempts_allowed",
        "pass_mark",
    }


def test_who_may_create_and_edit(app, client):
    group, _teacher, (student, _other) = cohort_with(kind=CLASS)
    _other_group, other_teacher, _ = cohort_with(kind=CLASS)
    quiz = make_quiz(group, [truefalse(bank())], publish=False)
    db.session.commit()

    factories.login(client, student)
    assert client.post(f"/quizzes/cohorts/{group.id}/quizzes", data=SETTINGS).status_code == 403
    assert client.get(f"/quizzes/quizzes/{quiz.id}/edit").status_code == 403
    # An unpublished quiz does not exist for learners.
    assert client.get(f"/quizzes/quizzes/{quiz.id}").status_code == 404
    client.post("/account/logout")

    factories.login(client, other_teacher)
    assert client.get(f"/quizzes/cohorts/{group.id}/quizzes").status_code == 403
    assert client.get(f"/quizzes/quizzes/{quiz.id}/edit").status_code == 403
    assert client.post(f"/quizzes/quizzes/{quiz.id}/publish").status_code == 403
    assert client.post(f"/quizzes/cohorts/{group.id}/quizzes", data=SETTINGS).status_code == 403
    assert client.get(f"/quizzes/quizzes/{quiz.id}/results").status_code == 403
    assert db.session.scalars(select(Quiz)).all() == [quiz]
