"""Forms for the cohort pages. Choices that depend on the user or the plugins are set by views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from lms.forms import LmsForm
from lms.organisations.forms import GetForm, optional_int

KIND_LABELS = {"tot": _l("ToT cohort"), "class": _l("Madrasa class")}

STATUS_CHOICES = [
    SelectChoice("current", _l("Current")),
    SelectChoice("archived", _l("Archived")),
    SelectChoice("all", _l("All")),
]

COMPLETED = "completed"
NOT_COMPLETED = "not_completed"


class CohortFilterForm(GetForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("", _l("All kinds")),
            *(SelectChoice(kind, label) for kind, label in KIND_LABELS.items()),
        ],
        validators=[Optional()],
    )
    region = SelectField(_l("Region"), coerce=optional_int, validators=[Optional()])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="current")


class _CohortForm(LmsForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    starts_on = DateField(_l("Start date"), validators=[InputRequired()])
    ends_on = DateField(_l("End date"), validators=[Optional()])
    manual = SelectField(_l("Manual"), validators=[Optional()], validate_choice=False)
    completion_rule = SelectField(_l("Completion rule"), validators=[DataRequired()])

    def validate_ends_on(self, field: DateField) -> None:
        """Say so next to the field at once; the service checks it again."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date cannot be before the start date."))


class TotCohortForm(_CohortForm):
    """A Training-of-Trainers cohort: held in a region, at a venue."""

    region_id = SelectField(_l("Region"), coerce=optional_int, validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])


class ClassCohortForm(_CohortForm):
    """A class taught in one madrasa."""

    madrasa_id = SelectField(_l("Madrasa"), coerce=optional_int, validators=[DataRequired()])


class AddMemberForm(LmsForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The person's user name, as they use it to log in."),
    )
    role = SelectField(_l("Role in the cohort"), validators=[DataRequired()])


class MarkCompletionForm(LmsForm):
    outcome = SelectField(
        _l("Completion"),
        choices=[
            SelectChoice(COMPLETED, _l("Completed")),
            SelectChoice(NOT_COMPLETED, _l("Not completed")),
        ],
        validators=[DataRequired()],
    )


class ConfirmForm(LmsForm):
    """A button that changes something: only the CSRF token."""
