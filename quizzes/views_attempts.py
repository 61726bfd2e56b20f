"""Taking a quiz (phone-first, no JavaScript), reviewing an attempt, and the essay grading
queue. Routes live on the plugin's blueprint; the rules are in ``quizzes.attempts``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts.models import User
from lms.accounts.permissions import can, permission_required, require
from lms.errors import LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.timeutil import utcnow
from quizzes import attempts, quiz_service
from quizzes.forms_quizzes import AttemptPageForm, GradeForm, StartForm, SubmitForm
from quizzes.models import GRADED, IN_PROGRESS, Answer, Attempt, Quiz
from quizzes.quiz_service import KIND_LABELS
from quizzes.views import bp


def _staff(cohort: Any) -> bool:
    """Those who see every attempt of the cohort in full."""
    return can(current_user, "quizzes.grade", cohort) or can(current_user, "progress.view", cohort)


def _own_attempt(attempt_id: int) -> tuple[Attempt, Quiz]:
    attempt = attempts.get_attempt(attempt_id)
    if attempt.user_id != current_user.id:
        raise NotAllowed()
    return attempt, quiz_service.get_quiz(attempt.quiz_id)


def _page(value: Any) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


@bp.get("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int) -> Any:
    """A quiz as a learner sees it: what it is, their attempts, start or resume."""
    found = quiz_service.get_quiz(quiz_id)
    cohort = quiz_service.cohort_of(found)
    manage = can(current_user, "cohorts.manage", cohort)
    staff = manage or _staff(cohort)
    taker = attempts.may_take(current_user, found, cohort)
    if not found.published and not manage:
        raise NotFound()
    if not (staff or taker):
        raise NotAllowed()
    now = utcnow()
    mine: list[Attempt] = []
    if taker:
        if attempts.finish_overdue(found, user_id=current_user.id, now=now):
            db.session.commit()
        mine = attempts.attempts_of(found.id, current_user.id)
    unfinished = next((a for a in mine if a.status == IN_PROGRESS), None)
    return render_template(
        "quizzes/quiz.html",
        quiz=found,
        cohort=cohort,
        manage=manage,
        staff=staff,
        taker=taker,
        mine=mine,
        unfinished=unfinished,
        left=attempts.attempts_left(found, len(mine)),
        state=quiz_service.availability(found, now),
        question_count=quiz_service.question_count(found),
        start_form=StartForm(formdata=None, key=attempts.new_key()),
        visibility={a.id: attempts.visibility(found, a, staff=False, now=now) for a in mine},
        kinds=KIND_LABELS,
    )


@bp.post("/quizzes/<int:quiz_id>/start")
@login_required
def start(quiz_id: int) -> Any:
    """Start (or resume) an attempt; the form's key makes a repeated post harmless."""
    found = quiz_service.get_quiz(quiz_id)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attempt = attempts.start_attempt(found, current_user, form.key.data)
    except LmsError as error:
        db.session.rollback()
        if error.status_code == 403:
            raise
        flash(str(error.message), "error")
        return redirect(url_for("quizzes.quiz", quiz_id=quiz_id))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: int) -> Any:
    """One page of questions. Every button saves the page first (Save, Previous, Next,
    Finish), so a learner whose connection drops loses at most the page they were on."""
    found, quiz_ = _own_attempt(attempt_id)
    now = utcnow()
    if found.status == IN_PROGRESS and attempts.is_overdue(quiz_, found, now):
        attempts.submit_attempt(found, current_user, now=now)
        db.session.commit()
        flash(
            _("The time is up. Your attempt was submitted with the answers you saved."), "warning"
        )
    if found.status != IN_PROGRESS:
        return redirect(url_for("quizzes.review", attempt_id=attempt_id))
    if request.method == "POST":
        form = AttemptPageForm()
        if not form.validate_on_submit():
            abort(400)
        page = _page(form.page.data)
        if not attempts.save_responses(found, current_user, request.form, page, now=now):
            # Too late to take these answers: submit what was saved before the deadline.
            attempts.submit_attempt(found, current_user, now=now)
            db.session.commit()
            flash(
                _(
                    "The time was up, so the last answers were not saved."
                    " Your attempt was submitted."
                ),
                "warning",
            )
            return redirect(url_for("quizzes.review", attempt_id=attempt_id))
        db.session.commit()
        action = request.form.get("action", "save")
        if action == "finish":
            return redirect(url_for("quizzes.attempt_summary", attempt_id=attempt_id))
        target = page + {"next": 1, "prev": -1}.get(action, 0)
        if action == "save":
            flash(_("Your answers have been saved."), "success")
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, page=target))
    pages = attempts.page_count(found)
    page = min(_page(request.args.get("page")), pages)
    return render_template(
        "quizzes/attempt.html",
        attempt=found,
        quiz=quiz_,
        page=page,
        pages=pages,
        questions=attempts.question_views(attempts.page_answers(found, page)),
        form=AttemptPageForm(formdata=None, key=found.idempotency_key, page=page),
        deadline=attempts.deadline(quiz_, found),
        minutes_left=_minutes_left(quiz_, found, now),
    )


