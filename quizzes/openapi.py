"""The quizzes plugin's part of the OpenAPI document: taking a quiz (see api_views.py).

The five main schemas carry the names the mobile app's generated client uses (``Quiz``,
``AttemptStart``, ``QuestionForLearner``, ``Answers``, ``AttemptResult``); the helpers
start with ``Quizzes`` so they never collide with another plugin's. Errors use the host's
shared responses (``#/components/responses/…``).
"""

from __future__ import annotations

from typing import Any

from lms.api import CSRF_HEADER, error_responses, ok_with_csrf, schema_ref
from quizzes.models import GRADED, IN_PROGRESS, KINDS, NEEDS_GRADING, SUBMITTED

PREFIX = "/api/v1/quizzes"
TAG = "quizzes"

STATUSES = [IN_PROGRESS, SUBMITTED, NEEDS_GRADING, GRADED]
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema_ref(schema)}},
    }


def _conflict(description: str) -> dict[str, Any]:
    return {"description": description, "content": ERROR}


def _invalid(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema_ref("QuizzesInvalid")}},
    }


def _id(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": description,
    }


COHORT_ID = _id("cohort_id", "The cohort's id.")
QUIZ_ID = _id("quiz_id", "The quiz's id.")
ATTEMPT_ID = _id("attempt_id", "The attempt's id.")
CSRF_PARAMETER = {
    "name": CSRF_HEADER,
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The CSRF token from the `X-CSRFToken` header of a GET.",
}

CSRF_NOTE = (
    "The API uses the pages' log-in session cookie, so like every form this request is "
    "protected against cross-site requests: send the CSRF token in the `X-CSRFToken` "
    "header. Any successful GET of this API answers with a fresh token in its own "
    "`X-CSRFToken` response header. Without a valid token the answer is 400."
)

RESPONSES_NOTE = (
    "A response's shape depends on the question's `answer_kind`: `choice`: one choice id "
    "(single-answer multiple choice, true/false); `choices`: a list of choice ids (read back "
    "in the order shown); `match`: "
    "an object of row ids to choice ids; `text`: the text typed (short answer, numerical, "
    "essay); `other` (a question type from a plugin): a string, a list of strings or an "
    "object of strings, as that type reads them; `null` clears a response."
)

