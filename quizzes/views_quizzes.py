"""Quiz pages for trainers and teachers: a cohort's quizzes, editing one and its slots,
publishing, results, CSV and pre/post gains. Routes live on the plugin's blueprint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required

from lms.accounts.permissions import can, permission_required, require
from lms.cohorts.models import Cohort
from lms.cohorts.services import get_cohort
from lms.errors import LmsError
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.timeutil import utcnow
from quizzes import attempts, quiz_service, results
from quizzes.forms_quizzes import ConfirmForm, QuestionSlotForm, QuizForm, RandomSlotForm
from quizzes.models import Quiz
from quizzes.quiz_service import KIND_LABELS, SHOW_RESULTS_LABELS, QuizSettings
from quizzes.views import bp


def _utc(value: datetime | None) -> datetime | None:
    """A time typed in the user's time zone, as the naive UTC the database keeps."""
    return to_utc(value) if value is not None else None


def _local(value: datetime | None) -> datetime | None:
    return to_user_timezone(value).replace(tzinfo=None) if value is not None else None


def _settings(form: QuizForm) -> QuizSettings:
    return QuizSettings(
        title=form.title.data or "",
        kind=form.kind.data or "",
        language=form.language.data or "",
        attempts_allowed=form.attempts_allowed.data,  # type: ignore[arg-type]
        time_limit_minutes=form.time_limit_minutes.data,
        shuffle_questions=bool(form.shuffle_questions.data),
        shuffle_answers=bool(form.shuffle_answers.data),
        pass_mark=form.pass_mark.data,  # type: ignore[arg-type]
        show_results=form.show_results.data or "",
        show_feedback=bool(form.show_feedback.data),
        opens_at=_utc(form.opens_at.data),
        closes_at=_utc(form.closes_at.data),
    )


def _managed_quiz(quiz_id: int) -> tuple[Quiz, Cohort]:
    quiz = quiz_service.get_quiz(quiz_id)
    cohort = quiz_service.cohort_of(quiz)
    require("cohorts.manage", cohort)
    return quiz, cohort


@bp.route("/cohorts/<int:cohort_id>/quizzes", methods=["GET", "POST"])
@login_required
def cohort_quizzes(cohort_id: int) -> Any:
    """The cohort's quizzes; those who manage the cohort also create them here."""
    cohort = get_cohort(cohort_id)
    require("cohorts.view", cohort)
    manage = can(current_user, "cohorts.manage", cohort)
    form = QuizForm() if manage else None
    if request.method == "POST":
        require("cohorts.manage", cohort)
        assert form is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        if form.validate_on_submit():
            try:
                quiz = quiz_service.create_quiz(cohort, _settings(form), actor_id=current_user.id)
            except LmsError as error:
                db.session.rollback()
                apply_field_errors(form, error)
            else:
                db.session.commit()
                flash(_("The quiz has been created. Now add its questions."), "success")
                return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id))
    if form is not None and request.method == "GET":
        form.language.data = str(current_user.preferred_language or "en")
    now = utcnow()
    mine = {}
    if attempts.is_learner(cohort.id, current_user.id):
        for quiz, row in results.learner_results(current_user.id, cohort.id):
            best = row.best
            if best is not None and attempts.visibility(quiz, best, staff=False, now=now).score:
                mine[quiz.id] = best
    return render_template(
        "quizzes/quiz_list.html",
        cohort=cohort,
        quizzes=quiz_service.quizzes_of(cohort.id, published_only=not manage),
        manage=manage,
        form=form,
        kinds=KIND_LABELS,
        now=now,
        availability=quiz_service.availability,
        mine=mine,
    )


