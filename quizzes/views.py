"""Pages of the quizzes plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from curriculum import api as curriculum
from lms.accounts.permissions import can, permission_required
from lms.errors import LmsError
from lms.extensions import db
from lms.forms import apply_field_errors
from quizzes import services
from quizzes.forms import BankForm
from quizzes.models import QuestionBank

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes", template_folder="templates")


@bp.route("/", methods=["GET", "POST"])
@permission_required("quizzes.author")
def index() -> Any:
    """The question banks, and a form to add one."""
    form = BankForm()
    # Only banks the user may author, and new ones only where they could then author them
    # (a bank lies in its manual's scope): an editor of one manual works in that manual.
    form.manual_slug.choices = [
        choice
        for choice in curriculum.manual_choices()
        if can(current_user, "quizzes.author", QuestionBank(manual_slug=choice.value))
    ]
    if form.validate_on_submit():
        try:
            services.create_bank(
                name=form.name.data or "",
                manual_slug=form.manual_slug.data or "",
                description=form.description.data or "",
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The question bank has been created."), "success")
            return redirect(url_for("quizzes.index"))
    titles = {choice.value: choice.label for choice in form.manual_slug.choices}
    return render_template(
        "quizzes/index.html",
        banks=[b for b in services.list_banks() if can(current_user, "quizzes.author", b)],
        form=form,
        titles=titles,
    )
