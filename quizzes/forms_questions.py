"""Question forms, one per built-in type, that work without JavaScript.

Lists of answers (or pairs) are a fixed number of rows; blank rows are ignored, so an
author fills in as many as the question needs and leaves the rest. Editing a question with
more answers than that shows them all plus two blank rows. Grades are typed as percentages
(as Moodle shows them) and numbers may use a decimal comma, as people write them in
Russian and Kyrgyz.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from lms.config import LANGUAGES
from lms.errors import Invalid, LmsError
from lms.forms import LmsForm, apply_field_errors
from lms.organisations.forms import GetForm
from quizzes.question_types.builtin import parse_number

#: Rows offered for answers or pairs on a new question.
ROWS = 6
#: Rows read back at most (a guard against a crafted form with thousands of rows).
MAX_ROWS = 100

FORMAT_CHOICES = [
    SelectChoice("moodle", _l("Moodle auto-format")),
    SelectChoice("html", _l("HTML")),
    SelectChoice("plain", _l("Plain text")),
    SelectChoice("markdown", _l("Markdown")),
]


def number_between(low: float | None, high: float | None) -> Callable[[Any, Any], None]:
    """A validator for a number typed as text ("3,5" too); an empty field passes."""

    def check(form: Any, field: Any) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        number = parse_number(text)
        if number is None:
            raise ValidationError(_l("Enter a number."))
        if low is not None and number < low:
            raise ValidationError(_l("Enter a number from %(low)s.", low=f"{low:g}"))
        if high is not None and number > high:
            raise ValidationError(_l("Enter a number up to %(high)s.", high=f"{high:g}"))

    return check


def _number(text: str | None, default: float = 0.0) -> float:
    """The number in a field that passed ``number_between`` (blank: ``default``)."""
    value = parse_number((text or "").strip())
    return default if value is None else value


def _percent_text(fraction: Any) -> str:
    """A stored fraction as the percentage the form shows (0.3333333 → "33.33333")."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        return ""
    return f"{fraction * 100:.7g}"


def _number_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:.15g}"


def _blank(*values: str | None) -> bool:
    return not any((value or "").strip() for value in values)


# --- rows ----------------------------------------------------------------------------------


class ChoiceRow(Form):
    text = StringField(_l("Answer"), validators=[Length(max=5000)])
    fraction = StringField(_l("Grade (%)"), validators=[number_between(-100, 100)])
    feedback = StringField(_l("Feedback"), validators=[Length(max=5000)])


class TextAnswerRow(Form):
    text = StringField(_l("Answer"), validators=[Length(max=1000)])
    fraction = StringField(_l("Grade (%)"), validators=[number_between(0, 100)])
    feedback = StringField(_l("Feedback"), validators=[Length(max=5000)])


class NumberRow(Form):
    value = StringField(_l("Answer"), validators=[number_between(None, None)])
    tolerance = StringField(_l("Accepted error ±"), validators=[number_between(0, None)])
    fraction = StringField(_l("Grade (%)"), validators=[number_between(0, 100)])
    feedback = StringField(_l("Feedback"), validators=[Length(max=5000)])


class PairRow(Form):
    left = StringField(_l("Item"), validators=[Length(max=1000)])
    right = StringField(_l("Matching answer"), validators=[Length(max=1000)])


def _rows(row: type[Form], label: Any) -> FieldList:
    return FieldList(FormField(row), label=label, min_entries=ROWS, max_entries=MAX_ROWS)


# --- the question forms --------------------------------------------------------------------


