"""Paper-mode pages: the printable quiz with its answer sheet, and the entry of sheets."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.permissions import permission_required, require
from lms.errors import LmsError
from lms.extensions import db
from lms.pdf import html_to_pdf
from quizzes import paper, quiz_service
from quizzes.models import Quiz
from quizzes.views import bp


def _managed_quiz(quiz_id: int) -> Quiz:
    """The quiz, if the user manages its cohort (paper is the cohort teacher's job)."""
    quiz = quiz_service.get_quiz(quiz_id)
    require("cohorts.manage", quiz_service.cohort_of(quiz))
    return quiz


@bp.get("/quizzes/<int:quiz_id>/paper.pdf", endpoint="paper_pdf")
@permission_required("cohorts.manage")
def paper_pdf(quiz_id: int) -> Any:
    """The quiz printed in its own language (labels included), then the answer sheet."""
    quiz = _managed_quiz(quiz_id)
    with force_locale(quiz.language):
        questions = paper.paper_questions(quiz)
        html = render_template(
            "quizzes/paper_pdf.html",
            quiz=quiz,
            questions=questions,
            numbered=paper.answerable(questions),
            width=paper.sheet_width(questions),
        )
    return Response(
        html_to_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{paper.pdf_filename(quiz)}"'},
    )


@bp.route("/quizzes/<int:quiz_id>/paper-entry", methods=["GET", "POST"], endpoint="paper_entry")
@permission_required("cohorts.manage")
def paper_entry(quiz_id: int) -> Any:
    """Pick a learner, type the letters from their sheet, save; the next learner not yet
    entered comes up at once, so a class of thirty is a few minutes' work."""
    quiz = _managed_quiz(quiz_id)
    questions = paper.paper_questions(quiz)
    people = paper.learners(quiz)
    entered = paper.paper_attempts(quiz)
    source = request.form if request.method == "POST" else request.args
    try:
        user_id = int(source.get("user_id") or 0)
    except ValueError:
        user_id = 0
    learner = next((person for person in people if person.id == user_id), None)
    entry = paper.Entry()
    status = 200
    if request.method == "POST" and learner is not None:
        entry = paper.read_entry(questions, request.form)
        try:
            attempt, corrected = paper.save_paper_attempt(
                quiz, learner.id, questions, entry, actor=current_user
            )
        except LmsError as error:
            db.session.rollback()
            entry.errors.update(error.field_errors)
            if not error.field_errors:
                flash(str(error.message), "error")
            status = 400
        else:
            db.session.commit()
            if attempt.percent is None:
                message = _("Saved for %(name)s; the essays still need a mark.", name=learner.name)
            elif corrected:
                message = _(
                    "Corrected for %(name)s: %(percent)s%%.",
                    name=learner.name,
                    percent=f"{attempt.percent:.0f}",
                )
            else:
                message = _(
                    "Saved for %(name)s: %(percent)s%%.",
                    name=learner.name,
                    percent=f"{attempt.percent:.0f}",
                )
            flash(message, "success")
            entered[learner.id] = attempt
            following = next((p for p in people if p.id not in entered), None)
            return redirect(
                url_for(
                    "quizzes.paper_entry",
                    quiz_id=quiz.id,
                    **({"user_id": following.id} if following else {}),
                )
            )
    elif request.method == "POST":
        flash(_("Choose a learner of this cohort."), "error")
        status = 400
    elif learner is not None and learner.id in entered:
        entry = paper.entry_from_attempt(questions, entered[learner.id])
    return (
        render_template(
            "quizzes/paper_entry.html",
            quiz=quiz,
            questions=questions,
            numbered=paper.answerable(questions),
            people=people,
            entered=entered,
            learner=learner,
            entry=entry,
        ),
        status,
    )
