"""The seven built-in question types, graded the way Moodle grades them.

Banks arrive from Moodle as GIFT files and go back out the same way, so a question must
score here exactly what it scored there: partial credit, negative fractions on wrong
choices, ``*`` wildcards in short answers, tolerances on numbers, one share per matched
pair. Where Moodle is stricter than learners in Kyrgyzstan need (a decimal comma, a
Cyrillic letter typed as decomposed code points), we are more forgiving and say so below.

Responses as stored in ``quizzes.models.Answer.response`` (JSON):

- multichoice: a list of answer indexes (single choice: a list of one);
- truefalse: a bool;
- shortanswer, essay: the text typed;
- numerical: the text typed (so a review shows "3,5" as written);
- match: ``{"<left index>": "<right text>"}``, indexes into ``data["pairs"]``;
- description: always None.

Form fields read by ``response_from_form``: ``prefix`` itself for every type but match,
whose selects are named ``f"{prefix}-{index}"``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from html import unescape
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from quizzes.question_types.base import Grade, QuestionType

__all__ = [
    "BUILTIN_TYPES",
    "Description",
    "Essay",
    "Match",
    "MultiChoice",
    "Numerical",
    "ShortAnswer",
    "TrueFalse",
    "builtin_types",
    "normalise_text",
    "parse_number",
    "wildcard_match",
]

TEXT_FORMATS = ("moodle", "html", "plain", "markdown")
Errors = dict[str, list[Any]]


# --- helpers ---------------------------------------------------------------------------


def _clamp(value: float) -> float:
    """Fractions are of the question's mark: never below nothing, never above all of it."""
    return min(1.0, max(0.0, value))


def _number(value: Any) -> float | None:
    """A finite number stored in question data (bools are not numbers, though Python
    says they are: ``{"fraction": true}`` is a bug in whoever wrote the data)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _answers(data: Mapping[str, Any], key: str = "answers") -> list[Mapping[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _plain(text: str, text_format: str = "moodle") -> str:
    """Answer texts for answer keys and review lists, where markup would only be noise."""
    if text_format in ("html", "moodle"):
        text = unescape(re.sub(r"<[^>]*>", "", text))
    return " ".join(text.split())


def _fraction_errors(
    answers: list[Mapping[str, Any]], key: str, low: float, high: float
) -> tuple[Errors, bool]:
    """Per-row errors for fractions outside [low, high], and whether any is positive."""
    errors: Errors = {}
    positive = False
    for index, answer in enumerate(answers):
        fraction = _number(answer.get("fraction", 0))
        if fraction is None or not low <= fraction <= high:
            errors[f"{key}.{index}.fraction"] = [
                _l(
                    "Give a grade from %(low)s%% to %(high)s%%.",
                    low=round(low * 100),
                    high=round(high * 100),
                )
            ]
        elif fraction > 0:
            positive = True
    return errors, positive


_SPACE_RE = re.compile(r"\s+")
_TATWEEL = "\u0640"


def normalise_text(text: str, *, case_sensitive: bool = False) -> str:
    """The form in which two typed answers are compared.

    NFKC folds composed/decomposed letters (ө as one code point or as о + U+0308) and
    compatibility forms (Arabic presentation forms, full-width digits) into one spelling;
    Arabic tatweel only stretches a word on screen, so it goes; runs of whitespace are one
    space; case is folded unless the author asked otherwise. Case folding can undo
    normalisation, hence NFKC again after it.
    """
    text = unicodedata.normalize("NFKC", text).replace(_TATWEEL, "")
    text = _SPACE_RE.sub(" ", text).strip()
    if not case_sensitive:
        text = unicodedata.normalize("NFKC", text.casefold())
    return text


_STARS_RE = re.compile(r"(?<!\\)\*+")


def wildcard_match(pattern: str, response: str, *, case_sensitive: bool = False) -> bool:
    """Moodle's short-answer comparison: ``*`` (or a run of them) stands for any text,
    including none; ``\\*`` is a literal asterisk; the whole response must match."""
    pattern = normalise_text(pattern, case_sensitive=case_sensitive)
    response = normalise_text(response, case_sensitive=case_sensitive)
    bits = [re.escape(bit.replace("\\*", "*")) for bit in _STARS_RE.split(pattern)]
    return re.fullmatch(".*".join(bits), response, flags=re.DOTALL) is not None


_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INNER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")


def parse_number(value: Any) -> float | None:
    """A number as a learner types it, or None.

    Russian and Kyrgyz write a decimal comma ("3,5") and group thousands with a (narrow,
    no-break) space ("1 000"); a typographic minus (−) is a minus. A comma next to a point
    is ambiguous ("1,000.5" or "1.000,5"?), so it is refused rather than guessed. Python's
    own ``float`` would also take "nan", "inf" and "1_000"; none of these is an answer.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-")
    text = _INNER_SPACES.sub("", text)
    if "," in text:
        if "." in text or text.count(",") > 1:
            return None
        text = text.replace(",", ".")
    if not _NUMBER_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _format_number(value: float) -> str:
    return f"{value:g}"


