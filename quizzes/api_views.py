"""The quizzes JSON API for taking a quiz from the mobile app, under ``/api/v1/quizzes``.

Described in quizzes/openapi.py. Every rule about attempts (who may start, idempotency,
deadlines, locking, grading, what a learner may see afterwards) lives in
``quizzes.attempts``; this module only translates between JSON and those services.

Two translations need care:

- Choices leave the server with opaque ids (an HMAC of the attempt, the position and the
  choice's internal value), never with their index in the question: GIFT authors usually
  write the right answer first, so an index would give it away, and ids differ between
  attempts so learners cannot share "the answer is b3f…".
- The question types read responses from form fields (the pages post forms). A JSON save
  is turned into the same fields, so a response is validated and normalised by the one
  ``response_from_form`` of its type. Positions the client did not send keep what is saved;
  their fields are read lazily, after the service has locked the attempt, so a save made
  meanwhile by another request (a second tab, a retried request) is not overwritten.

The API uses the pages' log-in cookie, so every POST and PUT must carry the CSRF token in
the ``X-CSRFToken`` header (Flask-WTF checks them); every successful GET hands the token
out in that same response header.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from lms.api import CSRF_HEADER, unauthorized
from lms.cohorts.services import get_cohort
from lms.errors import TITLES, Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.timeutil import utcnow
from quizzes import attempts as service
from quizzes import quiz_service
from quizzes.attempts import QuestionView
from quizzes.models import IN_PROGRESS, Answer, Attempt, Quiz

PREFIX = "/api/v1/quizzes"
api_bp = Blueprint("quizzes_api", __name__, url_prefix=PREFIX)


#: How a response is given, per question type (plugin types: "other").
CHOICE, CHOICES, MATCH, TEXT, NONE, OTHER = "choice", "choices", "match", "text", "none", "other"
TEXT_TYPES = ("shortanswer", "numerical", "essay")
#: Longest text response accepted; an essay on a phone is far shorter.
MAX_TEXT = 20_000


@api_bp.before_app_request
def _log_in_first() -> ResponseReturnValue | None:
    """A visitor gets the API's 401 for any URL here, even with a method the URL does not
    take: most routes only take POST or PUT, and "log in" is the answer that helps (a 405
    would only tell a visitor which URLs exist). Blueprint hooks do not run for a 405,
    hence an app hook limited to this prefix."""
    if request.path.startswith(PREFIX + "/") and not current_user.is_authenticated:
        return unauthorized()
    return None


@api_bp.after_request
def _hand_out_csrf_token(response: Any) -> Any:
    """Apps read the token here; the header (not a form field) is what they send back."""
    if request.method == "GET" and response.status_code == 200 and current_user.is_authenticated:
        response.headers[CSRF_HEADER] = generate_csrf()
    return response


@api_bp.errorhandler(Invalid)
def _invalid(error: Invalid) -> ResponseReturnValue:
    """The host's error shape, plus which fields are wrong (so the app can show them)."""
    body = {
        "error": {
            "status": 400,
            "title": str(TITLES[400]),
            "message": str(error.message),
            "fields": {
                name: [str(m) for m in messages] for name, messages in error.field_errors.items()
            },
        }
    }
    return jsonify(body), 400


# --- routes ------------------------------------------------------------------------------


@api_bp.get("/cohorts/<int:cohort_id>/quizzes")
@login_required
def cohort_quizzes(cohort_id: int) -> ResponseReturnValue:
    """The published quizzes of a cohort the caller belongs to, with their attempts."""
    cohort = get_cohort(cohort_id)
    if service.member_role(cohort.id, current_user.id) is None:
        raise NotAllowed(_("You are not a member of this cohort."))
    now = utcnow()
    found = quiz_service.quizzes_of(cohort.id, published_only=True)
    # As the quiz page does: an attempt left open past its deadline is over, so it is
    # submitted with what was saved before the list calls it in progress.
    if sum(service.finish_overdue(quiz, user_id=current_user.id, now=now) for quiz in found):
        db.session.commit()
    return jsonify({"cohort": cohort.id, "quizzes": [quiz_json(quiz, now) for quiz in found]})


@api_bp.post("/quizzes/<int:quiz_id>/attempts")
@login_required
def start(quiz_id: int) -> ResponseReturnValue:
    """Start an attempt, resume the unfinished one, or return the attempt already made with
    this key (a retried request): 201 when this request made it, else 200."""
    quiz = quiz_service.get_quiz(quiz_id)
    if not quiz.published:
        raise NotFound()  # as on the pages: learners do not learn of unpublished quizzes
    key = _key(_payload())
    now = utcnow()
    try:
        attempt = service.start_attempt(quiz, current_user, key, now=now)
    except Invalid as error:
        db.session.rollback()
        raise _as_conflict(quiz, error) from None
    db.session.commit()
    created = attempt.idempotency_key == key and attempt.started_at == now
    return jsonify(attempt_json(attempt, quiz)), 201 if created else 200


