"""The quizzes JSON API: a learner takes a quiz from the mobile app, end to end.

Start (idempotent by key), save as you go, resume, submit (idempotent), and the refusals:
401 for visitors, 403 for someone else's attempt or cohort, 404, 409 once an attempt is
over or a quiz closed, 400 with field details, and the CSRF header on every write.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from curriculum.services import create_manual
from lms.accounts.models import User
from lms.accounts.roles import STUDENT, TEACHER
from lms.cohorts.models import CLASS, Cohort
from lms.extensions import db
from lms.timeutil import utcnow
from quizzes import questions, quiz_service
from quizzes.api_views import ResponseForm
from quizzes.models import GRADED, IN_PROGRESS, Attempt, QuestionBank, Quiz
from tests import factories

API = "/api/v1/quizzes"
#: The learner-facing members of a question; anything more could leak an answer.
QUESTION_KEYS = {
    "position",
    "number",
    "type",
    "answer_kind",
    "text",
    "max_mark",
    "choices",
    "rows",
    "response",
}

QUESTIONS: list[dict[str, Any]] = [
    {
        "qtype": "description",
        "text": "<p onclick='steal()'>Read <b>carefully</b>.</p><script>steal()</script>",
        "text_format": "html",
        "data": {},
    },
    {
        "qtype": "multichoice",
        "text": "The **capital** of Kyrgyzstan? <img src=x onerror=steal()>",
        "text_format": "markdown",
        "data": {
            "single": True,
            "answers": [
                {"text": "Bishkek", "fraction": 1.0, "feedback": "RIGHT-FEEDBACK"},
                {"text": "Osh", "fraction": 0.0, "feedback": "WRONG-FEEDBACK"},
                {"text": "Naryn", "fraction": 0.0},
            ],
        },
    },
    {
        "qtype": "multichoice",
        "text": "Mountain ranges of Kyrgyzstan?",
        "data": {
            "single": False,
            "answers": [
                {"text": "Ala-Too", "fraction": 0.5},
                {"text": "Tian Shan", "fraction": 0.5},
                {"text": "Alps", "fraction": -1.0},
            ],
        },
    },
    {
        "qtype": "truefalse",
        "text": "Washing hands prevents disease.",
        "data": {"correct": True, "feedback_true": "TF-FEEDBACK"},
    },
    {
        "qtype": "shortanswer",
        "text": "The epic of the Kyrgyz people?",
        "data": {"answers": [{"text": "Manas", "fraction": 1.0}]},
    },
    {
        "qtype": "match",
        "text": "Match the city to its region.",
        "data": {
            "pairs": [
                {"left": "Karakol", "right": "Issyk-Kul"},
                {"left": "Jalal-Abad", "right": "Jalal-Abad region"},
                {"left": "", "right": "Talas"},
            ]
        },
    },
]


@dataclass
class Setting:
    quiz: Quiz
    cohort: Cohort
    learner: User
    classmate: User
    teacher: User


def make_quiz(**settings: Any) -> Setting:
    """A class with two learners and a published practice quiz of every built-in type."""
    manual = create_manual(slug="civics", title_en="Civic Education", actor_id=None)
    bank = QuestionBank(name="Civics", manual_slug=manual.slug)
    db.session.add(bank)
    db.session.flush()
    cohort = factories.cohort(CLASS)
    teacher, learner, classmate = factories.user(), factories.user(), factories.user()
    factories.member(cohort, teacher, TEACHER)
    factories.member(cohort, learner, STUDENT)
    factories.member(cohort, classmate, STUDENT)
    values: dict[str, Any] = {"title": "Civics practice", "attempts_allowed": 2, **settings}
    quiz = quiz_service.create_quiz(cohort, quiz_service.QuizSettings(**values), actor_id=None)
    for spec in QUESTIONS:
        question = questions.create_question(bank, actor_id=None, **spec)
        quiz_service.add_question_slot(quiz, question.id, actor_id=None)
    quiz_service.set_published(quiz, True, actor_id=None)
    db.session.commit()
    return Setting(quiz, cohort, learner, classmate, teacher)


def key() -> str:
    return str(uuid.uuid4())


def start(client: FlaskClient, quiz_id: int, idempotency_key: str | None = None) -> Any:
    return client.post(
        f"{API}/quizzes/{quiz_id}/attempts", json={"idempotency_key": idempotency_key or key()}
    )


def by_type(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Questions of an attempt by (type, single-ness), since each type appears once."""
    found = {}
    for question in body["questions"]:
        name = question["type"]
        if name == "multichoice":
            name += "-" + question["answer_kind"]
        found[name] = question
    return found


