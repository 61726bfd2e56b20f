"""The interface every question type implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grade:
    """The result of grading one response: a fraction of the question's mark (Moodle's
    "fraction", 0 to 1; None while a teacher still has to grade it) and the feedback."""

    fraction: float | None
    feedback: str = ""


class QuestionType:
    """Base class. ``data`` is the type's own part of a question version (JSON)."""

    #: stable id stored with every question version
    id: str = ""
    #: translatable label shown to authors
    label: Any = ""
    #: True for types a teacher grades by hand (essay)
    manual: bool = False
    #: False for types with no answer at all (description)
    answerable: bool = True

    def validate(self, data: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Field errors for the type's data (empty when valid)."""
        return {}

    def choices(self, data: Mapping[str, Any]) -> list[Any]:
        """The items shown to the learner whose order may be shuffled (answer indexes for
        choice questions, right-hand items for matching); [] when nothing is shuffled."""
        return []

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        """Read this question's response from posted form fields named ``prefix…``;
        ``form`` has ``getlist`` for multiple values. None means unanswered."""
        raise NotImplementedError

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        """Grade a response (None: unanswered, which scores 0 unless manual)."""
        raise NotImplementedError

    def right_answer(self, data: Mapping[str, Any]) -> str:
        """A short text of the right answer, for review pages and answer keys."""
        return ""