@api_bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int) -> ResponseReturnValue:
    """The attempt, its questions and saved responses, and the result once submitted.

    An attempt left open past its deadline is submitted here with what was saved, as the
    service does for every late attempt, so the app sees it finished rather than stuck.
    """
    found, quiz = _own_attempt(attempt_id)
    if found.status == IN_PROGRESS and service.is_overdue(quiz, found):
        found = service.submit_attempt(found, current_user)
        db.session.commit()
    return jsonify(attempt_json(found, quiz))


@api_bp.put("/attempts/<int:attempt_id>/answers")
@login_required
def save_answers(attempt_id: int) -> ResponseReturnValue:
    """Save the responses sent (by position); the others stay as saved. Only while the
    attempt is in progress and within its time."""
    found, quiz = _own_attempt(attempt_id)
    _check_open(found, quiz)
    payload = _payload()
    fields, sent = _parse_answers(found, payload.get("answers"))
    answers = {service.field_prefix(a): a for a in found.answers}
    form = ResponseForm(fields, sent, answers)
    index = {service.field_prefix(a): i for i, a in enumerate(found.answers)}
    pages = sorted({index[prefix] // service.PAGE_SIZE + 1 for prefix in sent})
    for page in pages:
        if not service.save_responses(found, current_user, form, page):
            db.session.rollback()
            _check_open(service.get_attempt(attempt_id), quiz)
            raise Conflict(_("This attempt no longer takes answers."))
    db.session.commit()
    found = service.get_attempt(attempt_id)
    answered, answerable = service.progress_counts(found)
    views = _views(found)
    return jsonify(
        {
            "attempt": found.id,
            "status": found.status,
            "deadline": _iso(service.deadline(quiz, found)),
            "answered": answered,
            "answerable": answerable,
            "answers": {
                str(view.answer.position): _response_json(found, view)
                for view in views
                if view.answerable
            },
        }
    )


@api_bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int) -> ResponseReturnValue:
    """Submit and grade once; a repeat (a retried request) returns the same result."""
    found, quiz = _own_attempt(attempt_id)
    key = _key(_payload())
    found = service.submit_attempt(found, current_user, key=key)
    db.session.commit()
    return jsonify(result_json(found, quiz))


# --- checks and input --------------------------------------------------------------------


def _payload() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Invalid(_("Send a JSON object."))
    return payload


def _key(payload: Mapping[str, Any]) -> str:
    """The idempotency key, checked the way the service checks a form's key."""
    key = payload.get("idempotency_key")
    try:
        return service.clean_key(key if isinstance(key, str) else None)
    except Invalid:
        message = _("Give a key of 8 to 64 letters, digits or dashes, such as a UUID.")
        raise Invalid(field_errors={"idempotency_key": [message]}) from None


def _own_attempt(attempt_id: int) -> tuple[Attempt, Quiz]:
    """The attempt and its quiz; only its learner may use it through this API."""
    found = service.get_attempt(attempt_id)
    if found.user_id != current_user.id:
        raise NotAllowed(_("This is not your attempt."))
    return found, quiz_service.get_quiz(found.quiz_id)


def _check_open(found: Attempt, quiz: Quiz) -> None:
    """409 unless the attempt still takes answers; one found past its deadline is
    submitted with what was saved before saying so."""
    if found.status != IN_PROGRESS:
        raise Conflict(_("This attempt has already been submitted."))
    if service.is_overdue(quiz, found):
        service.submit_attempt(found, current_user)
        db.session.commit()
        raise Conflict(_("The time for this attempt is up; it was submitted as saved."))


def _as_conflict(quiz: Quiz, error: Invalid) -> Invalid | Conflict:
    """The service refuses a start with ``Invalid``; a closed quiz, one not open yet or
    attempts used up are states, not bad input, so the API answers 409 for them."""
    used = len(service.attempts_of(quiz.id, current_user.id))
    if quiz_service.availability(quiz) != "open" or service.attempts_left(quiz, used) == 0:
        return Conflict(error.message)
    return error


def _parse_answers(found: Attempt, raw: Any) -> tuple[MultiDict[str, str], set[str]]:
    """The sent responses as the form fields the question types read, and the field
    prefixes of the positions sent; every problem is reported at once, by
    ``answers.<position>``."""
    if not isinstance(raw, dict) or not raw:
        raise Invalid(field_errors={"answers": [_("Give the answers as an object of positions.")]})
    views = {str(view.answer.position): view for view in _views(found)}
    fields: MultiDict[str, str] = MultiDict()
    sent: set[str] = set()
    errors: dict[str, list[Any]] = {}
    for position, value in raw.items():
        view = views.get(position)
        name = f"answers.{position}"
        if view is None:
            errors[name] = [_("There is no question at this position.")]
            continue
        if not view.answerable:
            errors[name] = [_("This is not a question to answer.")]
            continue
        sent.add(view.name)  # sent with no fields: the response is cleared
        if value is None:
            continue
        try:
            for field, text in _fields_from_json(found, view, value):
                fields.add(field, text)
        except ValueError as problem:
            errors[name] = [str(problem)]
    if errors:
        raise Invalid(field_errors=errors)
    return fields, sent


def _fields_from_json(found: Attempt, view: QuestionView, value: Any) -> list[tuple[str, str]]:
    """One response from the app as form fields; ValueError says what is wrong."""
    kind = answer_kind(view)
    position = view.answer.position
    if kind in (CHOICE, CHOICES):
        by_id = {_opaque(found, position, o.value): o.value for o in view.options}
        ids = value if kind == CHOICES else [value]
        if kind == CHOICES and not isinstance(value, list):
            raise ValueError(_("Give a list of choice ids."))
        if not all(isinstance(i, str) and i in by_id for i in ids):
            raise ValueError(_("Give the id of a choice of this question."))
        return [(view.name, by_id[i]) for i in dict.fromkeys(ids)]
    if kind == MATCH:
        rows = {_opaque(found, position, field): field for field, _left, _chosen in view.rows}
        choices = {_opaque(found, position, o.value): o.value for o in view.options}
        if not isinstance(value, dict):
            raise ValueError(_("Give an object of row ids to choice ids."))
        pairs = []
        for row, choice in value.items():
            if row not in rows or (choice is not None and choice not in choices):
                raise ValueError(_("Give the ids of a row and a choice of this question."))
            if choice is not None:
                pairs.append((rows[row], choices[choice]))
        return pairs
    if kind == TEXT:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("Give the answer as text."))
        text = str(value)
        if len(text) > MAX_TEXT:
            raise ValueError(_("Use at most %(n)s characters.", n=MAX_TEXT))
        return [(view.name, text)]
    return _fields_from_stored(view.name, value)