# --- multiple choice -------------------------------------------------------------------


class MultiChoice(QuestionType):
    """One or several answers from a list (Moodle's ``multichoice``).

    Single choice scores the chosen answer's fraction; multiple choice adds the fractions of
    every chosen answer, so wrong choices with negative fractions cancel right ones and
    ticking everything earns nothing. Both are clamped to 0..1.
    """

    id = "multichoice"
    label = _l("Multiple choice")

    def validate(self, data: Mapping[str, Any]) -> Errors:
        errors: Errors = {}
        answers = _answers(data)
        if not isinstance(data.get("single", True), bool):
            errors["single"] = [_l("Choose one answer or several answers.")]
        for index, answer in enumerate(answers):
            if not _text(answer.get("text")).strip():
                errors[f"answers.{index}.text"] = [_l("Enter the answer text.")]
            if _text(answer.get("format", "moodle")) not in TEXT_FORMATS:
                errors[f"answers.{index}.format"] = [_l("Unknown text format.")]
        if len(answers) < 2:
            errors["answers"] = [_l("Give at least two answers.")]
        row_errors, positive = _fraction_errors(answers, "answers", -1.0, 1.0)
        errors.update(row_errors)
        if answers and not positive and not row_errors:
            errors.setdefault("answers", []).append(
                _l("At least one answer must have a positive grade.")
            )
        return errors

    def choices(self, data: Mapping[str, Any]) -> list[Any]:
        """Answer indexes; ``data["shuffle"]`` false means the author wants them in order."""
        return list(range(len(_answers(data))))

    def _indexes(self, data: Mapping[str, Any], response: Any) -> list[int]:
        count = len(_answers(data))
        raw = response if isinstance(response, list) else [response]
        found: list[int] = []
        for item in raw:
            if isinstance(item, bool):
                continue
            if isinstance(item, str) and item.strip().isdigit():
                item = int(item)
            if isinstance(item, int) and 0 <= item < count and item not in found:
                found.append(item)
        return found

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        if data.get("single", True):
            values = [form.get(prefix)]
        else:
            getlist = getattr(form, "getlist", None)
            values = getlist(prefix) if getlist else [form.get(prefix)]
        chosen = self._indexes(data, [v for v in values if v is not None])
        return sorted(chosen) or None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        answers = _answers(data)
        chosen = self._indexes(data, response) if response is not None else []
        if not chosen:
            return Grade(0.0)
        if data.get("single", True) and len(chosen) > 1:
            # A single-choice form never posts two answers; someone is guessing around it.
            return Grade(0.0)
        total = sum(_number(answers[i].get("fraction", 0)) or 0.0 for i in chosen)
        feedback = "\n".join(
            text for i in chosen if (text := _text(answers[i].get("feedback")).strip())
        )
        return Grade(_clamp(total), feedback)

    def right_answer(self, data: Mapping[str, Any]) -> str:
        answers = _answers(data)
        fractions = [_number(a.get("fraction", 0)) or 0.0 for a in answers]
        if not answers or max(fractions) <= 0:
            return ""
        if data.get("single", True):
            best = max(fractions)
            chosen = [a for a, f in zip(answers, fractions, strict=True) if f == best]
        else:
            chosen = [a for a, f in zip(answers, fractions, strict=True) if f > 0]
        return "; ".join(
            _plain(_text(a.get("text")), _text(a.get("format", "moodle"))) for a in chosen
        )


# --- true/false ------------------------------------------------------------------------


class TrueFalse(QuestionType):
    """A statement to judge (Moodle's ``truefalse``): all or nothing, and the feedback
    belongs to what the learner said, not to whether it was right."""

    id = "truefalse"
    label = _l("True/false")

    def validate(self, data: Mapping[str, Any]) -> Errors:
        if not isinstance(data.get("correct"), bool):
            return {"correct": [_l("Say whether the statement is true or false.")]}
        return {}

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        value = str(form.get(prefix) or "").strip().lower()
        if value in ("1", "true"):
            return True
        if value in ("0", "false"):
            return False
        return None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        if not isinstance(response, bool):
            return Grade(0.0)
        feedback = _text(data.get("feedback_true" if response else "feedback_false"))
        return Grade(1.0 if response == data.get("correct") else 0.0, feedback.strip())

    def right_answer(self, data: Mapping[str, Any]) -> str:
        return _("True") if data.get("correct") else _("False")


# --- short answer ----------------------------------------------------------------------


