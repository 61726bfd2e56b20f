"""Paper mode: the printed quiz and answer sheet, the deterministic paper draw, and typing
sheets back in as graded attempts (corrections replace the answers, audited)."""

from __future__ import annotations

import hashlib
import io
import threading
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.roles import STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.errors import Conflict
from lms.extensions import db
from quizzes import paper
from quizzes.models import (
    GRADED,
    NEEDS_GRADING,
    Attempt,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    QuizSlot,
)
from quizzes.question_types import get_type
from tests import factories

MC = {
    "single": True,
    "shuffle": True,
    "answers": [
        {"text": "Soap and water", "fraction": 1.0},
        {"text": "Water only", "fraction": 0.0},
        {"text": "A dry towel", "fraction": 0.0},
        {"text": "Nothing", "fraction": 0.0},
    ],
}
MULTI = {
    "single": False,
    "answers": [
        {"text": "Fruit", "fraction": 0.5},
        {"text": "Vegetables", "fraction": 0.5},
        {"text": "Sweets", "fraction": -1.0},
    ],
}
TF = {"correct": True}
MATCH = {
    "pairs": [
        {"left": "Eyes", "right": "See"},
        {"left": "Ears", "right": "Hear"},
        {"left": "Nose", "right": "Smell"},
        {"left": "", "right": "Fly"},
    ]
}
SHORT = {"answers": [{"text": "twenty", "fraction": 1.0}]}
NUMBER = {"answers": [{"value": 20, "tolerance": 1, "fraction": 1.0}]}


def _bank() -> QuestionBank:
    found = db.session.scalar(select(QuestionBank).where(QuestionBank.manual_slug == "health"))
    if found is None:
        found = QuestionBank(name="Health", manual_slug="health")
        db.session.add(found)
        db.session.flush()
    return found


def _question(
    qtype: str, data: dict[str, Any], text: str, *, language: str = "en", mark: float = 1.0
) -> QuestionVersion:
    question = Question(bank_id=_bank().id, name="", language=language)
    db.session.add(question)
    db.session.flush()
    version = QuestionVersion(
        question_id=question.id,
        number=1,
        qtype=qtype,
        text=text,
        text_format="plain",
        data=data,
        default_mark=mark,
    )
    db.session.add(version)
    db.session.flush()
    return version


def _setup(language: str = "en", *, shuffle_answers: bool = True) -> dict[str, Any]:
    """A class (teacher, three students) and a quiz with every built-in type."""
    klass = factories.cohort(CLASS)
    teacher = factories.user()
    factories.member(klass, teacher, TEACHER)
    students = [factories.user(name=f"Student {n}") for n in ("A", "B", "C")]
    for person in students:
        factories.member(klass, person, STUDENT)
    versions = {
        "mc": _question("multichoice", MC, "How do we wash hands?", language=language),
        "multi": _question("multichoice", MULTI, "Which foods are healthy?", language=language),
        "tf": _question("truefalse", TF, "Germs cause illness.", language=language),
        "info": _question("description", {}, "Read the next questions carefully."),
        "match": _question("match", MATCH, "Match each organ with its sense.", language=language),
        "short": _question("shortanswer", SHORT, "How many seconds?", language=language),
        "number": _question("numerical", NUMBER, "Seconds, as a number?", language=language),
        "essay": _question("essay", {}, "Why wash hands?", language=language, mark=4.0),
    }
    quiz = Quiz(
        cohort_id=klass.id,
        title="Hand hygiene check",
        language=language,
        shuffle_answers=shuffle_answers,
        pass_mark=50.0,
    )
    for position, version in enumerate(versions.values(), start=1):
        quiz.slots.append(QuizSlot(position=position, question_id=version.question_id))
    db.session.add(quiz)
    db.session.flush()
    return {"cohort": klass, "teacher": teacher, "students": students, "quiz": quiz, **versions}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _by_version(questions: list[paper.PaperQuestion]) -> dict[int, paper.PaperQuestion]:
    return {q.version.id: q for q in questions}


def _letter(q: paper.PaperQuestion, value: str) -> str:
    return next(option.letter for option in q.options if option.value == value)


# --- the printed paper ------------------------------------------------------------------