def _render_edit(
    quiz: Quiz,
    cohort: Cohort,
    *,
    quiz_form: QuizForm | None = None,
    question_form: QuestionSlotForm | None = None,
    random_form: RandomSlotForm | None = None,
) -> Any:
    banks = quiz_service.banks_for(cohort)
    if quiz_form is None:
        settings = QuizSettings.of(quiz)
        settings.opens_at, settings.closes_at = _local(quiz.opens_at), _local(quiz.closes_at)
        quiz_form = QuizForm(formdata=None, obj=settings)
    question_form = question_form or QuestionSlotForm(formdata=None)
    question_form.question_id.choices = [
        ("", _("Choose a question")),
        *quiz_service.question_choices(banks),
    ]
    random_form = random_form or RandomSlotForm(formdata=None)
    random_form.bank_id.choices = [("", _("Choose a bank")), *((b.id, b.name) for b in banks)]
    random_form.module_slug.choices = [
        ("", _("Any module")),
        *((slug, slug) for slug in quiz_service.module_choices(banks)),
    ]
    return render_template(
        "quizzes/quiz_edit.html",
        quiz=quiz,
        cohort=cohort,
        quiz_form=quiz_form,
        question_form=question_form,
        random_form=random_form,
        confirm=ConfirmForm(),
        slots=quiz_service.slot_views(quiz),
        question_count=quiz_service.question_count(quiz),
        locked=quiz_service.has_attempts(quiz),
        banks=banks,
        kinds=KIND_LABELS,
        show_labels=SHOW_RESULTS_LABELS,
    )


def _choices_for(quiz: Quiz, cohort: Cohort, form: Any) -> None:
    """Let WTForms accept the posted select values; the service checks them for real."""
    banks = quiz_service.banks_for(cohort)
    if isinstance(form, QuestionSlotForm):
        form.question_id.choices = quiz_service.question_choices(banks)
    else:
        form.bank_id.choices = [(b.id, b.name) for b in banks]
        form.module_slug.choices = [
            ("", ""),
            *((s, s) for s in quiz_service.module_choices(banks)),
        ]


@bp.route("/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@permission_required("cohorts.manage")
def edit_quiz(quiz_id: int) -> Any:
    """A quiz's settings and questions."""
    quiz, cohort = _managed_quiz(quiz_id)
    if request.method == "GET":
        return _render_edit(quiz, cohort)
    form = QuizForm()
    if form.validate_on_submit():
        try:
            quiz_service.update_quiz(quiz, _settings(form), actor_id=current_user.id)
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The quiz has been saved."), "success")
            return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id))
    return _render_edit(quiz, cohort, quiz_form=form)


@bp.post("/quizzes/<int:quiz_id>/slots/question")
@permission_required("cohorts.manage")
def add_question_slot(quiz_id: int) -> Any:
    quiz, cohort = _managed_quiz(quiz_id)
    form = QuestionSlotForm()
    _choices_for(quiz, cohort, form)
    if form.validate_on_submit():
        try:
            quiz_service.add_question_slot(
                quiz, form.question_id.data, mark=form.mark.data, actor_id=current_user.id
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The question has been added."), "success")
            return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id) + "#slots")
    return _render_edit(quiz, cohort, question_form=form)


@bp.post("/quizzes/<int:quiz_id>/slots/random")
@permission_required("cohorts.manage")
def add_random_slot(quiz_id: int) -> Any:
    quiz, cohort = _managed_quiz(quiz_id)
    form = RandomSlotForm()
    _choices_for(quiz, cohort, form)
    if form.validate_on_submit():
        try:
            quiz_service.add_random_slot(
                quiz,
                form.bank_id.data,
                module_slug=form.module_slug.data or "",
                count=form.count.data,
                mark=form.mark.data,
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The random questions have been added."), "success")
            return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id) + "#slots")
    return _render_edit(quiz, cohort, random_form=form)


def _button(quiz_id: int, action: Any, done: str) -> Any:
    """A confirm-button action: run it, commit, say so, back to the edit page."""
    quiz, _cohort = _managed_quiz(quiz_id)
    if ConfirmForm().validate_on_submit():
        try:
            action(quiz)
        except LmsError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz_id))


