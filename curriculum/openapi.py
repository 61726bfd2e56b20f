"""The curriculum's part of the OpenAPI document: its paths and schemas (see api_views.py).

Schema names start with ``Curriculum`` so they never collide with another plugin's; errors
use the host's shared responses (``#/components/responses/…``).
"""

from __future__ import annotations

from typing import Any

from curriculum.content import ACTIVITY_KINDS, LANGUAGES
from curriculum.diff import STATUSES
from curriculum.models import APPROVE, APPROVE_WITH_RESERVATION, DRAFT, REQUEST_CHANGES, SUBMITTED

PREFIX = "/api/v1/curriculum"
TAG = "curriculum"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
    return {code: {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


SLUG = _path_param("slug", {"type": "string"}, "The manual's short name, e.g. `health-basics`.")
LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
VERSION_ID = _path_param("version_id", {"type": "integer"}, "The module version's id.")
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": {"type": "string"}}
DECISIONS = [APPROVE, APPROVE_WITH_RESERVATION, REQUEST_CHANGES]

PATHS: dict[str, Any] = {
    f"{PREFIX}/manuals": {
        "get": {
            "tags": [TAG],
            "operationId": "listManuals",
            "summary": "The manuals the user may read",
            "description": "Needs `curriculum.view`; a reader scoped to some manuals sees those.",
            "responses": {
                "200": _ok("The manuals, by English title.", "CurriculumManualList"),
                **_errors("401", "403"),
            },
        }
    },
    f"{PREFIX}/manuals/{{slug}}/editions": {
        "get": {
            "tags": [TAG],
            "operationId": "listEditions",
            "summary": "A manual's published editions",
            "description": "Per language, newest first. Needs `curriculum.view` on the manual.",
            "parameters": [
                SLUG,
                {
                    "name": "language",
                    "in": "query",
                    "required": False,
                    "schema": LANGUAGE,
                    "description": "Only editions in this language.",
                },
            ],
            "responses": {
                "200": _ok("The editions.", "CurriculumEditionList"),
                **_errors("400", "401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/manuals/{{slug}}/editions/{{language}}/{{number}}": {
        "get": {
            "tags": [TAG],
            "operationId": "getEdition",
            "summary": "One edition, with the text of every module",
            "description": (
                "An edition never changes: its modules are the versions approved when it was "
                "published, even after newer versions exist. Needs `curriculum.view`."
            ),
            "parameters": [
                SLUG,
                _path_param("language", LANGUAGE, "The edition's language."),
                _path_param("number", {"type": "integer", "minimum": 1}, "The edition number."),
            ],
            "responses": {
                "200": _ok("The edition.", "CurriculumEdition"),
                **_errors("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/versions/{{version_id}}": {
        "get": {
            "tags": [TAG],
            "operationId": "getVersion",
            "summary": "A module version with its review state",
            "description": "For the curriculum team: `curriculum.edit` or `curriculum.review` "
            "on the manual.",
            "parameters": [VERSION_ID],
            "responses": {
                "200": _ok("The version.", "CurriculumVersion"),
                **_errors("401", "403", "404"),
            },
        }
    },
    f"{PREFIX}/versions/{{version_id}}/diff": {
        "get": {
            "tags": [TAG],
            "operationId": "diffVersion",
            "summary": "Word-level changes between two versions of a module",
            "description": (
                "Blocks are aligned on their ids, in this version's order; removed blocks "
                "follow the block that preceded them. Same permissions as the version."
            ),
            "parameters": [
                VERSION_ID,
                {
                    "name": "against",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer"},
                    "description": "The older version (same module); default: the version "
                    "this one was edited from.",
                },
            ],
            "responses": {
                "200": _ok("The differences.", "CurriculumDiff"),
                **_errors("400", "401", "403", "404"),
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "CurriculumManual": {
        "type": "object",
        "required": ["slug", "titles", "description"],
        "properties": {
            "slug": {"type": "string", "examples": ["health-basics"]},
            "titles": {
                "type": "object",
                "description": "An empty title has not been translated yet.",
                "required": list(LANGUAGES),
                "properties": {language: {"type": "string"} for language in LANGUAGES},
            },
            "description": {"type": "string"},
        },
    },
    "CurriculumManualList": {
        "type": "object",
        "required": ["manuals"],
        "properties": {"manuals": {"type": "array", "items": _ref("CurriculumManual")}},
    },
    "CurriculumEditionSummary": {
        "type": "object",
        "required": ["language", "number", "published_at", "notes", "module_count"],
        "properties": {
            "language": LANGUAGE,
            "number": {"type": "integer"},
            "published_at": DATE_TIME,
            "notes": {"type": "string"},
            "module_count": {"type": "integer"},
        },
    },
    "CurriculumEditionList": {
        "type": "object",
        "required": ["manual", "editions"],
        "properties": {
            "manual": {"type": "string"},
            "editions": {"type": "array", "items": _ref("CurriculumEditionSummary")},
        },
    },
    "CurriculumBlock": {
        "type": "object",
        "description": "A top-level block of a module's text, with its stable id.",
        "required": ["id", "kind", "activity", "text", "html"],
        "properties": {
            "id": {"type": "string", "pattern": "^p-[a-z0-9]{6}$"},
            "kind": {"type": "string", "examples": ["heading", "paragraph", "activity"]},
            "activity": {
                "type": ["string", "null"],
                "description": f"For an activity: {', '.join(ACTIVITY_KINDS)}.",
            },
            "text": {"type": "string", "description": "The Markdown source."},
            "html": {"type": "string", "description": "Sanitised HTML, one `<section>`."},
        },
    },
    "CurriculumSignatory": {
        "type": "object",
        "description": "A reviewer whose approval of the text was on record at publication.",
        "required": ["name", "domain", "decision", "reservation", "date"],
        "properties": {
            "name": {"type": "string"},
            "domain": {"type": "string", "examples": ["theology", "health"]},
            "decision": {"type": "string", "enum": [APPROVE, APPROVE_WITH_RESERVATION]},
            "reservation": {"type": "string"},
            "date": {"type": ["string", "null"], "format": "date"},
        },
    },
    "CurriculumEditionModule": {
        "type": "object",
        "required": [
            "slug",
            "position",
            "version",
            "version_id",
            "content_hash",
            "title",
            "objectives",
            "duration_minutes",
            "blocks",
            "signatories",
        ],
        "properties": {
            "slug": {"type": "string"},
            "position": {"type": "integer"},
            "version": {"type": "integer", "description": "The version number."},
            "version_id": {"type": "integer"},
            "content_hash": {"type": "string"},
            "title": {"type": "string"},
            "objectives": STRINGS,
            "duration_minutes": {"type": ["integer", "null"]},
            "blocks": {"type": "array", "items": _ref("CurriculumBlock")},
            "signatories": {"type": "array", "items": _ref("CurriculumSignatory")},
        },
    },
    "CurriculumEdition": {
        "type": "object",
        "required": ["manual", "language", "number", "published_at", "notes", "modules"],
        "properties": {
            "manual": {"type": "string"},
            "language": LANGUAGE,
            "number": {"type": "integer"},
            "published_at": DATE_TIME,
            "notes": {"type": "string"},
            "modules": {"type": "array", "items": _ref("CurriculumEditionModule")},
        },
    },
    "CurriculumDecision": {
        "type": "object",
        "description": "A panel seat's current decision on this version's exact text.",
        "required": ["seat", "domain", "decision", "reasons", "decided_at"],
        "properties": {
            "seat": {"type": "string", "description": "The reviewer's name."},
            "domain": {"type": "string"},
            "decision": {"type": "string", "enum": DECISIONS},
            "reasons": {"type": "string"},
            "decided_at": DATE_TIME,
        },
    },
    "CurriculumTranslationSource": {
        "type": "object",
        "required": ["id", "language", "number", "content_hash", "stale", "newest_source"],
        "properties": {
            "id": {"type": "integer"},
            "language": LANGUAGE,
            "number": {"type": "integer"},
            "content_hash": {"type": "string"},
            "stale": {
                "type": "boolean",
                "description": "The source's newest approved version has different text.",
            },
            "newest_source": {"type": ["integer", "null"]},
        },
    },
    "CurriculumVersion": {
        "type": "object",
        "required": [
            "id",
            "manual",
            "module",
            "language",
            "number",
            "status",
            "title",
            "content_hash",
            "approved",
            "decisions",
            "translates",
            "blocks",
        ],
        "properties": {
            "id": {"type": "integer"},
            "manual": {"type": "string"},
            "module": {
                "type": "object",
                "required": ["slug", "position"],
                "properties": {"slug": {"type": "string"}, "position": {"type": "integer"}},
            },
            "language": LANGUAGE,
            "number": {"type": "integer"},
            "status": {"type": "string", "enum": [DRAFT, SUBMITTED]},
            "title": {"type": "string"},
            "objectives": STRINGS,
            "duration_minutes": {"type": ["integer", "null"]},
            "methods": STRINGS,
            "materials": STRINGS,
            "content_hash": {"type": "string"},
            "change_summary": {"type": "string"},
            "author": {"type": ["string", "null"]},
            "created_at": DATE_TIME,
            "submitted_at": NULLABLE_DATE_TIME,
            "approved": {
                "type": "boolean",
                "description": "Whether the panel's policy is met now (never for a draft).",
            },
            "approved_at": {
                **NULLABLE_DATE_TIME,
                "description": "When the policy was met; editions take versions that have it.",
            },
            "policy": {"type": ["string", "null"], "enum": ["unanimous", "quorum", None]},
            "decisions": {"type": "array", "items": _ref("CurriculumDecision")},
            "based_on": {"type": ["integer", "null"], "description": "Edited from this id."},
            "translates": {
                "oneOf": [_ref("CurriculumTranslationSource"), {"type": "null"}],
                "description": "For a translation: the source version it was made from.",
            },
            "blocks": {"type": "array", "items": _ref("CurriculumBlock")},
        },
    },
    "CurriculumWordOp": {
        "type": "object",
        "required": ["tag", "old", "new"],
        "properties": {
            "tag": {"type": "string", "enum": ["equal", "insert", "delete", "replace"]},
            "old": {"type": "string"},
            "new": {"type": "string"},
        },
    },
    "CurriculumBlockDiff": {
        "type": "object",
        "required": ["id", "status", "ops"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "ops": {"type": "array", "items": _ref("CurriculumWordOp")},
        },
    },
    "CurriculumDiff": {
        "type": "object",
        "required": ["version", "against", "summary", "blocks"],
        "properties": {
            "version": {"type": "integer"},
            "against": {"type": "integer"},
            "summary": {
                "type": "object",
                "description": "Blocks per status, and words inserted and deleted.",
                "additionalProperties": {"type": "integer"},
                "properties": {
                    name: {"type": "integer"}
                    for name in [*STATUSES, "inserted_words", "deleted_words"]
                },
            },
            "blocks": {"type": "array", "items": _ref("CurriculumBlockDiff")},
        },
    },
}


def fragment() -> dict[str, Any]:
    """What ``register_openapi`` returns for the curriculum plugin."""
    return {
        "paths": PATHS,
        "schemas": SCHEMAS,
        "tags": [{"name": TAG, "description": "Manuals, editions and module versions."}],
    }