def _fields_from_stored(prefix: str, response: Any) -> list[tuple[str, str]]:
    """A stored response (quizzes.question_types.builtin's shapes) as the form fields that
    give it back: indexes of a multiple choice, true/false as 1/0, a match's pairs as
    ``prefix-<left index>``; text as itself."""
    if response is None:
        return []
    if isinstance(response, bool):
        return [(prefix, "1" if response else "0")]
    if isinstance(response, dict):
        return [(f"{prefix}-{key}", str(value)) for key, value in response.items()]
    if isinstance(response, list):
        return [(prefix, str(item)) for item in response]
    return [(prefix, str(response))]


class ResponseForm(Mapping[str, Any]):
    """Form fields for ``attempts.save_responses``: those sent for the positions the app
    sent; for any other position, the fields of its saved response.

    Saved responses are read when a question type asks, which is after the service has
    locked the attempt and reloaded its answers, so they are the latest committed ones.
    """

    def __init__(
        self, sent: MultiDict[str, str], prefixes: set[str], saved: Mapping[str, Answer]
    ) -> None:
        self._sent = sent
        self._prefixes = prefixes
        self._saved = saved

    def _fields(self, key: str) -> MultiDict[str, str]:
        prefix = key.split("-", 1)[0]
        if prefix in self._prefixes:
            return self._sent
        answer = self._saved.get(prefix)
        if answer is None:
            return MultiDict()
        return MultiDict(_fields_from_stored(prefix, answer.response))

    def __getitem__(self, key: str) -> Any:
        fields = self._fields(key)
        if key not in fields:
            raise KeyError(key)
        return fields[key]

    def getlist(self, key: str) -> list[str]:
        return self._fields(key).getlist(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sent)

    def __len__(self) -> int:
        return len(self._sent)


# --- shapes ------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    """Columns hold naive UTC; clients get it with its offset."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else moment.isoformat()


def _opaque(found: Attempt, position: int, value: str) -> str:
    """A choice's id in this attempt: stable across requests, meaningless to a learner."""
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else secret
    message = f"quizzes-api:{found.id}:{position}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def _views(found: Attempt) -> list[QuestionView]:
    return service.question_views(list(found.answers))


def answer_kind(view: QuestionView) -> str:
    """How the app gives this question's response (see the module's OpenAPI notes)."""
    if not view.answerable:
        return NONE
    if view.qtype == "multichoice":
        return CHOICE if view.single else CHOICES
    if view.qtype == "truefalse":
        return CHOICE
    if view.qtype == "match":
        return MATCH
    if view.qtype in TEXT_TYPES:
        return TEXT
    return OTHER


