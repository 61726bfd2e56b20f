"""Forms for the schedule and the attendance page.

Module choices depend on the cohort's edition and the attendance fields on its learners, so
views fill the choices in and build the attendance form per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lessons.models import PRESENT, TOT_STAGES
from lessons.sessions import STATUSES
from lms.accounts.models import User
from lms.forms import LmsForm
from lms.organisations.forms import optional_int

DURATION_HINT = _l("In minutes. Leave empty to use the module's length (or 45).")


def mark_field(user_id: int) -> str:
    """The name of a learner's attendance field; the API uses user ids the same way."""
    return f"mark_{user_id}"


class _ModuleOrTitle(LmsForm):
    module_version_id = SelectField(
        _l("Module"), coerce=optional_int, validators=[Optional()], choices=[]
    )
    title = StringField(
        _l("Or a title"),
        validators=[Optional(), Length(max=200)],
        description=_l("For a session that teaches no module, e.g. a ToT training day."),
    )


class PlanSessionForm(_ModuleOrTitle):
    """A session for the schedule."""

    held_on = DateField(_l("Date"), validators=[InputRequired()])
    duration_minutes = IntegerField(
        _l("Length"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=DURATION_HINT,
    )
    stage = SelectField(
        _l("ToT stage"),
        choices=[SelectChoice("", _l("—")), *(SelectChoice(s, s) for s in TOT_STAGES)],
        validators=[Optional()],
    )
    day = IntegerField(_l("Day of the stage"), validators=[Optional(), NumberRange(min=1, max=60)])


class RecordNowForm(_ModuleOrTitle):
    """The shortcut: a session for today, then straight to the attendance page."""


class ConfirmForm(LmsForm):
    """Only the CSRF token, for buttons such as "Cancel this session"."""


class RecordForm(LmsForm):
    """Date, length and notes; one attendance field per learner is added by ``record_form``."""

    held_on = DateField(_l("Date"), validators=[InputRequired()])
    duration_minutes = IntegerField(
        _l("Length in minutes"), validators=[InputRequired(), NumberRange(min=1, max=600)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


def status_choices() -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in STATUSES.items()]


def record_form(
    learners: list[User],
    marks: Mapping[int, str],
    *,
    held_on: date,
    duration_minutes: int,
    notes: str,
) -> RecordForm:
    """The attendance form for these learners: their recorded mark, else "present" preselected,
    so a teacher only taps the absentees."""

    class _Form(RecordForm):
        pass

    for learner in learners:
        setattr(
            _Form,
            mark_field(learner.id),
            RadioField(
                learner.name,
                choices=status_choices(),
                validators=[InputRequired(message=_l("Mark present, absent or excused."))],
            ),
        )
    form = _Form(held_on=held_on, duration_minutes=duration_minutes, notes=notes)
    if not form.is_submitted():
        # Not as a field default: a posted form missing a mark must show it unmarked.
        for learner in learners:
            form[mark_field(learner.id)].data = marks.get(learner.id, PRESENT)
    return form