class QuestionForm(LmsForm):
    """What every question has; subclasses add their type's fields and convert them."""

    #: the list fields (answers, pairs) whose row-level errors services report by index
    list_fields: tuple[str, ...] = ()

    name = StringField(
        _l("Name"),
        validators=[Length(max=255)],
        description=_l("Shown to authors only. Left empty, it is the start of the text."),
    )
    text = TextAreaField(_l("Question text"), validators=[InputRequired(), Length(max=50000)])
    text_format = SelectField(_l("Text format"), choices=FORMAT_CHOICES, default="moodle")
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
        default="en",
    )
    module_slug = SelectField(_l("Module"), choices=[], validators=[Optional()])
    default_mark = StringField(
        _l("Default mark"), validators=[InputRequired(), number_between(0, 1000)], default="1"
    )
    general_feedback = TextAreaField(
        _l("General feedback"),
        validators=[Length(max=20000)],
        description=_l("Shown to every learner after answering, whatever the answer."),
    )
    #: the version the form was filled from, so a save over someone else's is refused
    expected_number = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: errors about a whole list ("give at least two answers"), by list name
        self.list_errors: dict[str, list[Any]] = {}
        #: for each list, the form row of each stored item (blank rows are skipped)
        self.row_map: dict[str, list[int]] = {}
        self.failed = False

    # conversions, overridden per type

    def type_data(self) -> dict[str, Any]:
        """The type's ``data`` from the posted rows; fills ``row_map``."""
        return {}

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        """Form values for stored ``data`` (the reverse of ``type_data``)."""
        return {}

    # helpers for views

    def mark(self) -> float:
        return _number(self.default_mark.data, 1.0)

    def extend_rows(self) -> None:
        """Two blank rows after the filled ones, so an edit can add answers."""
        for name in self.list_fields:
            rows: FieldList = getattr(self, name)
            filled = sum(1 for entry in rows.entries if not _row_blank(entry))
            while len(rows.entries) < max(ROWS, filled + 2) and len(rows.entries) < MAX_ROWS:
                rows.append_entry()

    def show_errors(self, error: LmsError) -> None:
        """Put a service's field errors next to the fields they are about: list errors on
        the list, ``answers.3.text`` on the right cell of the right row, the rest as usual."""
        self.failed = True
        rest: dict[str, list[Any]] = {}
        for key, messages in error.field_errors.items():
            parts = key.split(".")
            if parts[0] in self.list_fields:
                if len(parts) == 3 and parts[1].isdigit():
                    rows = getattr(self, parts[0])
                    index = int(parts[1])
                    mapping = self.row_map.get(parts[0], [])
                    if index < len(mapping):
                        sub = getattr(rows.entries[mapping[index]].form, parts[2], None)
                        if sub is not None:
                            sub.errors = [*sub.errors, *messages]
                            continue
                self.list_errors.setdefault(parts[0], []).extend(messages)
            else:
                rest[key] = list(messages)
        if rest or not self.list_errors:
            apply_field_errors(self, Invalid(error.message, field_errors=rest))


def _row_blank(entry: Any) -> bool:
    """A row the author left alone: no text, and no grade other than nothing. A grade
    typed without its answer is kept, so that validation asks for the answer instead of
    the grade vanishing."""
    form = entry.form
    texts = [
        getattr(form, name).data
        for name in ("text", "feedback", "value", "left", "right")
        if hasattr(form, name)
    ]
    fraction = getattr(form, "fraction", None)
    graded = fraction is not None and _number(fraction.data) != 0
    return _blank(*texts) and not graded


class MultiChoiceForm(QuestionForm):
    list_fields = ("answers",)
    single = RadioField(
        _l("Answers a learner may choose"),
        choices=[
            SelectChoice("1", _l("One answer only")),
            SelectChoice("0", _l("Several answers")),
        ],
        default="1",
    )
    shuffle = BooleanField(_l("Shuffle the answers"), default=True)
    answers = _rows(ChoiceRow, _l("Answers"))

    def type_data(self) -> dict[str, Any]:
        answers, rows = [], []
        for index, entry in enumerate(self.answers.entries):
            row = entry.form
            if _row_blank(entry):
                continue
            rows.append(index)
            answers.append(
                {
                    "text": (row.text.data or "").strip(),
                    "format": self.text_format.data or "moodle",
                    "fraction": _number(row.fraction.data) / 100,
                    "feedback": (row.feedback.data or "").strip(),
                }
            )
        self.row_map["answers"] = rows
        return {"single": self.single.data != "0", "answers": answers, "shuffle": self.shuffle.data}

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "single": "1" if data.get("single", True) else "0",
            "shuffle": bool(data.get("shuffle", True)),
            "answers": [
                {
                    "text": a.get("text", ""),
                    "fraction": _percent_text(a.get("fraction", 0)),
                    "feedback": a.get("feedback", ""),
                }
                for a in data.get("answers", [])
            ],
        }


class TrueFalseForm(QuestionForm):
    correct = RadioField(
        _l("The statement is"),
        choices=[SelectChoice("true", _l("True")), SelectChoice("false", _l("False"))],
        validators=[InputRequired(_l("Say whether the statement is true or false."))],
    )
    feedback_true = TextAreaField(
        _l("Feedback for the answer “true”"), validators=[Length(max=5000)]
    )
    feedback_false = TextAreaField(
        _l("Feedback for the answer “false”"), validators=[Length(max=5000)]
    )

    def type_data(self) -> dict[str, Any]:
        return {
            "correct": self.correct.data == "true",
            "feedback_true": (self.feedback_true.data or "").strip(),
            "feedback_false": (self.feedback_false.data or "").strip(),
        }

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "correct": "true" if data.get("correct") else "false",
            "feedback_true": data.get("feedback_true", ""),
            "feedback_false": data.get("feedback_false", ""),
        }