def _best(matches: list[tuple[float, Mapping[str, Any]]]) -> tuple[float, Mapping[str, Any]]:
    """The highest-scoring match; among equals the first, as the author ordered them."""
    best = matches[0]
    for candidate in matches[1:]:
        if candidate[0] > best[0]:
            best = candidate
    return best


class ShortAnswer(QuestionType):
    """A word or phrase typed in (Moodle's ``shortanswer``), compared with each answer
    (``*`` wildcards allowed); the best-scoring match counts."""

    id = "shortanswer"
    label = _l("Short answer")

    def validate(self, data: Mapping[str, Any]) -> Errors:
        errors: Errors = {}
        answers = _answers(data)
        for index, answer in enumerate(answers):
            if not _text(answer.get("text")).strip():
                errors[f"answers.{index}.text"] = [_l("Enter the answer text.")]
        if not answers:
            errors["answers"] = [_l("Give at least one answer.")]
        row_errors, positive = _fraction_errors(answers, "answers", 0.0, 1.0)
        errors.update(row_errors)
        if answers and not positive and not row_errors:
            errors.setdefault("answers", []).append(
                _l("At least one answer must have a positive grade.")
            )
        if not isinstance(data.get("case_sensitive", False), bool):
            errors["case_sensitive"] = [_l("Say whether case matters.")]
        return errors

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        text = str(form.get(prefix) or "").strip()
        return text or None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        if not isinstance(response, str) or not response.strip():
            return Grade(0.0)
        case_sensitive = bool(data.get("case_sensitive", False))
        matches = [
            (_number(answer.get("fraction", 0)) or 0.0, answer)
            for answer in _answers(data)
            if _text(answer.get("text")).strip()
            and wildcard_match(_text(answer["text"]), response, case_sensitive=case_sensitive)
        ]
        if not matches:
            other = next((a for a in _answers(data) if a.get("value") == ANY_OTHER), None)
            if other is not None:
                fraction = _number(other.get("fraction", 0)) or 0.0
                return Grade(_clamp(fraction), _text(other.get("feedback")).strip())
            return Grade(0.0)
        fraction, answer = _best(matches)
        return Grade(_clamp(fraction), _text(answer.get("feedback")).strip())

    def right_answer(self, data: Mapping[str, Any]) -> str:
        scored = [(_number(a.get("fraction", 0)) or 0.0, a) for a in _answers(data)]
        if not scored or max(f for f, _a in scored) <= 0:
            return ""
        best = max(f for f, _a in scored)
        return " / ".join(_text(a.get("text")).strip() for f, a in scored if f == best)


# --- numerical -------------------------------------------------------------------------


#: A numerical answer whose value is "*" matches any other number (Moodle's catch-all).
ANY_OTHER = "*"


class Numerical(QuestionType):
    """A number typed in (Moodle's ``numerical``): an answer matches when the response is
    within its tolerance; the best-scoring match counts."""

    id = "numerical"
    label = _l("Numerical")

    def validate(self, data: Mapping[str, Any]) -> Errors:
        errors: Errors = {}
        answers = _answers(data)
        for index, answer in enumerate(answers):
            if answer.get("value") == ANY_OTHER:
                continue  # Moodle's "*": feedback for any other answer, worth what it says
            if _number(answer.get("value")) is None:
                errors[f"answers.{index}.value"] = [_l("Enter a number.")]
            tolerance = _number(answer.get("tolerance", 0))
            if tolerance is None or tolerance < 0:
                errors[f"answers.{index}.tolerance"] = [_l("Enter a number that is zero or more.")]
        if not answers:
            errors["answers"] = [_l("Give at least one answer.")]
        row_errors, positive = _fraction_errors(answers, "answers", 0.0, 1.0)
        errors.update(row_errors)
        if answers and not positive and not row_errors:
            errors.setdefault("answers", []).append(
                _l("At least one answer must have a positive grade.")
            )
        return errors

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        text = str(form.get(prefix) or "").strip()
        return text or None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        if response is None or (isinstance(response, str) and not response.strip()):
            return Grade(0.0)
        number = parse_number(response)
        if number is None:
            return Grade(0.0, _("That is not a number."))
        matches: list[tuple[float, Mapping[str, Any]]] = []
        for answer in _answers(data):
            value = _number(answer.get("value"))
            if value is None:
                continue
            tolerance = abs(_number(answer.get("tolerance", 0)) or 0.0)
            # As Moodle does (MDL-3225): a hair of slack, so that 3.5 is within 0.1 of 3.4
            # although binary floating point puts them 0.10000000000000009 apart.
            slack = 1e-12 * max(1.0, abs(value), abs(tolerance))
            if abs(number - value) <= tolerance + slack:
                matches.append((_number(answer.get("fraction", 0)) or 0.0, answer))
        if not matches:
            other = next((a for a in _answers(data) if a.get("value") == ANY_OTHER), None)
            if other is not None:
                fraction = _number(other.get("fraction", 0)) or 0.0
                return Grade(_clamp(fraction), _text(other.get("feedback")).strip())
            return Grade(0.0)
        fraction, answer = _best(matches)
        return Grade(_clamp(fraction), _text(answer.get("feedback")).strip())

    def right_answer(self, data: Mapping[str, Any]) -> str:
        scored = [
            (_number(a.get("fraction", 0)) or 0.0, a)
            for a in _answers(data)
            if _number(a.get("value")) is not None
        ]
        if not scored or max(f for f, _a in scored) <= 0:
            return ""
        best = max(f for f, _a in scored)
        shown = []
        for fraction, answer in scored:
            if fraction != best:
                continue
            text = _format_number(float(answer["value"]))
            tolerance = abs(_number(answer.get("tolerance", 0)) or 0.0)
            if tolerance:
                text += f" ± {_format_number(tolerance)}"
            shown.append(text)
        return " / ".join(shown)


