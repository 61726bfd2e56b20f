"""Forms for quizzes, slots, attempts and grading. Choices that depend on the cohort or the
banks are set by the views; the services check every value again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.config import LANGUAGES
from lms.forms import LmsForm
from lms.organisations.forms import optional_int
from quizzes.quiz_service import KIND_LABELS, SHOW_RESULTS_LABELS

#: What <input type="datetime-local"> sends (seconds are optional in browsers).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class QuizForm(LmsForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()]
    )
    language = SelectField(
        _l("Language of the questions"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
    )
    attempts_allowed = IntegerField(
        _l("Attempts allowed (0: unlimited)"),
        default=1,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    time_limit_minutes = IntegerField(
        _l("Time limit in minutes (empty: none)"),
        validators=[Optional(), NumberRange(min=1, max=24 * 60)],
    )
    shuffle_questions = BooleanField(_l("Shuffle the questions"))
    shuffle_answers = BooleanField(_l("Shuffle the answers within questions"), default=True)
    pass_mark = FloatField(
        _l("Pass mark (%)"), default=60.0, validators=[InputRequired(), NumberRange(0, 100)]
    )
    show_results = SelectField(
        _l("Show learners their results"),
        choices=[SelectChoice(k, label) for k, label in SHOW_RESULTS_LABELS.items()],
    )
    show_feedback = BooleanField(
        _l("With the right answers and feedback, when results are shown"), default=True
    )
    opens_at = DateTimeLocalField(
        _l("Opens at (empty: as soon as published)"),
        format=DATETIME_FORMATS,
        validators=[Optional()],
    )
    closes_at = DateTimeLocalField(
        _l("Closes at (empty: never)"), format=DATETIME_FORMATS, validators=[Optional()]
    )


class QuestionSlotForm(LmsForm):
    question_id = SelectField(
        _l("Question"), coerce=optional_int, choices=[], validators=[InputRequired()]
    )
    mark = FloatField(
        _l("Mark (empty: the question's own)"), validators=[Optional(), NumberRange(0, 1000)]
    )


class RandomSlotForm(LmsForm):
    bank_id = SelectField(
        _l("Question bank"), coerce=optional_int, choices=[], validators=[InputRequired()]
    )
    module_slug = SelectField(_l("Module"), choices=[], validators=[Optional()])
    count = IntegerField(
        _l("Number of questions"), default=1, validators=[InputRequired(), NumberRange(1, 200)]
    )
    mark = FloatField(
        _l("Mark of each (empty: the question's own)"),
        validators=[Optional(), NumberRange(0, 1000)],
    )


class ConfirmForm(LmsForm):
    """A button that changes something: only the CSRF token."""


class StartForm(LmsForm):
    """Start or resume; ``key`` is made when the page is rendered, so a repeat of this very
    form never makes a second attempt."""

    key = HiddenField()


class AttemptPageForm(LmsForm):
    """The CSRF token and the page being saved; the answers' own fields are read by their
    question types from the posted form."""

    key = HiddenField()
    page = HiddenField()


class SubmitForm(LmsForm):
    key = HiddenField()


class GradeForm(LmsForm):
    mark = FloatField(_l("Mark"), validators=[InputRequired(), NumberRange(min=0)])
    feedback = TextAreaField(_l("Feedback to the learner"), validators=[Length(max=5000)])
