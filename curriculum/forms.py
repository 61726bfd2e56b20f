"""Curriculum forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.forms import LmsForm


class ManualForm(LmsForm):
    slug = StringField(
        _l("Short name"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Used in addresses and files, e.g. health-basics."),
    )
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    title_ru = StringField(_l("Title in Russian"), validators=[Length(max=200)])
    title_ky = StringField(_l("Title in Kyrgyz"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