def _response_json(found: Attempt, view: QuestionView) -> Any:
    """The saved response in the shape the app sends it."""
    kind = answer_kind(view)
    position = view.answer.position
    if kind in (CHOICE, CHOICES):
        chosen = [_opaque(found, position, o.value) for o in view.options if o.chosen]
        if kind == CHOICES:
            return chosen or None
        return chosen[0] if chosen else None
    if kind == MATCH:
        ids = {o.value: _opaque(found, position, o.value) for o in view.options}
        pairs = {
            _opaque(found, position, field): ids[right]
            for field, _left, right in view.rows
            if right in ids
        }
        return pairs or None
    if kind == TEXT:
        return view.typed or None
    return view.answer.response if kind == OTHER else None


def question_json(found: Attempt, view: QuestionView) -> dict[str, Any]:
    """A question as the learner sees it: no right answers, no fractions, no feedback."""
    position = view.answer.position
    kind = answer_kind(view)
    body: dict[str, Any] = {
        "position": position,
        "number": view.number,
        "type": view.qtype,
        "answer_kind": kind,
        "text": str(view.text),
        "max_mark": view.answer.max_mark if view.answerable else None,
        "choices": None,
        "rows": None,
        "response": _response_json(found, view),
    }
    if kind in (CHOICE, CHOICES, MATCH):
        body["choices"] = [
            {"id": _opaque(found, position, o.value), "text": str(o.label)} for o in view.options
        ]
    if kind == MATCH:
        body["rows"] = [
            {"id": _opaque(found, position, field), "text": str(left)}
            for field, left, _right in view.rows
        ]
    return body


def attempt_json(found: Attempt, quiz: Quiz) -> dict[str, Any]:
    """The attempt with its questions and saved responses (and result, once submitted)."""
    answered, answerable = service.progress_counts(found)
    return {
        "id": found.id,
        "quiz": quiz.id,
        "number": found.number,
        "status": found.status,
        "idempotency_key": found.idempotency_key,
        "started_at": _iso(found.started_at),
        "deadline": _iso(service.deadline(quiz, found)),
        "time_limit_minutes": quiz.time_limit_minutes,
        "submitted_at": _iso(found.submitted_at),
        "answered": answered,
        "answerable": answerable,
        "questions": [question_json(found, view) for view in _views(found)],
        "result": None if found.status == IN_PROGRESS else result_json(found, quiz),
    }


def result_json(found: Attempt, quiz: Quiz) -> dict[str, Any]:
    """The result, only as far as the quiz's ``show_results`` and ``show_feedback`` allow
    (the service decides; needs_grading shows nothing until a teacher has graded)."""
    seen = service.visibility(quiz, found, staff=False)
    body: dict[str, Any] = {
        "attempt": found.id,
        "status": found.status,
        "submitted_at": _iso(found.submitted_at),
        "score_visible": seen.score,
        "feedback_visible": seen.feedback,
        "score": found.score if seen.score else None,
        "max_score": found.max_score if seen.score else None,
        "percent": found.percent if seen.score else None,
        "passed": found.passed if seen.score else None,
        "pass_mark": quiz.pass_mark,
        "questions": None,
    }
    if seen.feedback:
        body["questions"] = [
            {
                "position": view.answer.position,
                "number": view.number,
                "mark": view.answer.mark,
                "max_mark": view.answer.max_mark,
                "response": _response_json(found, view),
                "right_answer": view.right_answer,
                "feedback": view.answer.feedback or "",
                "general_feedback": str(view.general_feedback),
            }
            for view in service.question_views(list(found.answers), review=True)
            if view.answerable
        ]
    return body


def quiz_json(quiz: Quiz, now: datetime) -> dict[str, Any]:
    """A quiz in the cohort's list, with the caller's own attempts at it."""
    mine = service.attempts_of(quiz.id, current_user.id)
    unfinished = next((a for a in reversed(mine) if a.status == IN_PROGRESS), None)
    return {
        "id": quiz.id,
        "cohort": quiz.cohort_id,
        "title": quiz.title,
        "kind": quiz.kind,
        "language": quiz.language,
        "state": quiz_service.availability(quiz, now),
        "attempts_allowed": quiz.attempts_allowed,
        "attempts_used": len(mine),
        "attempts_left": service.attempts_left(quiz, len(mine)),
        "in_progress_attempt": unfinished.id if unfinished is not None else None,
        "opens_at": _iso(quiz.opens_at),
        "closes_at": _iso(quiz.closes_at),
        "time_limit_minutes": quiz.time_limit_minutes,
        "pass_mark": quiz.pass_mark,
        "question_count": quiz_service.question_count(quiz),
    }