PATHS: dict[str, Any] = {
    f"{PREFIX}/cohorts/{{cohort_id}}/quizzes": {
        "get": {
            "tags": [TAG],
            "operationId": "listCohortQuizzes",
            "summary": "A cohort's published quizzes",
            "description": "The published quizzes of a cohort the caller is a member of, in "
            "the order they were made, with the caller's own attempts at each. Anyone else "
            "gets 403.",
            "parameters": [COHORT_ID],
            "responses": {
                "200": ok_with_csrf("The quizzes.", "QuizzesQuizList"),
                **error_responses("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/quizzes/{{quiz_id}}/attempts": {
        "post": {
            "tags": [TAG],
            "operationId": "startAttempt",
            "summary": "Start or resume an attempt",
            "description": (
                "Starts an attempt with a key the app makes (a UUID) and keeps until the "
                "answer arrives: sending the same key again (a retry after a dropped "
                "connection) returns the same attempt, never a second one. An unfinished "
                "attempt at the quiz is resumed whatever the key; its own key is in the "
                "answer. The questions come as the learner sees them: in the attempt's order, "
                "with choices in the order shown and opaque ids, and without right answers, "
                "grades or feedback. Needs membership of the quiz's cohort (403). " + CSRF_NOTE
            ),
            "parameters": [QUIZ_ID, CSRF_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("QuizzesIdempotencyKey")}},
            },
            "responses": {
                "200": _json(
                    "The attempt already made with this key, or the unfinished one resumed.",
                    "AttemptStart",
                ),
                "201": _json("A new attempt.", "AttemptStart"),
                "400": _invalid(
                    "No valid key (a field error), a quiz without questions, or a missing "
                    "or wrong CSRF token."
                ),
                **error_responses("401", "403", "404"),
                "409": _conflict(
                    "The quiz is closed or not open yet, every attempt allowed is used, or "
                    "the key was already used for another quiz or learner."
                ),
            },
        }
    },
    f"{PREFIX}/attempts/{{attempt_id}}": {
        "get": {
            "tags": [TAG],
            "operationId": "getAttempt",
            "summary": "An attempt, with its saved responses",
            "description": "The caller's own attempt (anyone else's is 403): its questions "
            "with the saved responses, its deadline, and once submitted its result as far "
            "as the quiz shows results. An attempt found past its deadline is submitted with "
            "what was saved.",
            "parameters": [ATTEMPT_ID],
            "responses": {
                "200": ok_with_csrf("The attempt.", "QuizzesAttempt"),
                **error_responses("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/attempts/{{attempt_id}}/answers": {
        "put": {
            "tags": [TAG],
            "operationId": "saveAnswers",
            "summary": "Save responses as you go",
            "description": (
                "Saves the responses sent, by position; positions not sent keep what was "
                "saved. Only the attempt's learner may, only while it is in progress, and "
                "only until its deadline (plus a short grace for a slow network). "
                + RESPONSES_NOTE
                + " "
                + CSRF_NOTE
            ),
            "parameters": [ATTEMPT_ID, CSRF_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("Answers")}},
            },
            "responses": {
                "200": _json("Every saved response, after this save.", "QuizzesSavedAnswers"),
                "400": _invalid(
                    "A response that does not fit its question (a field error per "
                    "`answers.<position>`), or a missing or wrong CSRF token."
                ),
                **error_responses("401", "403", "404"),
                "409": _conflict(
                    "The attempt was already submitted, or its time is up (it is then "
                    "submitted with what was saved)."
                ),
            },
        }
    },
    f"{PREFIX}/attempts/{{attempt_id}}/submit": {
        "post": {
            "tags": [TAG],
            "operationId": "submitAttempt",
            "summary": "Submit an attempt",
            "description": (
                "Submits and grades the attempt exactly once; sending it again (a retry) "
                "returns the same result. The key is the attempt's `idempotency_key` (as the "
                "start answered), which guards against submitting another attempt by "
                "mistake. What the result shows follows the quiz: the score only once graded "
                "(an essay waits for a teacher: `needs_grading`) and if `show_results` "
                "allows; marks, right answers and feedback only if `show_feedback` does too. "
                + CSRF_NOTE
            ),
            "parameters": [ATTEMPT_ID, CSRF_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("QuizzesIdempotencyKey")}},
            },
            "responses": {
                "200": _json("The result.", "AttemptResult"),
                "400": _invalid("No valid key, or a missing or wrong CSRF token."),
                **error_responses("401", "403", "404"),
                "409": _conflict("The key is not this attempt's."),
            },
        }
    },
}

_CHOICE = {
    "type": "object",
    "required": ["id", "text"],
    "properties": {
        "id": {
            "type": "string",
            "description": "Opaque, and different in every attempt; send it back as given.",
        },
        "text": {"type": "string", "description": "Safe HTML."},
    },
}

RESPONSE = {
    "description": "A response, shaped by the question's `answer_kind`; `null` when none.",
    "oneOf": [
        {"type": "null"},
        {"type": "string"},
        {"type": "number"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    ],
}

_ATTEMPT_FIELDS: dict[str, Any] = {
    "id": {"type": "integer"},
    "quiz": {"type": "integer"},
    "number": {"type": "integer", "description": "1 for the learner's first attempt."},
    "status": {"type": "string", "enum": STATUSES},
    "idempotency_key": {
        "type": "string",
        "description": "The attempt's key: send it to submit the attempt.",
    },
    "started_at": DATE_TIME,
    "deadline": {
        **NULLABLE_DATE_TIME,
        "description": "When answers stop being accepted (the time limit or the quiz's "
        "closing, whichever is first); null for no limit.",
    },
    "time_limit_minutes": {"type": ["integer", "null"]},
    "submitted_at": NULLABLE_DATE_TIME,
    "answered": {"type": "integer", "description": "Questions with a saved response."},
    "answerable": {"type": "integer", "description": "Questions to answer."},
    "questions": {"type": "array", "items": schema_ref("QuestionForLearner")},
}

SCHEMAS: dict[str, Any] = {
    "Quiz": {
        "type": "object",
        "required": [
            "id",
            "cohort",
            "title",
            "kind",
            "language",
            "state",
            "attempts_allowed",
            "attempts_used",
            "attempts_left",
            "in_progress_attempt",
            "opens_at",
            "closes_at",
            "time_limit_minutes",
            "pass_mark",
            "question_count",
        ],
        "properties": {
            "id": {"type": "integer"},
            "cohort": {"type": "integer"},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "language": {"type": "string"},
            "state": {"type": "string", "enum": ["open", "not_open", "closed"]},
            "attempts_allowed": {"type": "integer", "description": "0: unlimited."},
            "attempts_used": {"type": "integer", "description": "The caller's attempts."},
            "attempts_left": {"type": ["integer", "null"], "description": "null: unlimited."},
            "in_progress_attempt": {
                "type": ["integer", "null"],
                "description": "The caller's unfinished attempt, to resume.",
            },
            "opens_at": NULLABLE_DATE_TIME,
            "closes_at": NULLABLE_DATE_TIME,
            "time_limit_minutes": {"type": ["integer", "null"]},
            "pass_mark": {"type": "number", "description": "Percent."},
            "question_count": {"type": "integer"},
        },
    },
    "QuizzesQuizList": {
        "type": "object",
        "required": ["cohort", "quizzes"],
        "properties": {
            "cohort": {"type": "integer"},
            "quizzes": {"type": "array", "items": schema_ref("Quiz")},
        },
    },
    "QuizzesIdempotencyKey": {
        "type": "object",
        "required": ["idempotency_key"],
        "properties": {
            "idempotency_key": {
                "type": "string",
                "pattern": "^[A-Za-z0-9-]{8,64}$",
                "examples": ["3f1c9a52-6f0e-4c1b-9f5e-2f7a2b1f8d10"],
            }
        },
    },
    "QuestionForLearner": {
        "type": "object",
        "description": "A question as the learner sees it: no right answers, no grades.",
        "required": [
            "position",
            "number",
            "type",
            "answer_kind",
            "text",
            "max_mark",
            "choices",
            "rows",
            "response",
        ],
        "properties": {
            "position": {
                "type": "integer",
                "description": "Its place in the attempt; responses are sent by position.",
            },
            "number": {
                "type": ["integer", "null"],
                "description": "The question's number as shown; null for a description.",
            },
            "type": {
                "type": "string",
                "examples": ["multichoice", "truefalse", "shortanswer", "match", "essay"],
            },
            "answer_kind": {
                "type": "string",
                "enum": ["choice", "choices", "match", "text", "none", "other"],
            },
            "text": {"type": "string", "description": "Safe HTML."},
            "max_mark": {"type": ["number", "null"]},
            "choices": {
                "type": ["array", "null"],
                "description": "In the order to show them (choice and match questions).",
                "items": _CHOICE,
            },
            "rows": {
                "type": ["array", "null"],
                "description": "A match question's left-hand items, each to pair with a choice.",
                "items": _CHOICE,
            },
            "response": RESPONSE,
        },
    },
    "AttemptStart": {
        "type": "object",
        "required": [*_ATTEMPT_FIELDS, "result"],
        "properties": {
            **_ATTEMPT_FIELDS,
            "result": {
                "oneOf": [{"type": "null"}, schema_ref("AttemptResult")],
                "description": "null while in progress.",
            },
        },
    },
    "QuizzesAttempt": {
        "description": "An attempt as read back: the same as a start's answer.",
        "allOf": [schema_ref("AttemptStart")],
    },
    "Answers": {
        "type": "object",
        "required": ["answers"],
        "properties": {
            "answers": {
                "type": "object",
                "description": "Responses by position. " + RESPONSES_NOTE,
                "propertyNames": {"pattern": "^[0-9]+$"},
                "additionalProperties": RESPONSE,
                "minProperties": 1,
                "examples": [{"1": "b3f0c2a19d4e5f60", "2": ["0c1d2e3f4a5b6c7d"], "3": "Mecca"}],
            }
        },
    },
    "QuizzesSavedAnswers": {
        "type": "object",
        "required": ["attempt", "status", "deadline", "answered", "answerable", "answers"],
        "properties": {
            "attempt": {"type": "integer"},
            "status": {"type": "string", "enum": STATUSES},
            "deadline": NULLABLE_DATE_TIME,
            "answered": {"type": "integer"},
            "answerable": {"type": "integer"},
            "answers": {
                "type": "object",
                "description": "Every question's saved response, by position.",
                "additionalProperties": RESPONSE,
            },
        },
    },
    "AttemptResult": {
        "type": "object",
        "required": [
            "attempt",
            "status",
            "submitted_at",
            "score_visible",
            "feedback_visible",
            "score",
            "max_score",
            "percent",
            "passed",
            "pass_mark",
            "questions",
        ],
        "properties": {
            "attempt": {"type": "integer"},
            "status": {"type": "string", "enum": STATUSES},
            "submitted_at": NULLABLE_DATE_TIME,
            "score_visible": {
                "type": "boolean",
                "description": "Whether the quiz shows the score now; false also while an "
                "essay waits for a teacher.",
            },
            "feedback_visible": {
                "type": "boolean",
                "description": "Whether marks, right answers and feedback are shown.",
            },
            "score": {"type": ["number", "null"]},
            "max_score": {"type": ["number", "null"]},
            "percent": {"type": ["number", "null"]},
            "passed": {"type": ["boolean", "null"]},
            "pass_mark": {"type": "number"},
            "questions": {
                "type": ["array", "null"],
                "description": "Per question, when feedback is shown; else null.",
                "items": {
                    "type": "object",
                    "required": [
                        "position",
                        "number",
                        "mark",
                        "max_mark",
                        "response",
                        "right_answer",
                        "feedback",
                        "general_feedback",
                    ],
                    "properties": {
                        "position": {"type": "integer"},
                        "number": {"type": ["integer", "null"]},
                        "mark": {"type": ["number", "null"]},
                        "max_mark": {"type": "number"},
                        "response": RESPONSE,
                        "right_answer": {"type": "string", "description": "Plain text."},
                        "feedback": {"type": "string", "description": "For the response given."},
                        "general_feedback": {"type": "string", "description": "Safe HTML."},
                    },
                },
            },
        },
    },
    "QuizzesInvalid": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "title", "message"],
                "properties": {
                    "status": {"type": "integer", "examples": [400]},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages per wrong field (`idempotency_key`, "
                        "`answers`, `answers.<position>`); absent for a CSRF failure.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
}

TAGS = [
    {
        "name": TAG,
        "description": "Taking a quiz from the mobile app: list a cohort's quizzes, start an "
        "attempt, save responses as you go, submit. "
        + CSRF_NOTE.replace("this request is", "every POST and PUT is"),
    }
]


def fragment() -> dict[str, Any]:
    return {"paths": PATHS, "schemas": SCHEMAS, "tags": TAGS}