def choice(question: dict[str, Any], text: str) -> str:
    return next(c["id"] for c in question["choices"] if c["text"] == text)


def right_answers(body: dict[str, Any]) -> dict[str, Any]:
    """Every answerable question answered right, as the app would send it."""
    q = by_type(body)
    match = q["match"]
    rows = {r["text"]: r["id"] for r in match["rows"]}
    return {
        str(q["multichoice-choice"]["position"]): choice(q["multichoice-choice"], "Bishkek"),
        str(q["multichoice-choices"]["position"]): [  # read back in the order shown
            c["id"]
            for c in q["multichoice-choices"]["choices"]
            if c["text"] in ("Ala-Too", "Tian Shan")
        ],
        str(q["truefalse"]["position"]): choice(q["truefalse"], "True"),
        str(q["shortanswer"]["position"]): "manas",
        str(match["position"]): {
            rows["Karakol"]: choice(match, "Issyk-Kul"),
            rows["Jalal-Abad"]: choice(match, "Jalal-Abad region"),
        },
    }


def assert_no_answers_leak(body: dict[str, Any]) -> None:
    """Nothing in a learner's view of an unsubmitted attempt tells a right answer."""
    text = json.dumps(body)
    for secret in ("fraction", "feedback", "right_answer", "RIGHT-FEEDBACK", "TF-FEEDBACK"):
        assert secret not in text, secret
    for question in body["questions"]:
        assert set(question) == QUESTION_KEYS
        for item in (question["choices"] or []) + (question["rows"] or []):
            assert set(item) == {"id", "text"}
            assert re.fullmatch(r"[0-9a-f]{16}", item["id"]), item["id"]


# --- the whole way through ---------------------------------------------------------------


