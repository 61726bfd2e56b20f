"""Curriculum forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.accounts.roles import EXPERTISE
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


class DraftForm(LmsForm):
    text = TextAreaField(
        _l("Module text"),
        validators=[DataRequired(), Length(max=400_000)],
        description=_l(
            "Front matter, then blocks. Keep each {#p-…} line above its block; "
            "a new block without one gets an id when you save."
        ),
    )
    change_summary = TextAreaField(
        _l("What changed and why"),
        validators=[Length(max=2000)],
        description=_l("Reviewers see this first."),
    )
    lock_version = HiddenField()


class DecisionForm(LmsForm):
    decision = RadioField(
        _l("Your decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("approve_with_reservation", _l("Approve with a reservation")),
            SelectChoice("request_changes", _l("Request changes")),
        ],
        validators=[DataRequired()],
    )
    reasons = TextAreaField(
        _l("Reasons or reservation"),
        validators=[Length(max=5000)],
        description=_l("Needed for a reservation or a request for changes."),
    )


class CommentForm(LmsForm):
    paragraph_id = HiddenField()
    parent_id = HiddenField()
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])


class DismissForm(LmsForm):
    reason = TextAreaField(
        _l("Reason for dismissing"), validators=[DataRequired(), Length(max=2000)]
    )


class SeatForm(LmsForm):
    username = StringField(_l("Reviewer's user name"), validators=[DataRequired(), Length(max=64)])
    domain = SelectField(
        _l("Domain"),
        choices=[SelectChoice(key, label) for key, label in EXPERTISE.items()],
        validators=[DataRequired()],
    )


class PolicyForm(LmsForm):
    policy = RadioField(
        _l("Approval policy"),
        choices=[
            SelectChoice("unanimous", _l("Unanimous: every seat approves")),
            SelectChoice("quorum", _l("Quorum: enough approvals in each domain")),
        ],
        validators=[DataRequired()],
    )
    theology = IntegerField(_l("Theology"), validators=[Optional(), NumberRange(0, 20)])
    public_policy = IntegerField(_l("Public policy"), validators=[Optional(), NumberRange(0, 20)])
    civic_education = IntegerField(
        _l("Civic education"), validators=[Optional(), NumberRange(0, 20)]
    )
    methodology = IntegerField(_l("Methodology"), validators=[Optional(), NumberRange(0, 20)])
    health = IntegerField(_l("Health"), validators=[Optional(), NumberRange(0, 20)])
