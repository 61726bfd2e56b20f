"""Hooks the quizzes plugin adds, for any package that brings its own question types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from quizzes.question_types.base import QuestionType

hookspec = pluggy.HookspecMarker("lms")


@hookspec
def register_question_types() -> Iterable[QuestionType]:
    """Return question types (subclasses of ``quizzes.question_types.base.QuestionType``).

    Called when the quizzes plugin builds its registry (once per app). Each type has a
    stable id (Moodle's names for the built-ins: multichoice, truefalse, shortanswer,
    numerical, match, essay, description) and validates, renders and grades its own data.
    Ids are unique across packages.
    """
