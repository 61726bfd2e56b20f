"""Account forms (Flask-WTF: CSRF included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from lms.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from lms.config import LANGUAGES
from lms.forms import LmsForm


class LoginForm(LmsForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class ConfirmForm(LmsForm):
    """Typing the password again before a sensitive action."""

    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )


class ChangePasswordForm(LmsForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
        description=_l(
            "At least %(n)s characters, in any alphabet. A phrase of a few words is easier to "
            "remember and safer; very common passwords and your user name are refused.",
            n=MIN_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ProfileForm(LmsForm):
    preferred_language = SelectField(
        _l("Language of the pages"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
        validators=[DataRequired()],
    )
    email = StringField(_l("E-mail (optional)"), validators=[Length(max=254)])
    phone = StringField(_l("Phone (optional)"), validators=[Length(max=32)])
