"""GIFT, Moodle's plain-text question format: a parser and a writer.

Teachers and trainers already write questions in GIFT (or export them from Moodle), so the
parser follows Moodle's importer (``question/format/gift/format.php``) rule for rule: blank
lines separate questions, ``//`` lines are comments, escapes are resolved before anything
else, and the type is decided from the answer part in Moodle's order. Where Moodle would
silently import something broken (an unclosed ``{``, a numerical answer that is not a number,
which Moodle turns into "any answer"), the parser reports the line and the reason instead, so
nothing half-right reaches a question bank.

The writer produces GIFT that Moodle and this parser read back to the same questions:
``parse_gift(write_gift(parse_gift(x).questions))`` equals ``parse_gift(x)`` question by
question.
"""

from __future__ import annotations

import html
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from lms.errors import Invalid

__all__ = [
    "FORMATS",
    "GIFT_TYPES",
    "MISSING_WORD",
    "GiftError",
    "GiftProblem",
    "GiftResult",
    "ParsedQuestion",
    "parse_gift",
    "write_gift",
]

#: The question types GIFT can express.
GIFT_TYPES = (
    "multichoice",
    "truefalse",
    "shortanswer",
    "numerical",
    "match",
    "essay",
    "description",
)
#: Text formats GIFT names in ``[format]`` markers; "moodle" is the default.
FORMATS = ("moodle", "html", "plain", "markdown")
DEFAULT_FORMAT = "moodle"
#: What replaces the answer part in the text of a missing-word question.
MISSING_WORD = "_____"
#: Numerical answers that match any response ("*"), as Moodle stores a ``~#feedback`` part.
ANY_ANSWER = "*"
#: Longest question name and category the database keeps.
MAX_NAME = 255
MAX_CATEGORY = 255
#: Default names are the start of the text, as in Moodle's importer.
DEFAULT_NAME_LENGTH = 100

# Escaped control characters become Unicode noncharacters while a block is parsed, so they
# can never act as control characters, and turn back into their character at the end.
# Noncharacters are never meant to appear in text that is exchanged, so they cannot clash.
_PLACEHOLDERS = {
    ":": "\ufdd0",
    "#": "\ufdd1",
    "=": "\ufdd2",
    "{": "\ufdd3",
    "}": "\ufdd4",
    "~": "\ufdd5",
    "n": "\ufdd6",
}
_RESTORE = str.maketrans(
    {mark: ("\n" if char == "n" else char) for char, mark in _PLACEHOLDERS.items()}
)
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: ``%50%``, ``%-33.333%``: Moodle's weight (a percentage) at the start of an answer.
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
#: Something that was meant as a weight but is not a number (``%5O%``, ``%50,5%``).
_BAD_WEIGHT = re.compile(r"%[^%\n]{0,12}%")
#: What PHP's is_numeric accepts (Moodle's test for numerical answers), without hex.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class GiftProblem:
    """Why a part of the file cannot be imported, and on which line (1-based)."""

    line: int
    message: Any  # a lazy string, shown in the user's language
    filename: str = ""

    def __str__(self) -> str:
        where = f"{self.filename}:{self.line}" if self.filename else f"line {self.line}"
        return f"{where}: {self.message}"


class GiftError(Invalid):
    """The file has problems; ``problems`` lists every one with its line. Nothing from such a
    file may be imported, so callers import either every question or none."""

    def __init__(self, problems: Sequence[GiftProblem]):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            _nl(
                "The GIFT file has %(num)s problem; nothing was imported.",
                "The GIFT file has %(num)s problems; nothing was imported.",
                count,
            )
        )


@dataclass
class ParsedQuestion:
    """One question as GIFT describes it, in the shape stored on ``QuestionVersion``.

    ``data`` follows the contract of the question types (quizzes.question_types); ``line`` is
    where the question starts in the file and is left out of comparisons, so a question read
    back from an export equals the original.
    """

    qtype: str
    name: str
    text: str
    text_format: str = DEFAULT_FORMAT
    data: dict[str, Any] = field(default_factory=dict)
    general_feedback: str = ""
    default_mark: float = 1.0
    category: str = ""
    line: int = field(default=0, compare=False)
    #: the line of each answer (or pair) in ``data``, to point at the one a check rejects
    answer_lines: list[int] = field(default_factory=list, compare=False, repr=False)


