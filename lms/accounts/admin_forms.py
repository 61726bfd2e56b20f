"""Forms of the admin pages for accounts: filter, create, edit, password, roles, CSV import.

Choices are ``SelectChoice`` objects; the place a role is limited to is one select whose
options come from the database (``with_scopes``), grouped by kind of place.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length, Optional

from lms.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from lms.accounts.roles import EXPERTISE, ROLES, SEXES
from lms.config import LANGUAGES
from lms.forms import LmsForm

STATUSES = {"active": _l("Active"), "disabled": _l("Disabled")}

#: Group labels of the scope select, by kind of place.
SCOPE_GROUPS = {"region": _l("Regions"), "madrasa": _l("Madrasas"), "cohort": _l("Cohorts")}


def _choices(items: dict[str, Any], empty: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice("", empty)] if empty is not None else []
    return [*choices, *(SelectChoice(value, label) for value, label in items.items())]


def _sex_field() -> RadioField:
    return RadioField(
        _l("Sex"),
        choices=_choices(SEXES),
        validators=[DataRequired(message=_l("Choose female or male."))],
    )


def _language_field() -> SelectField:
    return SelectField(
        _l("Language of the pages"),
        choices=_choices(LANGUAGES),
        default="ru",
        validators=[DataRequired()],
    )


class UserFilterForm(LmsForm):
    """The list's search and filters: a GET form, so no CSRF token and bookmarkable."""

    class Meta:
        csrf = False

    q = SearchField(_l("Name or user name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_choices(ROLES, _l("All roles")), default="")
    status = SelectField(_l("Status"), choices=_choices(STATUSES, _l("All")), default="")


class RoleFieldsMixin:
    """Role, place and expertise: shared by the new-user and the grant-role forms."""

    role: SelectField
    scope: SelectField

    def with_scopes(self, options: list[tuple[str, str, str]]) -> None:
        """Fill the place select from ``services.scope_options()`` (kind, value, label)."""
        self.scope.choices = [
            SelectChoice(value, label, optgroup=str(SCOPE_GROUPS[kind]) if kind else None)
            for kind, value, label in options
        ]


def _scope_field() -> SelectField:
    return SelectField(_l("Where the role applies"), default="")


def _expertise_field() -> SelectField:
    return SelectField(
        _l("Expertise (expert reviewers only)"),
        choices=_choices(EXPERTISE, _l("— none —")),
        default="",
    )


class NewUserForm(RoleFieldsMixin, LmsForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Latin letters, digits, dots, dashes or underscores, e.g. aida.tokto."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    sex = _sex_field()
    preferred_language = _language_field()
    email = EmailField(_l("E-mail (optional)"), validators=[Length(max=254)])
    phone = TelField(_l("Phone (optional)"), validators=[Length(max=32)])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
        description=_l(
            "%(min)s to %(max)s characters. Tell it to the person; they can change it under "
            "“My account”.",
            min=MIN_LENGTH,
            max=MAX_LENGTH,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    role = SelectField(_l("Role"), choices=_choices(ROLES, _l("— no role yet —")))
    scope = _scope_field()
    expertise = _expertise_field()


class EditUserForm(LmsForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    sex = _sex_field()
    preferred_language = _language_field()
    email = EmailField(_l("E-mail (optional)"), validators=[Length(max=254)])
    phone = TelField(_l("Phone (optional)"), validators=[Length(max=32)])


class SetPasswordForm(LmsForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
        description=_l("The person is logged out everywhere and logs in with this password."),
        render_kw={"autocomplete": "new-password"},
    )


class GrantRoleForm(RoleFieldsMixin, LmsForm):
    role = SelectField(
        _l("Role"),
        choices=_choices(ROLES, _l("— choose —")),
        validators=[DataRequired(message=_l("Choose a role."))],
    )
    scope = _scope_field()
    expertise = _expertise_field()


class ImportForm(LmsForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a CSV file."))],
        description=_l("UTF-8, separated by commas or semicolons, with a header row."),
        render_kw={"accept": ".csv,text/csv"},
    )