def test_paper_pdf_has_numbered_questions_letters_and_an_answer_sheet(app, client):
    s = _setup()
    db.session.commit()
    factories.login(client, s["teacher"])
    response = client.get(f"/quizzes/quizzes/{s['quiz'].id}/paper.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data)
    for words in (
        "How do we wash hands?",
        "Soap and water",
        "Match each organ with its sense.",
        "Smell",
        "Read the next questions carefully.",
        "Why wash hands?",
        "Answer sheet",
        "Name",
    ):
        assert words in text
    assert "A." in text and "D." in text
    # Seven numbered questions (the description has no number): the sheet has rows 1…7,
    # with one row per matched item (4.1, 4.2, 4.3), letters to circle on each.
    assert "4.3 A B C D" in text and "3 A B" in text
    assert "7 Answer on the question paper." in text
    assert "Answer on the question paper." in text


def test_paper_pdf_is_printed_in_the_quiz_language(app, client):
    s = _setup("ru")
    db.session.commit()
    factories.login(client, s["teacher"])
    text = _pdf_text(client.get(f"/quizzes/quizzes/{s['quiz'].id}/paper.pdf").data)
    assert "Имя" in text and "Дата" in text  # "Name", "Date" from the Russian catalogue


def test_only_the_cohorts_managers_print_and_enter(app, client):
    s = _setup()
    stranger = factories.user()
    factories.member(factories.cohort(CLASS), stranger, TEACHER)
    db.session.commit()
    quiz_id = s["quiz"].id
    for person in (s["students"][0], stranger):
        other = app.test_client()
        factories.login(other, person)
        assert other.get(f"/quizzes/quizzes/{quiz_id}/paper.pdf").status_code == 403
        assert other.get(f"/quizzes/quizzes/{quiz_id}/paper-entry").status_code == 403
    assert client.get(f"/quizzes/quizzes/{quiz_id}/paper-entry").status_code == 302


def test_random_slots_are_drawn_the_same_way_for_print_and_entry(app):
    s = _setup()
    quiz = s["quiz"]
    pool = [_question("truefalse", TF, f"Statement {n}") for n in range(8)]
    _question("truefalse", TF, "Утверждение", language="ru")  # another language: never drawn
    quiz.slots.append(QuizSlot(position=20, bank_id=_bank().id, count=3))
    db.session.flush()
    first = paper.paper_questions(quiz)
    again = paper.paper_questions(quiz)
    assert [q.version.id for q in first] == [q.version.id for q in again]
    drawn = [q.question.id for q in first[8:]]
    # The draw is seeded by the quiz id: the three questions of the pool (the quiz's fixed
    # questions excluded) with the lowest SHA-256 of "<quiz id>:<question id>".
    expected = sorted(
        (v.question_id for v in pool),
        key=lambda c: hashlib.sha256(f"{quiz.id}:{c}".encode()).hexdigest(),
    )[:3]
    assert drawn == expected
    assert [q.number for q in first] == [1, 2, 3, None, 4, 5, 6, 7, 8, 9, 10]
    assert [q.position for q in first] == list(range(1, 12))


def test_answers_are_shuffled_the_same_way_every_time(app):
    s = _setup()
    q = _by_version(paper.paper_questions(s["quiz"]))[s["mc"].id]
    again = _by_version(paper.paper_questions(s["quiz"]))[s["mc"].id]
    assert [o.value for o in q.options] == [o.value for o in again.options]
    assert sorted(o.value for o in q.options) == ["0", "1", "2", "3"]
    assert q.letters == ["A", "B", "C", "D"]
    plain = _setup(shuffle_answers=False)
    in_order = _by_version(paper.paper_questions(plain["quiz"]))[plain["mc"].id]
    assert [o.value for o in in_order.options] == ["0", "1", "2", "3"]


# --- typing the sheets in ---------------------------------------------------------------


def _form(s: dict[str, Any], learner: Any, **answers: str) -> dict[str, str]:
    return {"user_id": str(learner.id), **answers}


def _right_answers(s: dict[str, Any]) -> tuple[dict[str, str], dict[int, paper.PaperQuestion]]:
    """The form a teacher types for a sheet with every answer right (essay: 3 of 4)."""
    questions = _by_version(paper.paper_questions(s["quiz"]))
    mc, multi, tf = questions[s["mc"].id], questions[s["multi"].id], questions[s["tf"].id]
    match = questions[s["match"].id]
    form = {
        mc.prefix: _letter(mc, "0").lower(),  # lower case is fine
        multi.prefix: _letter(multi, "0") + " " + _letter(multi, "1"),
        # Cyrillic А typed on a Russian keyboard stands for the Latin A (True).
        tf.prefix: "А",
        questions[s["short"].id].prefix: "Twenty",
        questions[s["number"].id].prefix: "20,5",
        questions[s["essay"].id].prefix: "To stop germs.",
        questions[s["essay"].id].prefix + "-mark": "3",
    }
    for index, right in ((0, "See"), (1, "Hear"), (2, "Smell")):
        form[f"{match.prefix}-{index}"] = _letter(match, right)
    return form, questions


def test_entry_grades_like_online_and_opens_the_next_learner(app, client):
    s = _setup()
    db.session.commit()
    factories.login(client, s["teacher"])
    first, second = s["students"][0], s["students"][1]
    form, questions = _right_answers(s)
    url = f"/quizzes/quizzes/{s['quiz'].id}/paper-entry"
    response = client.post(url, data=_form(s, first, **form))
    assert response.status_code == 302
    assert f"user_id={second.id}" in response.headers["Location"]
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == first.id))
    assert attempt is not None
    assert (attempt.source, attempt.entered_by_id, attempt.status) == (
        "paper",
        s["teacher"].id,
        GRADED,
    )
    answers = {a.question_version_id: a for a in attempt.answers}
    assert len(answers) == 8  # the description has its place, as online
    for version_id, answer in answers.items():
        version = db.session.get(QuestionVersion, version_id)
        if version.qtype in ("description", "essay"):
            continue
        # The stored response is what the online form stores, graded by the same type.
        expected = get_type(version.qtype).grade(version.data, answer.response)
        assert answer.fraction == pytest.approx(expected.fraction)
        assert answer.fraction == pytest.approx(1.0)
    assert answers[s["mc"].id].response == [0]
    assert answers[s["multi"].id].response == [0, 1]
    assert answers[s["tf"].id].response is True
    assert answers[s["match"].id].response == {"0": "See", "1": "Hear", "2": "Smell"}
    assert answers[s["number"].id].response == "20,5"
    essay = answers[s["essay"].id]
    assert (essay.mark, essay.graded_by_id) == (3.0, s["teacher"].id)
    assert answers[s["info"].id].max_mark == 0.0
    # 6 automatic marks + 3 of 4 for the essay = 9 of 10.
    assert (attempt.score, attempt.max_score, attempt.percent, attempt.passed) == (
        pytest.approx(9.0),
        pytest.approx(10.0),
        pytest.approx(90.0),
        True,
    )
    assert answers[s["mc"].id].shown_order == [int(o.value) for o in questions[s["mc"].id].options]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "quizzes.paper.enter"))
    assert entry is not None and entry.object_id == str(attempt.id)