def _minutes_left(quiz_: Quiz, found: Attempt, now: Any) -> int | None:
    ends = attempts.deadline(quiz_, found)
    if ends is None:
        return None
    return max(0, int((ends - now).total_seconds() // 60))


@bp.get("/attempts/<int:attempt_id>/summary")
@login_required
def attempt_summary(attempt_id: int) -> Any:
    """What is answered and what is not, and the one button that submits."""
    found, quiz_ = _own_attempt(attempt_id)
    if found.status != IN_PROGRESS:
        return redirect(url_for("quizzes.review", attempt_id=attempt_id))
    answered, total = attempts.progress_counts(found)
    views = attempts.question_views(found.answers)
    return render_template(
        "quizzes/attempt_summary.html",
        attempt=found,
        quiz=quiz_,
        answered=answered,
        total=total,
        questions=views,
        page_size=attempts.PAGE_SIZE,
        form=SubmitForm(formdata=None, key=found.idempotency_key),
        minutes_left=_minutes_left(quiz_, found, utcnow()),
    )


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int) -> Any:
    """Submit once: a repeat (double tap, resent request) finds it submitted and shows it."""
    found, _quiz = _own_attempt(attempt_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attempts.submit_attempt(found, current_user, key=form.key.data)
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("quizzes.attempt_summary", attempt_id=attempt_id))
    db.session.commit()
    return redirect(url_for("quizzes.review", attempt_id=attempt_id))


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int) -> Any:
    """A submitted attempt: as much as the quiz lets the learner see; all of it for staff."""
    found = attempts.get_attempt(attempt_id)
    quiz_ = quiz_service.get_quiz(found.quiz_id)
    cohort = quiz_service.cohort_of(quiz_)
    own = found.user_id == current_user.id
    staff = _staff(cohort)
    if not (own or staff):
        raise NotAllowed()
    if found.status == IN_PROGRESS and own:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))
    seen = attempts.visibility(quiz_, found, staff=staff)
    learner = db.session.get(User, found.user_id) if staff and not own else None
    return render_template(
        "quizzes/attempt_review.html",
        attempt=found,
        quiz=quiz_,
        cohort=cohort,
        learner=learner,
        seen=seen,
        staff=staff,
        questions=attempts.question_views(found.answers, review=seen.feedback),
    )


# --- grading essays --------------------------------------------------------------------------


@bp.get("/grading")
@permission_required("quizzes.grade")
def grading() -> Any:
    """Essay answers waiting for a mark, oldest first, in the cohorts where the user grades."""
    return render_template("quizzes/grading.html", entries=attempts.grading_queue(current_user))


@bp.post("/grading/answers/<int:answer_id>")
@permission_required("quizzes.grade")
def grade_answer(answer_id: int) -> Any:
    answer = db.session.get(Answer, answer_id)
    if answer is None:
        raise NotFound()
    quiz_ = quiz_service.get_quiz(answer.attempt.quiz_id)
    require("quizzes.grade", quiz_service.cohort_of(quiz_))
    form = GradeForm()
    if not form.validate_on_submit():
        flash(_("Enter a mark from 0 to %(max)s.", max=answer.max_mark), "error")
        return redirect(url_for("quizzes.grading"))
    try:
        done = attempts.grade_manually(
            answer_id, current_user, mark=form.mark.data, feedback=form.feedback.data or ""
        )
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("quizzes.grading"))
    db.session.commit()
    if done.status == GRADED:
        flash(_("The mark has been saved; the attempt is now fully graded."), "success")
    else:
        flash(_("The mark has been saved."), "success")
    return redirect(url_for("quizzes.grading"))
