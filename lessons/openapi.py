"""The lessons plugin's part of the OpenAPI document: its paths and schemas (see api_views.py).

Schema names start with ``Lessons`` so they never collide with another plugin's; errors use
the host's shared responses (``#/components/responses/…``).
"""

from __future__ import annotations

from typing import Any

from lessons.models import CANCELLED, HELD, PLANNED, TOT_STAGES
from lessons.sessions import STATUSES
from lms.api import CSRF_HEADER, error_responses, ok_with_csrf, schema_ref

PREFIX = "/api/v1/lessons"
TAG = "lessons"

MARK = {"type": "string", "enum": list(STATUSES)}
NULLABLE_MARK = {"type": ["string", "null"], "enum": [*STATUSES, None]}
DATE = {"type": "string", "format": "date"}


def _id(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": description,
    }


COHORT_ID = _id("cohort_id", "The cohort's id.")
SESSION_ID = _id("session_id", "The session's id.")

CSRF_NOTE = (
    "The API uses the pages' log-in session cookie, so like every form this POST is "
    "protected against cross-site requests: send the CSRF token in the `X-CSRFToken` "
    "header. Any successful GET of this API answers with a fresh token in its own "
    "`X-CSRFToken` response header. Without a valid token the answer is 400."
)

PATHS: dict[str, Any] = {
    f"{PREFIX}/cohorts/{{cohort_id}}/sessions": {
        "get": {
            "tags": [TAG],
            "operationId": "listSessions",
            "summary": "A cohort's schedule",
            "description": "Planned, held and cancelled sessions in date order, with attendance "
            "counts of held ones. Needs `cohorts.view` on the cohort.",
            "parameters": [COHORT_ID],
            "responses": {
                "200": ok_with_csrf("The sessions.", "LessonsSessionList"),
                **error_responses("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/sessions/{{session_id}}": {
        "get": {
            "tags": [TAG],
            "operationId": "getSession",
            "summary": "One session, with attendance",
            "description": "Leaders and monitors (`cohorts.manage` or `progress.view`) get "
            "every learner's mark and the notes; anyone else who may view the cohort gets "
            "`attendance: null` and only their own mark in `my_attendance`.",
            "parameters": [SESSION_ID],
            "responses": {
                "200": ok_with_csrf("The session.", "LessonsSessionDetail"),
                **error_responses("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/sessions/{{session_id}}/attendance": {
        "get": {
            "tags": [TAG],
            "operationId": "getAttendance",
            "summary": "A session's attendance",
            "description": "The marks only, with the same visibility as `getSession`.",
            "parameters": [SESSION_ID],
            "responses": {
                "200": ok_with_csrf("The marks.", "LessonsAttendance"),
                **error_responses("401", "403", "404"),
            },
        },
        "post": {
            "tags": [TAG],
            "operationId": "recordAttendance",
            "summary": "Record a lesson, or correct it",
            "description": (
                "Marks the session held with every learner's attendance, exactly as the "
                "attendance page does: every learner of the cohort must be marked, and nobody "
                "else; on any error nothing is saved. A held lesson can be corrected within "
                "the correction window (administrators: always); later the answer is 403. "
                "Every record and correction is audited. Needs `cohorts.manage` on the "
                "cohort. " + CSRF_NOTE
            ),
            "parameters": [
                SESSION_ID,
                {
                    "name": CSRF_HEADER,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The CSRF token from the `X-CSRFToken` header of a GET.",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema_ref("LessonsRecordRequest")}},
            },
            "responses": {
                "200": ok_with_csrf(
                    "The recorded session, with every mark.", "LessonsSessionDetail"
                ),
                "400": {
                    "description": "Invalid input (a field error per wrong field) or a "
                    "missing or wrong CSRF token.",
                    "content": {"application/json": {"schema": schema_ref("LessonsInvalid")}},
                },
                **error_responses("401", "403", "404"),
                "409": {
                    "description": "The session was cancelled.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        },
    },
    f"{PREFIX}/cohorts/{{cohort_id}}/progress": {
        "get": {
            "tags": [TAG],
            "operationId": "getCohortProgress",
            "summary": "Attendance and completion per learner",
            "description": "Per learner: the held lessons they were marked at, how many they "
            "attended, the percentage, and the completion result of the cohort's rule "
            "(`null` when the rule is not available). Needs `progress.view` on the cohort.",
            "parameters": [COHORT_ID],
            "responses": {
                "200": ok_with_csrf("The learners' progress.", "LessonsCohortProgress"),
                **error_responses("401", "403", "404"),
            },
        }
    },
}

_COUNTS = {
    "type": "object",
    "required": ["present", "absent", "excused", "marked"],
    "properties": {
        "present": {"type": "integer", "minimum": 0},
        "absent": {"type": "integer", "minimum": 0},
        "excused": {"type": "integer", "minimum": 0},
        "marked": {"type": "integer", "minimum": 0, "description": "Learners marked at all."},
    },
}

_MARKS = {
    "attendance": {
        "type": ["array", "null"],
        "description": "Every mark, by name; `null` for someone who may see only their own.",
        "items": schema_ref("LessonsMark"),
    },
    "my_attendance": {**NULLABLE_MARK, "description": "The caller's own mark, if any."},
    "notes": {"type": ["string", "null"], "description": "The teacher's notes (leaders only)."},
    "can_record": {
        "type": "boolean",
        "description": "Whether the caller may record or still correct this session.",
    },
}

SCHEMAS: dict[str, Any] = {
    "LessonsSession": {
        "type": "object",
        "required": [
            "id",
            "cohort",
            "held_on",
            "duration_minutes",
            "status",
            "title",
            "module",
            "stage",
            "day",
            "recorded_at",
            "summary",
        ],
        "properties": {
            "id": {"type": "integer"},
            "cohort": {"type": "integer"},
            "held_on": DATE,
            "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 600},
            "status": {"type": "string", "enum": [PLANNED, HELD, CANCELLED]},
            "title": {
                "type": "string",
                "description": "The module's title, or the session's own for one without a module.",
            },
            "module": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["version_id", "slug", "position", "language", "title"],
                        "properties": {
                            "version_id": {"type": "integer"},
                            "slug": {"type": "string"},
                            "position": {"type": "integer"},
                            "language": {"type": "string"},
                            "title": {"type": "string"},
                        },
                    },
                ]
            },
            "stage": {"type": ["string", "null"], "enum": [*TOT_STAGES, None]},
            "day": {"type": ["integer", "null"]},
            "recorded_at": {"type": ["string", "null"], "format": "date-time"},
            "summary": _COUNTS,
        },
    },
    "LessonsSessionList": {
        "type": "object",
        "required": ["cohort", "sessions"],
        "properties": {
            "cohort": {"type": "integer"},
            "sessions": {"type": "array", "items": schema_ref("LessonsSession")},
        },
    },
    "LessonsMark": {
        "type": "object",
        "required": ["user_id", "name", "status"],
        "properties": {
            "user_id": {"type": "integer"},
            "name": {"type": "string"},
            "status": MARK,
        },
    },
    "LessonsSessionDetail": {
        "allOf": [
            schema_ref("LessonsSession"),
            {
                "type": "object",
                "required": list(_MARKS),
                "properties": _MARKS,
            },
        ]
    },
    "LessonsAttendance": {
        "type": "object",
        "required": ["session", *_MARKS],
        "properties": {"session": {"type": "integer"}, **_MARKS},
    },
    "LessonsRecordRequest": {
        "type": "object",
        "required": ["attendance"],
        "properties": {
            "attendance": {
                "type": "object",
                "description": "Every learner of the cohort, by user id, and nobody else.",
                "propertyNames": {"pattern": "^[0-9]+$"},
                "additionalProperties": MARK,
                "examples": [{"12": "present", "13": "absent", "14": "excused"}],
            },
            "held_on": {**DATE, "description": "Default: the planned date."},
            "duration_minutes": {
                "type": "integer",
                "minimum": 1,
                "maximum": 600,
                "description": "Default: as planned.",
            },
            "notes": {"type": "string"},
        },
    },
    "LessonsInvalid": {
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
                        "description": "Messages per wrong field (`attendance`, `held_on`, "
                        "`duration_minutes`, `notes`); absent for a CSRF failure.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "LessonsLearnerProgress": {
        "type": "object",
        "required": [
            "user_id",
            "name",
            "sessions_held",
            "attended",
            "absent",
            "excused",
            "attendance_percent",
            "completion",
        ],
        "properties": {
            "user_id": {"type": "integer"},
            "name": {"type": "string"},
            "sessions_held": {
                "type": "integer",
                "description": "Held lessons the learner was marked at (so late joiners are "
                "not counted absent from lessons before they joined).",
            },
            "attended": {"type": "integer"},
            "absent": {"type": "integer"},
            "excused": {"type": "integer"},
            "attendance_percent": {
                "type": ["number", "null"],
                "description": "`attended` of `sessions_held`, one decimal; null before any.",
            },
            "completion": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["completed", "missing"],
                        "properties": {
                            "completed": {"type": "boolean"},
                            "missing": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ]
            },
        },
    },
    "LessonsCohortProgress": {
        "type": "object",
        "required": ["cohort", "completion_rule", "sessions_held", "learners"],
        "properties": {
            "cohort": {"type": "integer"},
            "completion_rule": {"type": "string"},
            "sessions_held": {"type": "integer"},
            "learners": {"type": "array", "items": schema_ref("LessonsLearnerProgress")},
        },
    },
}

TAGS = [
    {
        "name": TAG,
        "description": "Schedules, recorded lessons and attendance, and learners' progress. "
        + CSRF_NOTE.replace("this POST is", "a POST is"),
    }
]


def fragment() -> dict[str, Any]:
    return {"paths": PATHS, "schemas": SCHEMAS, "tags": TAGS}
