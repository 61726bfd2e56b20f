"""Question types: the built-ins follow Moodle's semantics; others come through the
``register_question_types`` hook."""

from __future__ import annotations

from flask import current_app

from lms.plugins import PluginError
from quizzes.question_types.base import Grade, QuestionType

__all__ = ["Grade", "QuestionType", "get_type", "registry"]


def registry() -> dict[str, QuestionType]:
    """Every question type by id (built once per app, cached on the app)."""
    state = current_app.extensions.setdefault("quizzes", {})
    if "types" not in state:
        types: dict[str, QuestionType] = {}
        pm = current_app.extensions["lms"].pm
        for result in pm.hook.register_question_types():
            for qtype in result or ():
                if qtype.id in types:
                    raise PluginError(f"two packages register the question type {qtype.id!r}")
                types[qtype.id] = qtype
        state["types"] = types
    return state["types"]


def get_type(type_id: str) -> QuestionType:
    found = registry().get(type_id)
    if found is None:
        raise KeyError(f"unknown question type {type_id!r}")
    return found
