"""The item-analysis page of a quiz, and sending a translation gap to the curriculum team."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts.permissions import can
from lms.config import LANGUAGES
from lms.errors import LmsError, NotAllowed
from lms.extensions import db
from lms.pagecache import cached_page
from quizzes import analysis, quiz_service
from quizzes.models import Quiz
from quizzes.views import bp


def _analysable_quiz(quiz_id: int) -> Quiz:
    """Authors of questions and the cohort's own trainers or teachers may read it: both
    act on it (one rewrites questions, the other reteaches)."""
    quiz = quiz_service.get_quiz(quiz_id)
    cohort = quiz_service.cohort_of(quiz)
    if not (
        can(current_user, "quizzes.author", cohort) or can(current_user, "cohorts.manage", cohort)
    ):
        raise NotAllowed()
    return quiz


@bp.get("/quizzes/<int:quiz_id>/analysis", endpoint="analysis")
@login_required
@cached_page
def analysis_page(quiz_id: int) -> Any:
    quiz = _analysable_quiz(quiz_id)
    return render_template(
        "quizzes/analysis.html",
        quiz=quiz,
        result=analysis.analyse(quiz),
        threshold=analysis.facility_gap(),
        languages=LANGUAGES,
    )


@bp.get("/quizzes/<int:quiz_id>/analysis/languages", endpoint="analysis_languages")
@login_required
def analysis_languages(quiz_id: int) -> Any:
    """The quiz's questions compared across languages, over every quiz of the manual.

    A page of its own: it reads the answers of every quiz that shares these questions (a
    million at a national scale), which the quiz's own analysis does not need to wait for.
    """
    quiz = _analysable_quiz(quiz_id)
    return render_template(
        "quizzes/analysis_languages.html",
        quiz=quiz,
        gaps=analysis.translation_gaps(analysis.analyse(quiz)),
        threshold=analysis.facility_gap(),
        languages=LANGUAGES,
    )


@bp.post("/quizzes/<int:quiz_id>/analysis/feedback", endpoint="analysis_feedback")
@login_required
def analysis_feedback(quiz_id: int) -> Any:
    """The "Send as feedback on the module" button of a flagged translation gap."""
    quiz = _analysable_quiz(quiz_id)
    try:
        group = int(request.form.get("group") or 0)
    except ValueError:
        group = 0
    try:
        number = analysis.send_gap_feedback(
            quiz,
            group=group,
            weak_language=request.form.get("weak", ""),
            strong_language=request.form.get("strong", ""),
            actor_id=current_user.id,
        )
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Sent to the curriculum team as feedback no. %(n)s.", n=number), "success")
    return redirect(url_for("quizzes.analysis_languages", quiz_id=quiz.id))
