"""Forms of the certificates pages (Flask-WTF: every POST carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import LmsForm

REASON_LENGTH = 2000
NAME_LENGTH = 300


class ConfirmForm(LmsForm):
    """A button that changes something: only the CSRF token."""


class DesignForm(LmsForm):
    design = SelectField(_l("Design"), validators=[DataRequired()])
    language = SelectField(_l("Language of the certificate"), validators=[DataRequired()])


class ManualIssueForm(LmsForm):
    recipient = SelectField(_l("Member"), coerce=int, validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason for issuing by hand"),
        validators=[DataRequired(), Length(max=REASON_LENGTH)],
        description=_l("Kept in the register and the audit log; not printed."),
    )


class RevokeForm(LmsForm):
    reason = TextAreaField(
        _l("Public reason"),
        validators=[DataRequired(), Length(max=REASON_LENGTH)],
        description=_l("Anyone who checks the certificate sees this reason."),
    )


class ReissueForm(LmsForm):
    name = StringField(
        _l("Name as it should be printed"), validators=[DataRequired(), Length(max=NAME_LENGTH)]
    )
    reason = TextAreaField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(max=REASON_LENGTH)]
    )


class RegisterFilterForm(LmsForm):
    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Name or serial number"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])


class VerifyForm(LmsForm):
    class Meta:
        csrf = False  # a GET form anyone may use

    code = StringField(
        _l("Verification code or address"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("As printed under the QR code, for example abcd-efgh-…"),
    )