def test_wrong_letters_and_pending_essays(app, client):
    s = _setup()
    db.session.commit()
    factories.login(client, s["teacher"])
    learner = s["students"][2]
    questions = _by_version(paper.paper_questions(s["quiz"]))
    mc, tf = questions[s["mc"].id], questions[s["tf"].id]
    url = f"/quizzes/quizzes/{s['quiz'].id}/paper-entry"
    bad = client.post(url, data=_form(s, learner, **{mc.prefix: "F", tf.prefix: "AB"}))
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Type one of the letters A, B, C, D." in text and "Nothing has been saved" in text
    assert db.session.scalar(select(Attempt).where(Attempt.user_id == learner.id)) is None
    # A wrong choice, the rest blank, the essay left for later.
    wrong = _letter(mc, "1")
    assert client.post(url, data=_form(s, learner, **{mc.prefix: wrong})).status_code == 302
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == learner.id))
    assert attempt.status == NEEDS_GRADING and attempt.percent is None
    answers = {a.question_version_id: a for a in attempt.answers}
    assert answers[s["mc"].id].response == [1] and answers[s["mc"].id].fraction == 0.0
    assert answers[s["tf"].id].response is None and answers[s["tf"].id].fraction == 0.0
    assert answers[s["essay"].id].fraction is None


