"""Account forms (Flask-WTF: CSRF included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from lms.config import LANGUAGES
from lms.forms import LmsForm


class LoginForm(LmsForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ChangePasswordForm(LmsForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=8, max=128)],
        description=_l("At least 8 characters. A long phrase is easier to remember and safer."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class ProfileForm(LmsForm):
    preferred_language = SelectField(
        _l("Language of the pages"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
        validators=[DataRequired()],
    )
    email = StringField(_l("E-mail (optional)"), validators=[Length(max=254)])
    phone = StringField(_l("Phone (optional)"), validators=[Length(max=32)])