class ShortAnswerForm(QuestionForm):
    list_fields = ("answers",)
    case_sensitive = BooleanField(_l("Upper and lower case must match"))
    answers = _rows(TextAnswerRow, _l("Accepted answers"))

    def type_data(self) -> dict[str, Any]:
        answers, rows = [], []
        for index, entry in enumerate(self.answers.entries):
            row = entry.form
            if _row_blank(entry):
                continue
            rows.append(index)
            answers.append(
                {
                    "text": (row.text.data or "").strip(),
                    "fraction": _number(row.fraction.data) / 100,
                    "feedback": (row.feedback.data or "").strip(),
                }
            )
        self.row_map["answers"] = rows
        return {"answers": answers, "case_sensitive": bool(self.case_sensitive.data)}

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "case_sensitive": bool(data.get("case_sensitive", False)),
            "answers": [
                {
                    "text": a.get("text", ""),
                    "fraction": _percent_text(a.get("fraction", 0)),
                    "feedback": a.get("feedback", ""),
                }
                for a in data.get("answers", [])
            ],
        }


class NumericalForm(QuestionForm):
    list_fields = ("answers",)
    answers = _rows(NumberRow, _l("Accepted answers"))

    def type_data(self) -> dict[str, Any]:
        answers: list[dict[str, Any]] = []
        rows = []
        for index, entry in enumerate(self.answers.entries):
            row = entry.form
            if _row_blank(entry):
                continue
            rows.append(index)
            text = (row.value.data or "").strip()
            answers.append(
                {
                    # A missing number stays missing, for validation to point at it.
                    "value": parse_number(text) if text else None,
                    "tolerance": _number(row.tolerance.data),
                    "fraction": _number(row.fraction.data) / 100,
                    "feedback": (row.feedback.data or "").strip(),
                }
            )
        self.row_map["answers"] = rows
        return {"answers": answers}

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "answers": [
                {
                    "value": _number_text(a.get("value")),
                    "tolerance": _number_text(a.get("tolerance", 0)),
                    "fraction": _percent_text(a.get("fraction", 0)),
                    "feedback": a.get("feedback", ""),
                }
                for a in data.get("answers", [])
            ]
        }


class MatchForm(QuestionForm):
    list_fields = ("pairs",)
    pairs = _rows(PairRow, _l("Pairs"))

    def type_data(self) -> dict[str, Any]:
        pairs, rows = [], []
        for index, entry in enumerate(self.pairs.entries):
            row = entry.form
            if _row_blank(entry):
                continue
            rows.append(index)
            pairs.append(
                {"left": (row.left.data or "").strip(), "right": (row.right.data or "").strip()}
            )
        self.row_map["pairs"] = rows
        return {"pairs": pairs}

    @classmethod
    def fields_from(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "pairs": [
                {"left": p.get("left", ""), "right": p.get("right", "")}
                for p in data.get("pairs", [])
            ]
        }


class EssayForm(QuestionForm):
    """An essay has nothing but the common fields: a teacher grades what is written."""


class DescriptionForm(QuestionForm):
    """A description is only text; it has no mark."""

    default_mark = HiddenField(default="0")


#: The form for each built-in type; a plugin's type without one is made by import only.
FORMS: dict[str, type[QuestionForm]] = {
    "multichoice": MultiChoiceForm,
    "truefalse": TrueFalseForm,
    "shortanswer": ShortAnswerForm,
    "numerical": NumericalForm,
    "match": MatchForm,
    "essay": EssayForm,
    "description": DescriptionForm,
}


class BankFilterForm(GetForm):
    """The bank's list filters, read from the query string."""

    module = SelectField(_l("Module"), choices=[], validators=[Optional()])
    qtype = SelectField(_l("Type"), choices=[], validators=[Optional()])
    language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("All languages")),
            *(SelectChoice(code, label) for code, label in LANGUAGES.items()),
        ],
        validators=[Optional()],
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("current", _l("In use")), SelectChoice("archived", _l("Archived"))],
        default="current",
    )


class TranslationForm(LmsForm):
    other_id = SelectField(_l("Translation of this question"), coerce=int, choices=[])


class ConfirmForm(LmsForm):
    """A button that changes something: only the CSRF token."""