@bp.post("/quizzes/<int:quiz_id>/slots/<int:slot_id>/remove")
@permission_required("cohorts.manage")
def remove_slot(quiz_id: int, slot_id: int) -> Any:
    return _button(
        quiz_id,
        lambda quiz: quiz_service.remove_slot(quiz, slot_id, actor_id=current_user.id),
        _("The question has been removed."),
    )


@bp.post("/quizzes/<int:quiz_id>/publish")
@permission_required("cohorts.manage")
def publish_quiz(quiz_id: int) -> Any:
    return _button(
        quiz_id,
        lambda quiz: quiz_service.set_published(quiz, True, actor_id=current_user.id),
        _("The quiz has been published: the learners of the cohort can now take it."),
    )


@bp.post("/quizzes/<int:quiz_id>/unpublish")
@permission_required("cohorts.manage")
def unpublish_quiz(quiz_id: int) -> Any:
    return _button(
        quiz_id,
        lambda quiz: quiz_service.set_published(quiz, False, actor_id=current_user.id),
        _("The quiz has been withdrawn: learners no longer see it."),
    )


# --- results ---------------------------------------------------------------------------------


def _results_quiz(quiz_id: int) -> tuple[Quiz, Cohort]:
    quiz = quiz_service.get_quiz(quiz_id)
    cohort = quiz_service.cohort_of(quiz)
    require("progress.view", cohort)
    return quiz, cohort


@bp.get("/quizzes/<int:quiz_id>/results")
@permission_required("progress.view")
def quiz_results(quiz_id: int) -> Any:
    """Learners × attempts (best and last score, pass) and how each question went."""
    quiz, cohort = _results_quiz(quiz_id)
    if attempts.finish_overdue(quiz):
        db.session.commit()
    rows = results.quiz_results(quiz)
    return render_template(
        "quizzes/results.html",
        quiz=quiz,
        cohort=cohort,
        rows=rows,
        summary=results.summarise(rows),
        stats=results.question_stats(quiz),
        kinds=KIND_LABELS,
    )


def _csv(text: str, name: str) -> Response:
    # A byte-order mark so Excel opens Cyrillic names as UTF-8.
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.get("/quizzes/<int:quiz_id>/results.csv")
@permission_required("progress.view")
def quiz_results_csv(quiz_id: int) -> Any:
    quiz, _cohort = _results_quiz(quiz_id)
    return _csv(results.quiz_csv(quiz), f"quiz-{quiz.id}-results.csv")


@bp.get("/cohorts/<int:cohort_id>/results.csv")
@permission_required("progress.view")
def cohort_results_csv(cohort_id: int) -> Any:
    """Every learner × every published quiz of the cohort."""
    cohort = get_cohort(cohort_id)
    require("progress.view", cohort)
    return _csv(results.cohort_csv(cohort), f"cohort-{cohort.id}-quiz-results.csv")


@bp.get("/cohorts/<int:cohort_id>/gains")
@permission_required("progress.view")
def gains(cohort_id: int) -> Any:
    """Each learner's pre/post-test gain and normalised gain, and the cohort's means."""
    cohort = get_cohort(cohort_id)
    require("progress.view", cohort)
    return render_template(
        "quizzes/gains.html", cohort=cohort, gains=results.cohort_gains(cohort.id)
    )


# --- cohort page sections --------------------------------------------------------------------


def render_quizzes_section(cohort: Cohort, user: Any) -> str:
    """The cohort's quizzes on its page: published ones for learners, all for managers."""
    manage = can(user, "cohorts.manage", cohort)
    return render_template(
        "quizzes/quiz_section.html",
        cohort=cohort,
        quizzes=quiz_service.quizzes_of(cohort.id, published_only=not manage),
        manage=manage,
        kinds=KIND_LABELS,
    )


def render_gains_section(cohort: Cohort, user: Any) -> str:
    """The pre/post-test gains in short, with a link to every learner's."""
    return render_template(
        "quizzes/gains_section.html", cohort=cohort, gains=results.cohort_gains(cohort.id)
    )
