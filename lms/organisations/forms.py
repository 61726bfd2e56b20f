"""Forms for the madrasa pages (Flask-WTF: CSRF on the forms that change something)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import LmsForm
from lms.organisations.models import Region


def region_choices(regions: list[Region], *, blank: Any = None) -> list[SelectChoice]:
    """Choices for a region select; ``blank`` adds a first "any/choose" option."""
    choices = [SelectChoice(str(region.id), region.name) for region in regions]
    if blank is not None:
        choices.insert(0, SelectChoice("", blank))
    return choices


def optional_int(value: Any) -> int | None:
    """Coerce for selects with an empty first option: "" → None, digits → int."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class GetForm(LmsForm):
    """A filter form read from the query string: no CSRF, nothing changes."""

    class Meta:
        csrf = False


class MadrasaFilterForm(GetForm):
    region = SelectField(_l("Region"), coerce=optional_int, validators=[Optional()])


class MadrasaForm(LmsForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region_id = SelectField(_l("Region"), coerce=optional_int, validators=[DataRequired()])
    locality = StringField(_l("Town or village"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
