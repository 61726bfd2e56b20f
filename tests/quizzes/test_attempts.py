"""Taking quizzes: start and resume, save as you go, grading, essays, limits, idempotency.

The helpers at the top build a cohort, a bank and a quiz; test_results and test_quizzes
import them (they are not tests themselves).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS, TOT
from lms.errors import Invalid
from lms.extensions import db
from lms.progress.models import ProgressRecord
from lms.timeutil import utcnow
from quizzes import attempts, quiz_service
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    NEEDS_GRADING,
    Answer,
    Attempt,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
)
from quizzes.quiz_service import QuizSettings
from tests import factories

# --- helpers (shared with the other quiz tests) -------------------------------------------

_banks = itertools.count(1)


def bank(name: str | None = None, manual: str = "health-basics") -> QuestionBank:
    found = QuestionBank(name=name or f"Bank {next(_banks)}", manual_slug=manual)
    db.session.add(found)
    db.session.flush()
    return found


def question(
    in_bank: QuestionBank,
    qtype: str,
    data: dict[str, Any] | None = None,
    *,
    text: str = "",
    mark: float = 1.0,
    language: str = "en",
    module: str = "",
) -> Question:
    """A question with one version."""
    found = Question(
        bank_id=in_bank.id, name="", module_slug=module, language=language, category=""
    )
    db.session.add(found)
    db.session.flush()
    db.session.add(
        QuestionVersion(
            question_id=found.id,
            number=1,
            qtype=qtype,
            text=text or f"{qtype} question {found.id}",
            data=data or {},
            default_mark=mark,
        )
    )
    db.session.flush()
    return found


def truefalse(in_bank: QuestionBank, correct: bool = True, **kw: Any) -> Question:
    data = {"correct": correct, "feedback_true": "You said true", "feedback_false": "No"}
    return question(in_bank, "truefalse", data, **kw)


def multichoice(in_bank: QuestionBank, **kw: Any) -> Question:
    """Single choice; answer 1 ("Water") is right."""
    data = {
        "single": True,
        "shuffle": True,
        "answers": [
            {"text": "Sand", "fraction": 0.0, "feedback": "Not sand"},
            {"text": "Water", "fraction": 1.0, "feedback": "Yes, water"},
            {"text": "Stone", "fraction": 0.0, "feedback": ""},
        ],
    }
    return question(in_bank, "multichoice", data, **kw)


def checkboxes(in_bank: QuestionBank, **kw: Any) -> Question:
    """Multiple choice; answers 0 and 2 are right (half each), 1 is wrong (−1)."""
    data = {
        "single": False,
        "shuffle": False,
        "answers": [
            {"text": "Soap", "fraction": 0.5},
            {"text": "Mud", "fraction": -1.0},
            {"text": "Water", "fraction": 0.5},
        ],
    }
    return question(in_bank, "multichoice", data, **kw)


def essay(in_bank: QuestionBank, **kw: Any) -> Question:
    return question(in_bank, "essay", {}, **kw)


def cohort_with(learner_count: int = 2, kind: str = TOT) -> tuple[Any, User, list[User]]:
    """A cohort with a leader (trainer or teacher) and learners."""
    group = factories.cohort(kind)
    leader = factories.user()
    factories.member(group, leader, "trainer" if kind == TOT else "teacher")
    learners = []
    for _ in range(learner_count):
        person = factories.user()
        factories.member(group, person, "participant" if kind == TOT else "student")
        learners.append(person)
    return group, leader, learners


def make_quiz(
    group: Any,
    questions: list[Question],
    *,
    publish: bool = True,
    **settings: Any,
) -> Quiz:
    values = {"title": "Quiz", "shuffle_answers": False, **settings}
    quiz = quiz_service.create_quiz(group, QuizSettings(**values), actor_id=None)
    for found in questions:
        quiz_service.add_question_slot(quiz, found.id, actor_id=None)
    if publish:
        quiz_service.set_published(quiz, True, actor_id=None)
    return quiz


def form(**fields: Any) -> MultiDict[str, Any]:
    data: MultiDict[str, Any] = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    return data


def key() -> str:
    return uuid.uuid4().hex


def position_of(attempt: Attempt, found: Question) -> int:
    return next(a.position for a in attempt.answers if a.question_version.question_id == found.id)


def take(quiz: Quiz, person: User, answers: dict[Question, Any], **kw: Any) -> Attempt:
    """Start, answer every question on its page, and submit."""
    attempt = attempts.start_attempt(quiz, person, key(), **kw)
    for page in range(1, attempts.page_count(attempt) + 1):
        fields = {
            f"q{position_of(attempt, q)}": value
            for q, value in answers.items()
            if (position_of(attempt, q) - 1) // attempts.PAGE_SIZE + 1 == page
        }
        attempts.save_responses(attempt, person, form(**fields), page, **kw)
    return attempts.submit_attempt(attempt, person, **kw)


# --- starting and resuming ------------------------------------------------------------------


def test_start_draws_and_freezes_versions_and_resumes(app):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    first, second = truefalse(qs), multichoice(qs)
    quiz = make_quiz(group, [first, second])
    db.session.commit()

    attempt = attempts.start_attempt(quiz, learner, key())
    db.session.commit()
    assert attempt.status == IN_PROGRESS and attempt.number == 1
    assert [a.question_version.question_id for a in attempt.answers] == [first.id, second.id]
    assert attempt.answers[1].shown_order == [0, 1, 2]

    # Editing the question afterwards makes a new version; the attempt keeps its own.
    db.session.add(
        QuestionVersion(question_id=first.id, number=2, qtype="truefalse", data={"correct": False})
    )
    db.session.commit()
    again = attempts.start_attempt(quiz, learner, key())  # another tab, a new key: resumes
    assert again.id == attempt.id
    assert again.answers[0].question_version.number == 1


def test_taking_through_the_pages_saves_and_resumes(app, client):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    questions = [truefalse(qs, correct=True) for _ in range(6)]
    quiz = make_quiz(group, questions, pass_mark=50)
    db.session.commit()
    quiz_id, learner_id = quiz.id, learner.id
    factories.login(client, learner)

    page = client.get(f"/quizzes/quizzes/{quiz_id}").get_data(as_text=True)
    assert "Start the quiz" in page
    start_key = key()
    response = client.post(f"/quizzes/quizzes/{quiz_id}/start", data={"key": start_key})
    assert response.status_code == 302
    attempt_url = response.headers["Location"]
    attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == learner_id))
    assert attempt_url.endswith(f"/quizzes/attempts/{attempt.id}")

    first_page = client.get(attempt_url).get_data(as_text=True)
    assert "Page 1 of 2" in first_page and 'name="q1"' in first_page
    assert 'name="q6"' not in first_page
    # Page 1: answer two questions and go on; the answers are saved.
    response = client.post(
        attempt_url,
        data={"key": attempt.idempotency_key, "page": "1", "q1": "1", "q2": "0", "action": "next"},
    )
    assert response.headers["Location"].endswith("page=2")
    db.session.expire_all()
    saved = {a.position: a.response for a in db.session.get(Attempt, attempt.id).answers}
    assert saved[1] is True and saved[2] is False and saved[3] is None

    # The learner leaves and comes back: starting again resumes the same attempt.
    page = client.get(f"/quizzes/quizzes/{quiz_id}").get_data(as_text=True)
    assert "Continue your attempt" in page
    again = client.post(f"/quizzes/quizzes/{quiz_id}/start", data={"key": key()})
    assert again.headers["Location"] == attempt_url
    resumed = client.get(attempt_url + "?page=1").get_data(as_text=True)
    assert 'name="q1" value="1" checked' in resumed

    client.post(attempt_url, data={"key": attempt.idempotency_key, "page": "2", "q6": "1"})
    summary = client.get(f"/quizzes/attempts/{attempt.id}/summary").get_data(as_text=True)
    assert "You have answered 3 of 6 questions." in summary
    done = client.post(
        f"/quizzes/attempts/{attempt.id}/submit", data={"key": attempt.idempotency_key}
    )
    assert done.headers["Location"].endswith(f"/quizzes/attempts/{attempt.id}/review")
    db.session.expire_all()
    graded = db.session.get(Attempt, attempt.id)
    assert graded.status == GRADED and graded.score == 2 and graded.percent == 33.33
    assert graded.passed is False
    review = client.get(f"/quizzes/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "33.33%" in review and "not passed" in review
    listing = client.get(f"/quizzes/cohorts/{group.id}/quizzes").get_data(as_text=True)
    assert "Your best score: 33.33%" in listing
    # A second submit (double tap) changes nothing.
    client.post(f"/quizzes/attempts/{attempt.id}/submit", data={"key": attempt.idempotency_key})
    assert db.session.scalar(select(func.count(ProgressRecord.id))) == 1


def test_a_mixed_quiz_is_graded_by_type(app):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    tf, mc, boxes = truefalse(qs, correct=False), multichoice(qs, mark=2), checkboxes(qs)
    short = question(
        qs,
        "shortanswer",
        {"answers": [{"text": "Bishkek", "fraction": 1.0, "feedback": "Right"}]},
    )
    number = question(
        qs, "numerical", {"answers": [{"value": 3.5, "tolerance": 0.1, "fraction": 1}]}
    )
    pairs = question(
        qs,
        "match",
        {
            "pairs": [
                {"left": "Hands", "right": "Soap"},
                {"left": "Teeth", "right": "Brush"},
                {"left": "", "right": "Hammer"},
            ]
        },
    )
    info = question(qs, "description", {}, text="Read this first")
    quiz = make_quiz(group, [info, tf, mc, boxes, short, number, pairs], pass_mark=70)
    db.session.commit()
    attempt = attempts.start_attempt(quiz, learner, key())
    by_q = {a.question_version.question_id: a.position for a in attempt.answers}
    fields = form(
        **{
            f"q{by_q[tf.id]}": "0",  # right: 1
            f"q{by_q[mc.id]}": "1",  # right: 2 (mark 2)
            f"q{by_q[boxes.id]}": ["0", "1"],  # 0.5 − 1 → 0
            f"q{by_q[short.id]}": "  bishkek ",  # right: 1
            f"q{by_q[number.id]}": "3,45",  # within tolerance: 1
            f"q{by_q[pairs.id]}-0": "Soap",
            f"q{by_q[pairs.id]}-1": "Hammer",  # half: 0.5
        }
    )
    assert attempts.save_responses(attempt, learner, form=fields, page=1)
    assert attempts.save_responses(attempt, learner, form=fields, page=2)
    attempts.submit_attempt(attempt, learner)
    db.session.commit()
    assert attempt.status == GRADED
    marks = {a.question_version.question_id: a.mark for a in attempt.answers}
    assert marks == {
        info.id: None,
        tf.id: 1.0,
        mc.id: 2.0,
        boxes.id: 0.0,
        short.id: 1.0,
        number.id: 1.0,
        pairs.id: 0.5,
    }
    assert attempt.max_score == 7 and attempt.score == 5.5
    assert attempt.percent == 78.57 and attempt.passed is True
    feedback = {a.question_version.question_id: a.feedback for a in attempt.answers}
    assert feedback[mc.id] == "Yes, water" and feedback[tf.id] == "No"


def test_shuffled_answers_keep_their_shown_order(app, client):
    group, _leader, (learner, _other) = cohort_with()
    found = multichoice(bank())
    quiz = make_quiz(group, [found], shuffle_answers=True, attempts_allowed=0)
    db.session.commit()
    orders = set()
    for _ in range(12):
        attempt = attempts.start_attempt(quiz, learner, key())
        orders.add(tuple(attempt.answers[0].shown_order))
        assert sorted(attempt.answers[0].shown_order) == [0, 1, 2]
        attempts.submit_attempt(attempt, learner)
    assert len(orders) > 1


def test_random_slots_draw_distinct_questions_in_the_quiz_language(app):
    group, _leader, learners = cohort_with(3)
    qs = bank()
    english = [truefalse(qs, module="hygiene") for _ in range(5)]
    truefalse(qs, module="hygiene", language="ky")
    other_module = [truefalse(qs, module="nutrition") for _ in range(2)]
    quiz = make_quiz(group, [english[0]], publish=False)
    quiz_service.add_random_slot(quiz, qs.id, module_slug="hygiene", count=3, actor_id=None)
    quiz_service.set_published(quiz, True, actor_id=None)
    db.session.commit()
    seen = set()
    for person in learners:
        attempt = attempts.start_attempt(quiz, person, key())
        ids = [a.question_version.question_id for a in attempt.answers]
        assert len(ids) == 4 and len(set(ids)) == 4 and ids[0] == english[0].id
        assert set(ids) <= {q.id for q in english}
        assert not set(ids) & {q.id for q in other_module}
        seen.update(ids)
    db.session.commit()
    assert len(seen) >= 4


# --- essays ----------------------------------------------------------------------------------


def test_essays_wait_in_the_queue_and_the_last_mark_grades_the_attempt(app, client):
    group, leader, (learner, _other) = cohort_with()
    qs = bank()
    tf, long_answer = truefalse(qs), essay(qs, mark=4)
    quiz = make_quiz(group, [tf, long_answer], pass_mark=50)
    db.session.commit()
    attempt = take(quiz, learner, {tf: "1", long_answer: "Wash hands before meals."})
    db.session.commit()
    assert attempt.status == NEEDS_GRADING and attempt.percent is None
    assert db.session.scalar(select(func.count(ProgressRecord.id))) == 0

    outsider = factories.user()
    _other_group, other_leader, _ = cohort_with(1)
    db.session.commit()
    factories.login(client, other_leader)
    assert "Wash hands" not in client.get("/quizzes/grading").get_data(as_text=True)
    essay_answer = next(a for a in attempt.answers if a.max_mark == 4)
    refused = client.post(f"/quizzes/grading/answers/{essay_answer.id}", data={"mark": "4"})
    assert refused.status_code == 403
    client.post("/account/logout")
    factories.login(client, outsider)
    assert client.get("/quizzes/grading").status_code == 403
    client.post("/account/logout")

    factories.login(client, leader)
    queue = client.get("/quizzes/grading").get_data(as_text=True)
    assert "Wash hands before meals." in queue and learner.name in queue
    too_much = client.post(f"/quizzes/grading/answers/{essay_answer.id}", data={"mark": "5"})
    assert too_much.status_code == 302
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == NEEDS_GRADING
    client.post(
        f"/quizzes/grading/answers/{essay_answer.id}", data={"mark": "3", "feedback": "Good"}
    )
    db.session.expire_all()
    graded = db.session.get(Attempt, attempt.id)
    assert graded.status == GRADED and graded.score == 4 and graded.percent == 80
    answer = db.session.get(Answer, essay_answer.id)
    assert (
        answer.fraction == 0.75 and answer.feedback == "Good" and answer.graded_by_id == leader.id
    )
    record = db.session.scalar(select(ProgressRecord))
    assert (record.outcome, record.score, record.recorded_by_id) == ("passed", 80, leader.id)
    assert "Wash hands" not in client.get("/quizzes/grading").get_data(as_text=True)


# --- limits ----------------------------------------------------------------------------------


def test_attempts_limit(app, client):
    group, _leader, (learner, _other) = cohort_with()
    found = truefalse(bank())
    quiz = make_quiz(group, [found], attempts_allowed=2)
    db.session.commit()
    take(quiz, learner, {found: "0"})
    take(quiz, learner, {found: "1"})
    db.session.commit()
    factories.login(client, learner)
    page = client.get(f"/quizzes/quizzes/{quiz.id}").get_data(as_text=True)
    assert "You have used all your attempts at this quiz." in page
    response = client.post(f"/quizzes/quizzes/{quiz.id}/start", data={"key": key()})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Attempt.id))) == 2
    # The ledger keeps the best attempt: the second one, passed.
    latest = db.session.scalars(select(ProgressRecord).order_by(ProgressRecord.id)).all()[-1]
    assert latest.outcome == "passed" and latest.score == 100


def test_time_limit_refuses_late_answers_and_submits_what_was_saved(app, client):
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    first, second = truefalse(qs), truefalse(qs)
    quiz = make_quiz(group, [first, second], time_limit_minutes=10)
    db.session.commit()
    started = utcnow() - timedelta(minutes=30)
    attempt = attempts.start_attempt(quiz, learner, key(), now=started)
    assert attempts.save_responses(
        attempt, learner, form(q1="1"), 1, now=started + timedelta(minutes=5)
    )
    # Within the grace period after the limit a slow phone's save still counts…
    assert attempts.save_responses(
        attempt, learner, form(q1="1", q2="0"), 1, now=started + timedelta(minutes=10, seconds=20)
    )
    # …after it, it does not.
    late = started + timedelta(minutes=12)
    assert not attempts.save_responses(attempt, learner, form(q1="1", q2="1"), 1, now=late)
    db.session.commit()
    attempt_id = attempt.id

    factories.login(client, learner)
    response = client.post(
        f"/quizzes/attempts/{attempt_id}",
        data={"key": attempt.idempotency_key, "page": "1", "q1": "1", "q2": "1"},
    )
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/review")
    db.session.expire_all()
    done = db.session.get(Attempt, attempt_id)
    assert done.status == GRADED and done.score == 1  # q2 stayed "false", as saved in time
    assert [a.response for a in done.answers] == [True, False]


def test_an_abandoned_attempt_is_submitted_when_its_learner_returns(app, client):
    group, _leader, (learner, _other) = cohort_with()
    found = truefalse(bank())
    quiz = make_quiz(group, [found], time_limit_minutes=5, attempts_allowed=2)
    db.session.commit()
    attempt = attempts.start_attempt(quiz, learner, key(), now=utcnow() - timedelta(hours=1))
    attempts.save_responses(attempt, learner, form(q1="1"), 1, now=utcnow() - timedelta(hours=1))
    db.session.commit()
    factories.login(client, learner)
    page = client.get(f"/quizzes/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Start a new attempt" in page
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == GRADED


def test_closed_and_unopened_quizzes_cannot_be_started(app):
    group, _leader, (learner, _other) = cohort_with()
    found = truefalse(bank())
    later = make_quiz(group, [found], opens_at=utcnow() + timedelta(days=1))
    over = make_quiz(group, [found], closes_at=utcnow() - timedelta(minutes=1))
    db.session.commit()
    for quiz, message in ((later, "not open yet"), (over, "closed")):
        with pytest.raises(Invalid, match=message):
            attempts.start_attempt(quiz, learner, key())


# --- permissions -----------------------------------------------------------------------------


def test_only_members_take_and_only_owners_see_attempts(app, client):
    group, _leader, (learner, other) = cohort_with()
    found = truefalse(bank())
    quiz = make_quiz(group, [found])
    hidden = make_quiz(group, [found], publish=False)
    stranger = factories.user("student")  # a student, but not in this cohort
    db.session.commit()
    attempt = attempts.start_attempt(quiz, learner, key())
    db.session.commit()

    factories.login(client, stranger)
    assert client.get(f"/quizzes/quizzes/{quiz.id}").status_code == 403
    assert client.post(f"/quizzes/quizzes/{quiz.id}/start", data={"key": key()}).status_code == 403
    client.post("/account/logout")

    factories.login(client, other)
    assert client.get(f"/quizzes/quizzes/{hidden.id}").status_code == 404
    assert client.get(f"/quizzes/attempts/{attempt.id}").status_code == 403
    assert client.get(f"/quizzes/attempts/{attempt.id}/review").status_code == 403
    stolen = client.post(f"/quizzes/quizzes/{quiz.id}/start", data={"key": attempt.idempotency_key})
    assert stolen.status_code == 302  # refused with a message, no attempt of theirs
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_review_honours_show_results(app, client):
    group, leader, (learner, _other) = cohort_with()
    found = truefalse(bank())
    hidden = make_quiz(group, [found], show_results="never", title="Hidden")
    later = make_quiz(
        group, [found], show_results="after_close", closes_at=utcnow() + timedelta(days=1)
    )
    no_feedback = make_quiz(group, [found], show_feedback=False)
    db.session.commit()
    ids = {}
    for quiz in (hidden, later, no_feedback):
        ids[quiz.id] = take(quiz, learner, {found: "1"}).id
    db.session.commit()
    factories.login(client, learner)
    for quiz_id in (hidden.id, later.id):
        page = client.get(f"/quizzes/attempts/{ids[quiz_id]}/review").get_data(as_text=True)
        assert "100%" not in page and "Your result is not shown yet." in page
        assert "You said true" not in page
    page = client.get(f"/quizzes/attempts/{ids[no_feedback.id]}/review").get_data(as_text=True)
    assert "100%" in page and "You said true" not in page
    client.post("/account/logout")
    factories.login(client, leader)
    page = client.get(f"/quizzes/attempts/{ids[hidden.id]}/review").get_data(as_text=True)
    assert "100%" in page and "You said true" in page and "The right answer: True" in page


# --- idempotency under concurrency -----------------------------------------------------------


def _at_once(app, count: int, work) -> list[BaseException]:
    """Run ``work()`` in ``count`` threads released together, each in its own app context
    (its own database session and connection), and commit what each did."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                work()
                db.session.commit()
            except BaseException as error:  # reported to the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_twenty_identical_submits_make_one_attempt_and_one_grade(app):
    """A phone resending one start-and-submit twenty times at the same moment."""
    group, _leader, (learner, _other) = cohort_with()
    qs = bank()
    first, second = truefalse(qs), multichoice(qs)
    quiz = make_quiz(group, [first, second], attempts_allowed=0)
    db.session.commit()
    quiz_id, learner_id, same_key = quiz.id, learner.id, key()
    db.session.remove()

    def start_and_submit() -> None:
        quiz = db.session.get(Quiz, quiz_id)
        person = db.session.get(User, learner_id)
        attempt = attempts.start_attempt(quiz, person, same_key)
        attempts.submit_attempt(attempt, person, form=form(q1="1", q2="1"), page=1, key=same_key)

    errors = _at_once(app, 20, start_and_submit)
    assert errors == []
    found = db.session.scalars(select(Attempt)).all()
    assert len(found) == 1 and found[0].status == GRADED and found[0].percent == 100
    assert db.session.scalar(select(func.count(ProgressRecord.id))) == 1
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("quizzes.attempt.start") == 1
    assert actions.count("quizzes.attempt.submit") == 1


def test_twenty_identical_submits_of_a_started_attempt_grade_it_once(app):
    group, _leader, (learner,) = cohort_with(1, kind=CLASS)
    found = truefalse(bank())
    quiz = make_quiz(group, [found])
    db.session.commit()
    attempt = attempts.start_attempt(quiz, learner, key())
    db.session.commit()
    attempt_id, learner_id, the_key = attempt.id, learner.id, attempt.idempotency_key
    db.session.remove()

    def submit() -> None:
        person = db.session.get(User, learner_id)
        attempts.submit_attempt(
            attempts.get_attempt(attempt_id), person, form=form(q1="1"), page=1, key=the_key
        )

    assert _at_once(app, 20, submit) == []
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    assert db.session.get(Attempt, attempt_id).status == GRADED
    assert db.session.scalar(select(func.count(ProgressRecord.id))) == 1