@dataclass
class GiftResult:
    """Every question of a file, and each category change (``$CATEGORY:``) in order."""

    questions: list[ParsedQuestion]
    categories_changed: list[str]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


class _Block:
    """The lines of one candidate question, joined as Moodle joins them, with the escapes
    replaced by placeholders and a map from positions back to line numbers."""

    def __init__(self, lines: list[tuple[int, str]]):
        parts: list[str] = []
        self.starts: list[int] = []
        self.numbers: list[int] = []
        self.first_line = 0
        #: the first line holding a noncharacter, which would clash with the placeholders
        self.bad_line = 0
        position = 0
        for number, line in lines:
            if not self.bad_line and _NONCHARACTERS.search(line):
                self.bad_line = number
            if line.startswith("//"):
                line = " "  # Moodle keeps a comment line as a blank inside the question
            elif not self.first_line:
                self.first_line = number
            text = _protect(line)
            self.starts.append(position)
            self.numbers.append(number)
            parts.append(text)
            position += len(text) + 1
        self.src = "\n".join(parts)

    def line(self, position: int) -> int:
        """The file line of a position in ``src``."""
        index = bisect_right(self.starts, position) - 1
        return self.numbers[max(index, 0)]


def _protect(line: str) -> str:
    """Replace the escapes ``\\:`` ``\\#`` ``\\=`` ``\\{`` ``\\}`` ``\\~`` ``\\n`` by placeholders
    and ``\\\\`` by one backslash, left to right (as Moodle's string replacements do)."""
    out: list[str] = []
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and i + 1 < len(line):
            following = line[i + 1]
            if following == "\\":
                out.append("\\")
                i += 2
                continue
            if following in _PLACEHOLDERS:
                out.append(_PLACEHOLDERS[following])
                i += 2
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _strip(src: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace."""
    while start < end and src[start].isspace():
        start += 1
    while end > start and src[end - 1].isspace():
        end -= 1
    return start, end


def _text_with_format(raw: str, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format: a leading ``[html]``-style marker sets the format
    (an unknown marker is text); then the escapes are restored and the text trimmed."""
    text, fmt = raw, default
    if raw.startswith("["):
        end = raw.find("]")
        if end > 0 and raw[1:end] in FORMATS:
            fmt = raw[1:end]
            text = raw[end + 1 :]
    return _restore(text).strip(), fmt


def _split(
    src: str, start: int, end: int, *, cut: str = "", keep: str = ""
) -> list[tuple[int, int]]:
    """Split a span before every character of ``keep`` (kept in the next piece) and at every
    character of ``cut`` (dropped), as Moodle's explode does; the first piece is dropped when
    it is blank, like Moodle's ``array_shift`` of an empty first answer."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for i in range(start, end):
        if src[i] in cut:
            pieces.append((piece_start, i))
            piece_start = i + 1
        elif src[i] in keep:
            pieces.append((piece_start, i))
            piece_start = i
    pieces.append((piece_start, end))
    pieces = [_strip(src, s, e) for s, e in pieces]
    if pieces and pieces[0][0] == pieces[0][1]:
        pieces.pop(0)
    return pieces


def _shorten(text: str, limit: int = 40) -> str:
    """The start of a long piece of the file, to quote it in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def default_name(text: str, line: int) -> str:
    """Moodle names an unnamed question after the start of its text, without markup."""
    plain = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    name = plain[:DEFAULT_NAME_LENGTH].rstrip()
    return name or str(_l("Question on line %(line)s", line=line))


class _Parser:
    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[GiftProblem] = []

    def problem(self, line: int, message: Any) -> None:
        self.problems.append(GiftProblem(line, message, self.filename))

    # A number of problems can be found in one question; each answer is checked on its own.

    def weight(
        self, block: _Block, start: int, piece: str, default: float
    ) -> tuple[float, str] | None:
        """Read a leading ``%n%`` weight; None (and a problem) when it is malformed."""
        if not piece.startswith("%"):
            return default, piece
        match = _WEIGHT.match(piece)
        if match:
            percent = float(match.group(1))
            if not -100 <= percent <= 100:
                self.problem(
                    block.line(start),
                    _l(
                        "The weight %(weight)s is outside -100%% to 100%%.",
                        weight=match.group(0),
                    ),
                )
                return None
            return round(percent / 100, 7), piece[match.end() :]
        bad = _BAD_WEIGHT.match(piece)
        if bad:
            self.problem(
                block.line(start),
                _l(
                    "The weight %(weight)s is not a number: write it like %%50%% or %%-33.3%%.",
                    weight=bad.group(0),
                ),
            )
            return None
        return default, piece  # a lone "%" is part of the answer text, as in Moodle

    def block(self, block: _Block, category: str) -> ParsedQuestion | str | None:
        """Parse one block: a question, a new category (str) or nothing (comments only)."""
        src = block.src
        start, end = _strip(src, 0, len(src))
        if start == end:
            return None
        first = block.first_line or block.line(start)
        if block.bad_line:
            self.problem(
                block.bad_line,
                _l("The line contains a character that is not allowed in text (U+FDD0–U+FDEF)."),
            )
            return None

        if src.startswith("$CATEGORY:", start):
            return self.category(block, start + len("$CATEGORY:"), end)

        # ::name::
        name = ""
        if src.startswith("::", start):
            finish = src.find("::", start + 2, end)
            if finish < 0:
                self.problem(
                    block.line(start),
                    _l("The question name is not closed: write it as ::name:: before the text."),
                )
                return None
            name = " ".join(_restore(src[start + 2 : finish]).split())
            if len(name) > MAX_NAME:
                self.problem(
                    block.line(start),
                    _l("The question name is longer than %(max)s characters.", max=MAX_NAME),
                )
                return None
            start, end = _strip(src, finish + 2, end)

        # The answer part: from the first { to the first } (escaped braces do not count).
        opening = src.find("{", start, end)
        closing = src.find("}", start, end)
        description = opening < 0 and closing < 0
        if not description:
            if opening < 0 or (closing >= 0 and closing < opening):
                self.problem(
                    block.line(closing),
                    _l(
                        "There is a } without a { before it. To write a brace as text, use \\}. "
                        "A blank line inside the braces also ends the question."
                    ),
                )
                return None
            if closing < 0:
                self.problem(
                    block.line(opening),
                    _l(
                        "The answers are not closed: a { has no matching }. A blank line "
                        "inside the braces also ends the question."
                    ),
                )
                return None
            extras = [
                i
                for i in (src.find("{", closing + 1, end), src.find("}", closing + 1, end))
                if i >= 0
            ]
            if extras:
                extra = min(extras)
                self.problem(
                    block.line(extra),
                    _l(
                        "A question has only one answer part in braces. Leave a blank line "
                        "between questions; to write a brace as text, use \\{ or \\}."
                    ),
                )
                return None

        # Question text, with _____ for the answers of a missing-word question.
        if description:
            raw_text = src[start:end]
            answer_start = answer_end = end
        else:
            tail = "" if closing == end - 1 else MISSING_WORD + src[closing + 1 : end]
            raw_text = src[start:opening] + tail
            answer_start, answer_end = _strip(src, opening + 1, closing)

        general_raw = ""
        separator = src.rfind("####", answer_start, answer_end)
        if separator >= 0:
            general_raw = src[separator + 4 : answer_end]
            answer_start, answer_end = _strip(src, answer_start, separator)

        text, text_format = _text_with_format(raw_text, DEFAULT_FORMAT)
        general_feedback, _ = _text_with_format(general_raw, text_format)
        if not text:
            self.problem(first, _l("The question has no text."))
            return None
        question = ParsedQuestion(
            qtype="",
            name=name or default_name(text, first),
            text=text,
            text_format=text_format,
            general_feedback=general_feedback,
            category=category,
            line=first,
        )
        answers = src[answer_start:answer_end]
        count = len(self.problems)
        if description:
            question.qtype, question.default_mark = "description", 0.0
        elif not answers:
            question.qtype = "essay"
        elif answers[0] == "#":
            question.qtype = "numerical"
            question.data = self.numerical(
                block, answer_start, answer_end, text_format, question.answer_lines
            )
        elif "~" in answers:
            question.qtype = "multichoice"
            question.data = self.multichoice(
                block, answer_start, answer_end, text_format, question.answer_lines
            )
        elif "=" in answers and "->" in answers:
            question.qtype = "match"
            question.data = self.match(
                block, answer_start, answer_end, text_format, question.answer_lines
            )
        elif answers.split("#", 1)[0].strip() in ("T", "TRUE", "F", "FALSE"):
            question.qtype = "truefalse"
            question.data = self.truefalse(answers, text_format)
        else:
            question.qtype = "shortanswer"
            question.data = self.shortanswer(
                block, answer_start, answer_end, text_format, question.answer_lines
            )
        if len(self.problems) > count:
            return None
        return question

    def category(self, block: _Block, start: int, end: int) -> str | None:
        raw = block.src[start:end]
        if "\n" in raw.strip():
            self.problem(
                block.line(start),
                _l("Put a blank line after the $CATEGORY: line, before the next question."),
            )
            return None
        name = _restore(raw).strip()
        if not name:
            self.problem(block.line(start), _l("The $CATEGORY: line names no category."))
            return None
        if len(name) > MAX_CATEGORY:
            self.problem(
                block.line(start),
                _l("The category is longer than %(max)s characters.", max=MAX_CATEGORY),
            )
            return None
        return name

    def multichoice(
        self, block: _Block, start: int, end: int, fmt: str, lines: list[int]
    ) -> dict[str, Any]:
        src = block.src
        single = "=" in src[start:end]
        pieces = _split(src, start, end, cut="~", keep="=")
        if src[start] not in "~=":
            # Text before the first ~ or =: Moodle makes it a wrong option; it is a typo.
            self.problem(
                block.line(start),
                _l(
                    "Every option of a multiple-choice question must start with ~ (wrong or "
                    "partly right) or = (right); “%(text)s” starts with neither.",
                    text=_restore(src[start:end].split("~")[0].split("=")[0]).strip()[:40],
                ),
            )
            return {}
        answers: list[dict[str, Any]] = []
        for piece_start, piece_end in pieces:
            piece = src[piece_start:piece_end]
            line = block.line(piece_start)
            if piece.startswith("="):
                piece = piece[1:].lstrip()
                if _WEIGHT.match(piece) or _BAD_WEIGHT.match(piece):
                    self.problem(
                        line,
                        _l(
                            "In a multiple-choice question = marks the right answer (100%). "
                            "For partial credit write ~%50% instead of =%50%."
                        ),
                    )
                    continue
                fraction = 1.0
            else:
                weighted = self.weight(block, piece_start, piece, 0.0)
                if weighted is None:
                    continue
                fraction, piece = weighted
            answer_raw, _, feedback_raw = piece.partition("#")
            text, answer_format = _text_with_format(answer_raw.strip(), fmt)
            feedback, _ = _text_with_format(feedback_raw.strip(), fmt)
            if not text:
                self.problem(line, _l("An option of the multiple-choice question is empty."))
                continue
            answers.append(
                {"text": text, "format": answer_format, "fraction": fraction, "feedback": feedback}
            )
            lines.append(line)
        if len(pieces) < 2:
            self.problem(
                block.line(start),
                _l("A multiple-choice question needs at least two options (~ or =)."),
            )
        return {"single": single, "answers": answers, "shuffle": True}

    def match(
        self, block: _Block, start: int, end: int, fmt: str, lines: list[int]
    ) -> dict[str, Any]:
        src = block.src
        pieces = _split(src, start, end, cut="=")
        count = len(self.problems)
        if src[start] != "=":
            self.problem(
                block.line(start),
                _l("Every pair of a matching question must start with =, like =Canada -> Ottawa."),
            )
            return {}
        pairs: list[dict[str, str]] = []
        for piece_start, piece_end in pieces:
            piece = src[piece_start:piece_end]
            line = block.line(piece_start)
            arrow = piece.find("->")
            if arrow < 0:
                self.problem(
                    line,
                    _l(
                        "“%(text)s” is not a pair: write it like =Canada -> Ottawa.",
                        text=_restore(piece)[:40],
                    ),
                )
                continue
            left, _ = _text_with_format(piece[:arrow], fmt)
            right = _restore(piece[arrow + 2 :]).strip()
            if not right:
                self.problem(line, _l("A pair of the matching question has nothing after ->."))
                continue
            pairs.append({"left": left, "right": right})
            lines.append(line)
        if sum(1 for pair in pairs if pair["left"]) < 2 and len(self.problems) == count:
            self.problem(
                block.line(start),
                _l("A matching question needs at least two pairs, like =Canada -> Ottawa."),
            )
        return {"pairs": pairs}

    def truefalse(self, answers: str, fmt: str) -> dict[str, Any]:
        bits = answers.split("#", 2)
        correct = bits[0].strip() in ("T", "TRUE")
        wrong = _text_with_format(bits[1].strip(), fmt)[0] if len(bits) > 1 else ""
        right = _text_with_format(bits[2].strip(), fmt)[0] if len(bits) > 2 else ""
        # Moodle: the first # is the feedback for a wrong response, the second for a right one.
        if correct:
            return {"correct": True, "feedback_true": right, "feedback_false": wrong}
        return {"correct": False, "feedback_true": wrong, "feedback_false": right}

    def shortanswer(
        self, block: _Block, start: int, end: int, fmt: str, lines: list[int]
    ) -> dict[str, Any]:
        src = block.src
        answers: list[dict[str, Any]] = []
        pieces = _split(src, start, end, cut="=")
        for piece_start, piece_end in pieces:
            weighted = self.weight(block, piece_start, src[piece_start:piece_end], 1.0)
            if weighted is None:
                continue
            fraction, piece = weighted
            answer_raw, _, feedback_raw = piece.partition("#")
            text, _ = _text_with_format(answer_raw.strip(), fmt)
            feedback, _ = _text_with_format(feedback_raw.strip(), fmt)
            if not text:
                self.problem(block.line(piece_start), _l("An accepted answer is empty."))
                continue
            answers.append({"text": text, "fraction": fraction, "feedback": feedback})
            lines.append(block.line(piece_start))
        if not pieces:
            self.problem(block.line(start), _l("The short-answer question has no answer."))
        return {"answers": answers, "case_sensitive": False}

    def numerical(
        self, block: _Block, start: int, end: int, fmt: str, lines: list[int]
    ) -> dict[str, Any]:
        src = block.src
        body_start = start + 1  # after the leading #
        wrong_raw = ""
        tilde = src.find("~", body_start, end)
        body_end = end
        if tilde >= 0:
            wrong_raw, body_end = src[tilde:end], tilde
        pieces = _split(src, body_start, body_end, cut="=")
        if not pieces:
            self.problem(
                block.line(start),
                _l("The numerical question has no answer: write it like {#1822} or {#3.14:0.01}."),
            )
            return {}
        answers: list[dict[str, Any]] = []
        for piece_start, piece_end in pieces:
            line = block.line(piece_start)
            weighted = self.weight(block, piece_start, src[piece_start:piece_end], 1.0)
            if weighted is None:
                continue
            fraction, piece = weighted
            answer_raw, _, feedback_raw = piece.partition("#")
            answer, _ = _text_with_format(answer_raw.strip(), fmt)
            feedback, _ = _text_with_format(feedback_raw.strip(), fmt)
            value = self.number_answer(line, answer)
            if value is not None:
                answers.append(
                    {
                        "value": value[0],
                        "tolerance": value[1],
                        "fraction": fraction,
                        "feedback": feedback,
                    }
                )
                lines.append(line)
        if wrong_raw:
            # {#3:2 ~#Completely wrong}: Moodle stores an extra "*" answer worth nothing.
            feedback = wrong_raw.split("#", 1)
            answers.append(
                {
                    "value": ANY_ANSWER,
                    "tolerance": 0.0,
                    "fraction": 0.0,
                    "feedback": _text_with_format(feedback[1].strip(), fmt)[0]
                    if len(feedback) > 1
                    else "",
                }
            )
            lines.append(block.line(tilde))
        return {"answers": answers}

    def number_answer(self, line: int, answer: str) -> tuple[float | str, float] | None:
        """(value, tolerance) from ``3.14``, ``3.14:0.01`` or ``3.141..3.142``."""
        if answer == ANY_ANSWER:
            return ANY_ANSWER, 0.0
        if answer.find("..") > 0:
            low_raw, _, high_raw = answer.partition("..")
            low, high = self.number(line, low_raw), self.number(line, high_raw)
            if low is None or high is None:
                return None
            if low > high:
                self.problem(
                    line,
                    _l(
                        "In the range %(range)s the first number is larger than the second.",
                        range=answer,
                    ),
                )
                return None
            # In decimal, so 3.141..3.142 is 3.1415 ± 0.0005 and not 3.1414999999999997;
            # exponents beyond what decimal's context takes (0e99999999) fall back to floats.
            try:
                low_dec, high_dec = Decimal(low_raw.strip()), Decimal(high_raw.strip())
                middle = (low_dec + high_dec) / 2
                return float(middle), float(high_dec - middle)
            except DecimalException:
                return (low + high) / 2, (high - low) / 2
        if answer.find(":") > 0:
            value_raw, _, tolerance_raw = answer.partition(":")
            value, tolerance = self.number(line, value_raw), self.number(line, tolerance_raw)
            if value is None or tolerance is None:
                return None
            if tolerance < 0:
                self.problem(
                    line,
                    _l(
                        "The margin of error %(tolerance)s is negative.",
                        tolerance=tolerance_raw.strip(),
                    ),
                )
                return None
            return value, tolerance
        value = self.number(line, answer)
        return None if value is None else (value, 0.0)

    def number(self, line: int, raw: str) -> float | None:
        text = raw.strip()
        if _NUMBER.fullmatch(text):
            value = float(text)
            if math.isfinite(value):
                return value
            self.problem(
                line,
                _l("The number “%(text)s” is too large.", text=_shorten(text)),
            )
            return None
        if re.fullmatch(r"[+-]?\d+,\d+", text):
            self.problem(
                line,
                _l(
                    "“%(text)s” is not a number: write decimals with a dot, like %(fixed)s.",
                    text=text,
                    fixed=text.replace(",", "."),
                ),
            )
        else:
            self.problem(
                line,
                _l(
                    "The numerical answer “%(text)s” is not a number. Write it like 1822, "
                    "3.14:0.01 (with a margin of error) or 3.141..3.142 (a range).",
                    text=text,
                ),
            )
        return None


def _blocks(text: str) -> Iterable[_Block]:
    """Moodle's reader: trimmed lines, cut into blocks at blank lines."""
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(_LINE_BREAK.split(text), start=1):
        line = raw.strip()
        if line:
            current.append((number, line))
        elif current:
            yield _Block(current)
            current = []
    if current:
        yield _Block(current)


def parse_gift(text: str, filename: str = "") -> GiftResult:
    """Every question in a GIFT text, or ``GiftError`` listing every problem by line.

    The whole text is checked before anything is returned, so an import can refuse a file
    with one bad question instead of importing the rest and leaving the teacher to find out
    which ones are missing.
    """
    parser = _Parser(filename)
    questions: list[ParsedQuestion] = []
    categories: list[str] = []
    category = ""
    for block in _blocks(text.removeprefix("\ufeff")):
        result = parser.block(block, category)
        if isinstance(result, str):
            category = result
            categories.append(result)
        elif result is not None:
            questions.append(result)
    if parser.problems:
        raise GiftError(parser.problems)
    return GiftResult(questions=questions, categories_changed=categories)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "#": "\\#",
        "=": "\\=",
        "~": "\\~",
        "{": "\\{",
        "}": "\\}",
        ":": "\\:",
        "\n": "\\n",
        "\r": "",
    }
)


