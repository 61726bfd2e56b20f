"""Quiz forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.forms import LmsForm


class BankForm(LmsForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    manual_slug = SelectField(_l("Manual"), validators=[DataRequired()], choices=[])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