def test_a_correction_replaces_the_answers_and_is_audited(app, client):
    s = _setup()
    db.session.commit()
    factories.login(client, s["teacher"])
    learner = s["students"][0]
    form, questions = _right_answers(s)
    url = f"/quizzes/quizzes/{s['quiz'].id}/paper-entry"
    client.post(url, data=_form(s, learner, **form))
    attempt_id = db.session.scalar(select(Attempt.id).where(Attempt.user_id == learner.id))
    # The page shows what was typed, as letters, for correction.
    page = client.get(f"{url}?user_id={learner.id}").get_data(as_text=True)
    mc = questions[s["mc"].id]
    assert f'name="{mc.prefix}" value="{_letter(mc, "0")}"' in page
    assert "entered: correcting" in page
    form[mc.prefix] = _letter(mc, "2")
    form[questions[s["essay"].id].prefix + "-mark"] = "4"
    assert client.post(url, data=_form(s, learner, **form)).status_code == 302
    db.session.expire_all()
    attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == learner.id)).all()
    assert [a.id for a in attempts] == [attempt_id]  # the same attempt, corrected
    attempt = attempts[0]
    answers = {a.question_version_id: a for a in attempt.answers}
    assert len(answers) == 8
    assert answers[s["mc"].id].response == [2] and answers[s["mc"].id].fraction == 0.0
    assert answers[s["essay"].id].mark == 4.0
    assert attempt.score == pytest.approx(9.0) and attempt.percent == pytest.approx(90.0)
    correction = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "quizzes.paper.correct")
    )
    assert correction is not None and correction.object_id == str(attempt_id)
    assert correction.details["changed"] == {str(mc.position): {"from": [0], "to": [2]}}


def test_entry_page_lists_learners_and_counts_those_entered(app, client):
    s = _setup()
    db.session.commit()
    factories.login(client, s["teacher"])
    url = f"/quizzes/quizzes/{s['quiz'].id}/paper-entry"
    page = client.get(url).get_data(as_text=True)
    assert "Student A" in page and "0 of 3 learners entered." in page
    form, _questions = _right_answers(s)
    client.post(url, data=_form(s, s["students"][1], **form))
    page = client.get(url).get_data(as_text=True)
    assert "1 of 3 learners entered." in page and "✓" in page
    # Someone outside the cohort cannot be entered.
    outsider = factories.user()
    db.session.commit()
    assert client.post(url, data=_form(s, outsider, **form)).status_code == 400


def test_paper_idempotency_key_is_one_per_learner_and_quiz(app):
    s = _setup()
    learner = s["students"][0]
    questions = paper.paper_questions(s["quiz"])
    entry = paper.read_entry(questions, {})
    attempt, corrected = paper.save_paper_attempt(
        s["quiz"], learner.id, questions, entry, actor=s["teacher"]
    )
    assert not corrected and attempt.idempotency_key == f"paper-{s['quiz'].id}-{learner.id}"
    again, corrected = paper.save_paper_attempt(
        s["quiz"], learner.id, questions, entry, actor=s["teacher"]
    )
    assert corrected and again.id == attempt.id


def test_two_teachers_entering_one_sheet_at_once_make_one_attempt(app):
    s = _setup()
    db.session.commit()
    quiz_id, learner_id, teacher_id = s["quiz"].id, s["students"][0].id, s["teacher"].id
    db.session.remove()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def enter() -> None:
        with app.app_context():
            try:
                quiz = db.session.get(Quiz, quiz_id)
                teacher = db.session.get(User, teacher_id)
                questions = paper.paper_questions(quiz)
                entry = paper.read_entry(questions, {})
                barrier.wait(timeout=10)
                paper.save_paper_attempt(quiz, learner_id, questions, entry, actor=teacher)
                db.session.commit()
            except BaseException as error:  # reported to the test below
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=enter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Either the second became a correction (SQLite queues writers) or the database
    # refused it with a clear conflict (PostgreSQL): never two paper attempts.
    assert all(isinstance(error, Conflict) for error in errors), errors
    found = db.session.scalars(
        select(Attempt).where(Attempt.user_id == learner_id, Attempt.source == "paper")
    ).all()
    assert len(found) == 1