def _escape(text: str) -> str:
    """Moodle's repchar: control characters escaped, line breaks written as ``\\n``."""
    return text.translate(_ESCAPES)


def _formatted(text: str, fmt: str, default: str) -> str:
    """Text with a ``[format]`` marker when it differs from the default, or when the text
    itself starts with ``[`` or ``%`` and would otherwise be read as a marker or a weight."""
    marker = f"[{fmt}]" if fmt != default or text.startswith(("[", "%")) else ""
    return marker + _escape(text)


def _number(value: float) -> str:
    """The shortest text that reads back as the same float (1822, 0.0005, 1e-07)."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _percent(fraction: float) -> str:
    return _number(round(float(fraction) * 100, 5))


def _general_feedback(question: ParsedQuestion, indent: str) -> str:
    if not question.general_feedback:
        return ""
    text = _formatted(question.general_feedback, question.text_format, question.text_format)
    return f"{indent}####{text}\n" if indent else f"####{text}"


def _answers_block(question: ParsedQuestion) -> str:
    """The ``{…}`` part of a question."""
    data, fmt = question.data, question.text_format
    qtype = question.qtype
    if qtype == "essay":
        return "{" + _general_feedback(question, "") + "}"
    if qtype == "truefalse":
        correct = bool(data.get("correct"))
        right = data.get("feedback_true" if correct else "feedback_false", "") or ""
        wrong = data.get("feedback_false" if correct else "feedback_true", "") or ""
        out = "TRUE" if correct else "FALSE"
        if wrong:
            out += "#" + _formatted(wrong, fmt, fmt)
        elif right:
            out += "#"
        if right:
            out += "#" + _formatted(right, fmt, fmt)
        return "{" + out + _general_feedback(question, "") + "}"
    lines: list[str] = []
    if qtype == "multichoice":
        single = bool(data.get("single", True))
        answers = list(data.get("answers", []))
        markers = ["=" if single and float(a["fraction"]) == 1 else "~" for a in answers]
        if "~" not in markers and markers:
            markers[-1] = "~"  # a multiple-choice answer part needs a ~ to be one
        for answer, marker in zip(answers, markers, strict=True):
            fraction = float(answer["fraction"])
            weight = "" if marker == "=" or fraction == 0 else f"%{_percent(fraction)}%"
            text = _formatted(answer["text"], answer.get("format", fmt), fmt)
            feedback = answer.get("feedback") or ""
            line = f"\t{marker}{weight}{text}"
            if feedback:
                line += "#" + _formatted(feedback, fmt, fmt)
            lines.append(line)
    elif qtype == "shortanswer":
        answers = list(data.get("answers", []))
        # "=" and "->" together would make a matching question; one answer needs no "=".
        marker = "="
        if len(answers) == 1 and "->" in answers[0]["text"] + (answers[0].get("feedback") or ""):
            marker = ""
        for answer in answers:
            line = f"\t{marker}%{_percent(answer['fraction'])}%"
            line += _formatted(answer["text"], fmt, fmt)
            if answer.get("feedback"):
                line += "#" + _formatted(answer["feedback"], fmt, fmt)
            lines.append(line)
    elif qtype == "numerical":
        answers = list(data.get("answers", []))
        for index, answer in enumerate(answers):
            feedback = answer.get("feedback") or ""
            written_feedback = "#" + _formatted(feedback, fmt, fmt) if feedback else ""
            last = index == len(answers) - 1
            if answer["value"] == ANY_ANSWER and last and float(answer["fraction"]) == 0:
                lines.append("\t~#" + (_formatted(feedback, fmt, fmt) if feedback else ""))
                continue
            if answer["value"] == ANY_ANSWER:
                value = ANY_ANSWER
            else:
                value = f"{_number(answer['value'])}:{_number(answer.get('tolerance') or 0)}"
            lines.append(f"\t=%{_percent(answer['fraction'])}%{value}{written_feedback}")
        return (
            "{#\n"
            + "".join(f"{line}\n" for line in lines)
            + _general_feedback(question, "\t")
            + "}"
        )
    elif qtype == "match":
        for pair in data.get("pairs", []):
            left = _formatted(pair["left"], fmt, fmt) if pair["left"] else ""
            lines.append(f"\t={left} -> {_escape(pair['right'])}")
    else:
        raise ValueError(f"GIFT cannot express the question type {qtype!r}")
    return "{\n" + "".join(f"{line}\n" for line in lines) + _general_feedback(question, "\t") + "}"


def write_question(question: ParsedQuestion) -> str:
    """One question in GIFT: its name, its text (with the answers where ``_____`` stands in a
    missing-word question) and its answers."""
    head = f"::{_escape(question.name)}::"
    marker = f"[{question.text_format}]" if question.text_format != DEFAULT_FORMAT else ""
    if not marker and question.text.startswith("["):
        marker = f"[{DEFAULT_FORMAT}]"
    if question.qtype == "description":
        return head + marker + _escape(question.text)
    answers = _answers_block(question)
    text = question.text
    if text.count(MISSING_WORD) == 1 and not text.endswith(MISSING_WORD):
        before, _, after = text.partition(MISSING_WORD)
        return head + marker + _escape(before) + answers + _escape(after)
    return head + marker + _escape(text) + answers


def write_gift(questions: Iterable[ParsedQuestion]) -> str:
    """GIFT for the questions, with a ``$CATEGORY:`` line wherever the category changes.

    A question with no category after one with a category stays in that category, because
    GIFT has no way back to "no category"; exports list uncategorised questions first.
    """
    parts: list[str] = []
    category = ""
    for question in questions:
        if question.category and question.category != category:
            category = question.category
            # Only a backslash and a line break need escaping on a category line.
            escaped = category.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "")
            parts.append("$CATEGORY: " + escaped)
        parts.append(write_question(question))
    return "".join(f"{part}\n\n" for part in parts)