def test_a_learner_takes_a_quiz_end_to_end(app, client):
    setting = make_quiz()
    factories.login(client, setting.learner)

    listing = client.get(f"{API}/cohorts/{setting.cohort.id}/quizzes")
    assert listing.status_code == 200 and listing.headers["X-CSRFToken"]
    [listed] = listing.json["quizzes"]
    assert listed["title"] == "Civics practice" and listed["kind"] == "practice"
    assert listed["attempts_allowed"] == 2 and listed["attempts_used"] == 0
    assert listed["state"] == "open" and listed["in_progress_attempt"] is None
    assert listed["question_count"] == len(QUESTIONS) and listed["pass_mark"] == 60.0

    first_key = key()
    started = start(client, setting.quiz.id, first_key)
    assert started.status_code == 201, started.json
    body = started.json
    assert body["status"] == IN_PROGRESS and body["idempotency_key"] == first_key
    assert body["deadline"] is None and body["result"] is None
    assert [q["position"] for q in body["questions"]] == list(range(1, len(QUESTIONS) + 1))
    assert body["answerable"] == len(QUESTIONS) - 1 and body["answered"] == 0
    assert_no_answers_leak(body)
    description = body["questions"][0]
    assert description["answer_kind"] == "none" and description["number"] is None
    assert description["choices"] is None and description["max_mark"] is None
    assert "<b>carefully</b>" in description["text"]
    assert "<script" not in description["text"] and "onclick" not in description["text"]
    assert "<img" not in body["questions"][1]["text"]  # Markdown's raw HTML is not kept
    q = by_type(body)
    assert [c["text"] for c in q["truefalse"]["choices"]] == ["True", "False"]
    assert sorted(c["text"] for c in q["multichoice-choice"]["choices"]) == [
        "Bishkek",
        "Naryn",
        "Osh",
    ]
    assert sorted(r["text"] for r in q["match"]["rows"]) == ["Jalal-Abad", "Karakol"]
    assert len(q["match"]["choices"]) == 3  # the distractor too

    again = start(client, setting.quiz.id, first_key)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert again.json["questions"] == body["questions"]  # same order, same ids
    resumed = start(client, setting.quiz.id)  # a new key resumes the unfinished attempt
    assert resumed.status_code == 200 and resumed.json["id"] == body["id"]
    assert resumed.json["idempotency_key"] == first_key

    answers = right_answers(body)
    attempt_url = f"{API}/attempts/{body['id']}"
    first_half = {p: answers[p] for p in list(answers)[:2]}
    first_half[str(q["shortanswer"]["position"])] = "Kojojash"  # wrong, corrected below
    saved = client.put(f"{attempt_url}/answers", json={"answers": first_half})
    assert saved.status_code == 200, saved.json
    assert saved.json["answered"] == 3
    short = str(q["shortanswer"]["position"])
    rest = {p: v for p, v in answers.items() if p not in first_half or p == short}
    saved = client.put(f"{attempt_url}/answers", json={"answers": rest})
    assert saved.status_code == 200, saved.json
    assert saved.json["answered"] == 5 and saved.json["answerable"] == 5
    assert saved.json["answers"] == answers  # the first save's answers were kept

    read = client.get(attempt_url)
    assert read.status_code == 200 and read.headers["X-CSRFToken"]
    assert {str(x["position"]): x["response"] for x in read.json["questions"][1:]} == answers
    assert_no_answers_leak(read.json)

    submitted = client.post(f"{attempt_url}/submit", json={"idempotency_key": first_key})
    assert submitted.status_code == 200, submitted.json
    result = submitted.json
    assert result["status"] == GRADED and result["score_visible"] is True
    assert result["score"] == result["max_score"] == 5.0
    assert result["percent"] == 100.0 and result["passed"] is True
    assert result["feedback_visible"] is True
    marks = {r["position"]: r for r in result["questions"]}
    assert marks[q["multichoice-choice"]["position"]]["feedback"] == "RIGHT-FEEDBACK"
    assert marks[q["truefalse"]["position"]]["right_answer"] == "True"

    repeated = client.post(f"{attempt_url}/submit", json={"idempotency_key": first_key})
    assert repeated.status_code == 200 and repeated.json == result
    assert client.get(attempt_url).json["result"] == result
    assert start(client, setting.quiz.id, first_key).json["status"] == GRADED

    listed = client.get(f"{API}/cohorts/{setting.cohort.id}/quizzes").json["quizzes"][0]
    assert listed["attempts_used"] == 1 and listed["attempts_left"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_clearing_and_partial_credit(app, client):
    setting = make_quiz(show_feedback=False)
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    q = by_type(body)
    url = f"{API}/attempts/{body['id']}"
    multi = str(q["multichoice-choices"]["position"])
    tf = str(q["truefalse"]["position"])
    both = {
        multi: [choice(q["multichoice-choices"], "Ala-Too")],
        tf: choice(q["truefalse"], "True"),
    }
    assert client.put(f"{url}/answers", json={"answers": both}).json["answered"] == 2
    cleared = client.put(f"{url}/answers", json={"answers": {tf: None}})
    assert cleared.json["answers"][tf] is None and cleared.json["answered"] == 1
    result = client.post(f"{url}/submit", json={"idempotency_key": body["idempotency_key"]}).json
    assert result["score"] == 0.5 and result["passed"] is False
    assert result["feedback_visible"] is False and result["questions"] is None


def test_results_are_hidden_when_the_quiz_says_never(app, client):
    setting = make_quiz(show_results="never")
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    url = f"{API}/attempts/{body['id']}"
    client.put(f"{url}/answers", json={"answers": right_answers(body)})
    result = client.post(f"{url}/submit", json={"idempotency_key": body["idempotency_key"]}).json
    assert result["status"] == GRADED and result["score_visible"] is False
    assert result["score"] is None and result["percent"] is None and result["passed"] is None
    assert result["questions"] is None
    assert "RIGHT-FEEDBACK" not in json.dumps(client.get(url).json)


# --- refusals ----------------------------------------------------------------------------


def test_visitors_get_401_json(app, client):
    setting = make_quiz()
    for method, url in (
        ("get", f"{API}/cohorts/{setting.cohort.id}/quizzes"),
        ("post", f"{API}/quizzes/{setting.quiz.id}/attempts"),
        ("get", f"{API}/attempts/1"),
        ("put", f"{API}/attempts/1/answers"),
        ("post", f"{API}/attempts/1/submit"),
    ):
        response = getattr(client, method)(url, json={"idempotency_key": key()})
        assert response.status_code == 401, url
        assert response.json["error"]["status"] == 401


def test_other_learners_and_outsiders_get_403(app, client):
    setting = make_quiz()
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    url = f"{API}/attempts/{body['id']}"
    outsider = factories.user()
    factories.member(factories.cohort(CLASS), outsider, STUDENT)
    db.session.commit()

    other = app.test_client()
    factories.login(other, setting.classmate)
    assert other.get(url).status_code == 403
    answers = {"2": by_type(body)["multichoice-choice"]["choices"][0]["id"]}
    assert other.put(f"{url}/answers", json={"answers": answers}).status_code == 403
    refused = other.post(f"{url}/submit", json={"idempotency_key": body["idempotency_key"]})
    assert refused.status_code == 403 and refused.json["error"]["status"] == 403
    # The classmate's own start with the learner's key is not the learner's attempt.
    assert start(other, setting.quiz.id, body["idempotency_key"]).status_code == 409

    stranger = app.test_client()
    factories.login(stranger, outsider)
    assert stranger.get(f"{API}/cohorts/{setting.cohort.id}/quizzes").status_code == 403
    assert start(stranger, setting.quiz.id).status_code == 403
    assert stranger.get(url).status_code == 403
    db.session.expire_all()
    attempt = db.session.get(Attempt, body["id"])
    assert attempt.status == IN_PROGRESS and all(a.response is None for a in attempt.answers)


def test_unknown_things_get_404(app, client):
    setting = make_quiz()
    hidden = quiz_service.create_quiz(
        setting.cohort, quiz_service.QuizSettings(title="Draft"), actor_id=None
    )
    db.session.commit()
    factories.login(client, setting.learner)
    assert client.get(f"{API}/cohorts/999999/quizzes").status_code == 404
    assert start(client, 999999).status_code == 404
    assert start(client, hidden.id).status_code == 404  # unpublished
    assert client.get(f"{API}/attempts/999999").status_code == 404
    assert client.put(f"{API}/attempts/999999/answers", json={"answers": {}}).status_code == 404
    missing = client.post(f"{API}/attempts/999999/submit", json={"idempotency_key": key()})
    assert missing.status_code == 404 and missing.json["error"]["status"] == 404
    listed = client.get(f"{API}/cohorts/{setting.cohort.id}/quizzes").json["quizzes"]
    assert [quiz["title"] for quiz in listed] == ["Civics practice"]


def test_submitted_attempts_closed_quizzes_and_used_attempts_get_409(app, client):
    setting = make_quiz(attempts_allowed=1)
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    url = f"{API}/attempts/{body['id']}"
    client.post(f"{url}/submit", json={"idempotency_key": body["idempotency_key"]})

    late = client.put(f"{url}/answers", json={"answers": right_answers(body)})
    assert late.status_code == 409 and late.json["error"]["status"] == 409
    used_up = start(client, setting.quiz.id)
    assert used_up.status_code == 409 and "attempts" in used_up.json["error"]["message"]
    wrong_key = client.post(f"{url}/submit", json={"idempotency_key": key()})
    assert wrong_key.status_code == 409

    setting.quiz = db.session.get(Quiz, setting.quiz.id)
    setting.quiz.attempts_allowed = 0
    setting.quiz.closes_at = utcnow() - timedelta(hours=1)
    setting.quiz.opens_at = utcnow() - timedelta(days=1)
    db.session.commit()
    closed = start(client, setting.quiz.id)
    assert closed.status_code == 409 and closed.json["error"]["status"] == 409
    listed = client.get(f"{API}/cohorts/{setting.cohort.id}/quizzes").json["quizzes"][0]
    assert listed["state"] == "closed" and listed["attempts_left"] is None


def test_answers_after_the_time_limit_get_409_and_the_attempt_is_submitted(app, client):
    setting = make_quiz(time_limit_minutes=10)
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    assert body["deadline"] is not None and body["time_limit_minutes"] == 10
    url = f"{API}/attempts/{body['id']}"
    answers = right_answers(body)
    first = dict(list(answers.items())[:1])
    assert client.put(f"{url}/answers", json={"answers": first}).status_code == 200

    attempt = db.session.get(Attempt, body["id"])
    attempt.started_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    late = client.put(f"{url}/answers", json={"answers": answers})
    assert late.status_code == 409
    read = client.get(url).json
    assert read["status"] == GRADED and read["answered"] == 1  # only what was in time
    assert read["result"]["score"] == 1.0


def test_invalid_bodies_name_the_fields_and_save_nothing(app, client):
    setting = make_quiz()
    factories.login(client, setting.learner)
    assert start(client, setting.quiz.id, "short").json["error"]["fields"] == {
        "idempotency_key": ["Give a key of 8 to 64 letters, digits or dashes, such as a UUID."]
    }
    no_key = client.post(f"{API}/quizzes/{setting.quiz.id}/attempts", json={})
    assert no_key.status_code == 400 and "idempotency_key" in no_key.json["error"]["fields"]
    assert client.post(f"{API}/quizzes/{setting.quiz.id}/attempts", data="x").status_code == 400
    body = start(client, setting.quiz.id).json
    q = by_type(body)
    url = f"{API}/attempts/{body['id']}/answers"

    single = str(q["multichoice-choice"]["position"])
    multi = str(q["multichoice-choices"]["position"])
    match = str(q["match"]["position"])
    short = str(q["shortanswer"]["position"])
    wrong = client.put(
        url,
        json={
            "answers": {
                single: "0",  # an index, not an id
                multi: choice(q["multichoice-choices"], "Alps"),  # not a list
                match: {"0": choice(q["match"], "Talas")},
                short: ["Manas"],
                "1": "description",
                "99": "nowhere",
            }
        },
    )
    assert wrong.status_code == 400
    assert set(wrong.json["error"]["fields"]) == {
        f"answers.{p}" for p in (single, multi, match, short, "1", "99")
    }
    assert client.put(url, json={"answers": {}}).status_code == 400
    assert client.put(url, json={"answers": []}).status_code == 400
    assert client.put(url, json={}).json["error"]["fields"]["answers"]
    too_long = client.put(url, json={"answers": {short: "x" * 20_001}})
    assert too_long.status_code == 400
    db.session.expire_all()
    attempt = db.session.get(Attempt, body["id"])
    assert all(a.response is None for a in attempt.answers)


def test_a_write_needs_the_csrf_header(make_app):
    app = make_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        setting = make_quiz()
        quiz_id, cohort_id, username = setting.quiz.id, setting.cohort.id, setting.learner.username
    client = app.test_client()
    login_page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    logged_in = client.post(
        "/account/login",
        data={"username": username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert logged_in.status_code == 302

    body = {"idempotency_key": key()}
    url = f"{API}/quizzes/{quiz_id}/attempts"
    refused = client.post(url, json=body)
    assert refused.status_code == 400 and refused.json["error"]["status"] == 400
    assert client.post(url, json=body, headers={"X-CSRFToken": "forged"}).status_code == 400
    api_token = client.get(f"{API}/cohorts/{cohort_id}/quizzes").headers["X-CSRFToken"]
    headers = {"X-CSRFToken": api_token}
    started = client.post(url, json=body, headers=headers)
    assert started.status_code == 201
    attempt_url = f"{API}/attempts/{started.json['id']}"
    answers = {"answers": {"5": "Manas"}}
    assert client.put(f"{attempt_url}/answers", json=answers).status_code == 400
    assert client.put(f"{attempt_url}/answers", json=answers, headers=headers).status_code == 200
    submit = {"idempotency_key": body["idempotency_key"]}
    assert client.post(f"{attempt_url}/submit", json=submit).status_code == 400
    done = client.post(f"{attempt_url}/submit", json=submit, headers=headers)
    assert done.status_code == 200 and done.json["score"] == 1.0


def test_the_api_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    for name in ("Quiz", "AttemptStart", "QuestionForLearner", "Answers", "AttemptResult"):
        assert name in schemas, name
    for path, method in (
        ("/quizzes/{quiz_id}/attempts", "post"),
        ("/attempts/{attempt_id}/answers", "put"),
        ("/attempts/{attempt_id}/submit", "post"),
    ):
        operation = document["paths"][API + path][method]
        assert "X-CSRFToken" in operation["description"]
        assert any(
            p["name"] == "X-CSRFToken" and p["in"] == "header" for p in operation["parameters"]
        )
        assert {"400", "401", "403", "404", "409"} <= set(operation["responses"])
    assert "quizzes" in {tag["name"] for tag in document["tags"]}


def test_positions_not_sent_keep_the_response_saved_when_the_service_reads_it(app, client):
    """The form is read after the service has locked the attempt and reloaded its answers;
    a response saved meanwhile by another request must be the one kept, not the one this
    request saw before the lock."""
    setting = make_quiz()
    factories.login(client, setting.learner)
    body = start(client, setting.quiz.id).json
    attempt = db.session.get(Attempt, body["id"])
    short = next(a for a in attempt.answers if a.question_version.qtype == "shortanswer")
    prefix = f"q{short.position}"
    form = ResponseForm(MultiDict(), set(), {prefix: short})
    assert form.get(prefix) is None
    short.response = "Manas"  # as the service's lock reloads it from another request's save
    assert form.get(prefix) == "Manas" and form.getlist(prefix) == ["Manas"]