# --- matching --------------------------------------------------------------------------


class Match(QuestionType):
    """Pair each left-hand item with a right-hand one (Moodle's ``match``). Pairs with an
    empty left side are distractors: extra right-hand items that match nothing. Each real
    pair is an equal share of the mark."""

    id = "match"
    label = _l("Matching")

    @staticmethod
    def _pairs(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return _answers(data, "pairs")

    def real_pairs(self, data: Mapping[str, Any]) -> list[tuple[int, str, str]]:
        """(index in ``data["pairs"]``, left, right) for every pair that is not a
        distractor; the index is what responses use."""
        return [
            (index, _text(pair.get("left")).strip(), _text(pair.get("right")).strip())
            for index, pair in enumerate(self._pairs(data))
            if _text(pair.get("left")).strip()
        ]

    def validate(self, data: Mapping[str, Any]) -> Errors:
        errors: Errors = {}
        pairs = self._pairs(data)
        for index, pair in enumerate(pairs):
            if not _text(pair.get("right")).strip():
                errors[f"pairs.{index}.right"] = [_l("Enter the matching answer.")]
        if len(self.real_pairs(data)) < 2:
            errors["pairs"] = [_l("Give at least two pairs.")]
        return errors

    def choices(self, data: Mapping[str, Any]) -> list[Any]:
        """The right-hand items, distractors included, each once (two items may share an
        answer, as in Moodle, and the learner should not see it twice)."""
        seen: list[str] = []
        for pair in self._pairs(data):
            right = _text(pair.get("right")).strip()
            if right and right not in seen:
                seen.append(right)
        return seen

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        allowed = set(self.choices(data))
        response = {}
        for index, _left, _right in self.real_pairs(data):
            value = str(form.get(f"{prefix}-{index}") or "").strip()
            if value in allowed:
                response[str(index)] = value
        return response or None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        real = self.real_pairs(data)
        if not real or not isinstance(response, Mapping):
            return Grade(0.0)
        given = {str(key): value for key, value in response.items()}
        right = sum(
            1
            for index, _left, answer in real
            if isinstance(given.get(str(index)), str) and given[str(index)].strip() == answer
        )
        return Grade(right / len(real))

    def right_answer(self, data: Mapping[str, Any]) -> str:
        return "; ".join(f"{left} → {right}" for _index, left, right in self.real_pairs(data))


# --- essay and description -------------------------------------------------------------


class Essay(QuestionType):
    """A written answer a teacher grades by hand (Moodle's ``essay``): no fraction until
    then, even when left blank, so the teacher decides what an empty page is worth."""

    id = "essay"
    label = _l("Essay")
    manual = True

    def validate(self, data: Mapping[str, Any]) -> Errors:
        return {}

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        text = str(form.get(prefix) or "").strip()
        return text or None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        return Grade(None)


class Description(QuestionType):
    """Text between questions (Moodle's ``description``): nothing to answer or grade.
    Callers skip types with ``answerable`` false when they add up marks."""

    id = "description"
    label = _l("Description")
    answerable = False

    def validate(self, data: Mapping[str, Any]) -> Errors:
        return {}

    def response_from_form(
        self, data: Mapping[str, Any], form: Mapping[str, Any], prefix: str
    ) -> Any:
        return None

    def grade(self, data: Mapping[str, Any], response: Any) -> Grade:
        return Grade(None)


BUILTIN_TYPES: tuple[type[QuestionType], ...] = (
    MultiChoice,
    TrueFalse,
    ShortAnswer,
    Numerical,
    Match,
    Essay,
    Description,
)


def builtin_types() -> list[QuestionType]:
    """One instance of each built-in type, in the order authors see them offered."""
    return [cls() for cls in BUILTIN_TYPES]
