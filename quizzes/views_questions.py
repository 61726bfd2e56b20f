"""Question-bank pages: the list, adding and editing questions, previewing one as a learner
sees it (and trying answers on it), archiving, and linking translations.

Every page needs ``quizzes.author`` on the bank. Nothing needs JavaScript: answer rows are a
fixed number of fields and the type is chosen before the form is shown.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from curriculum import api as curriculum
from lms.accounts.permissions import permission_required, require
from lms.config import LANGUAGES
from lms.errors import Invalid, LmsError
from lms.extensions import db
from quizzes import questions
from quizzes.forms_questions import (
    FORMS,
    BankFilterForm,
    ConfirmForm,
    QuestionForm,
    TranslationForm,
)
from quizzes.models import Question, QuestionBank, QuestionVersion
from quizzes.question_types import get_type, registry
from quizzes.views import bp

#: The field name prefix of the previewed question's response (as an attempt page uses).
PREFIX = "q"


@bp.context_processor
def _question_helpers() -> dict[str, Any]:
    """What the quizzes templates need to show a question, attempt pages included."""
    return {"question_html": questions.text_html, "qtype_of": _qtype_or_none}


def _qtype_or_none(type_id: str) -> Any:
    try:
        return get_type(type_id)
    except KeyError:
        return None


def _type_labels() -> dict[str, Any]:
    return {type_id: qtype.label for type_id, qtype in registry().items()}


def _authorised_bank(bank_id: int) -> QuestionBank:
    bank = questions.get_bank(bank_id)
    require("quizzes.author", bank)
    return bank


def _authorised_question(question_id: int) -> tuple[Question, QuestionBank]:
    question = questions.get_question(question_id)
    return question, _authorised_bank(question.bank_id)


def _manual_title(bank: QuestionBank) -> str:
    manual = curriculum.get_manual(bank.manual_slug)
    return manual.title if manual is not None else bank.manual_slug


def _module_choices(bank: QuestionBank, current: str = "") -> list[SelectChoice]:
    slugs = questions.module_slugs(bank)
    if current and current not in slugs:
        slugs.append(current)  # a module since removed from the manual stays selectable
    return [SelectChoice("", _l("No particular module")), *(SelectChoice(s, s) for s in slugs)]


# --- the bank ------------------------------------------------------------------------------


@bp.get("/banks/<int:bank_id>")
@permission_required("quizzes.author")
def bank(bank_id: int) -> Any:
    """A bank's questions, filtered by module, type, language and archived."""
    bank = _authorised_bank(bank_id)
    labels = _type_labels()
    form = BankFilterForm(request.args)
    form.module.choices = [
        SelectChoice("", _l("All modules")),
        *(SelectChoice(s, s) for s in questions.module_slugs(bank)),
    ]
    form.qtype.choices = [
        SelectChoice("", _l("All types")),
        *(SelectChoice(t, label) for t, label in labels.items()),
    ]
    archived = form.status.data == "archived"
    rows = questions.list_bank(
        bank,
        module_slug=form.module.data or "",
        qtype=form.qtype.data or "",
        language=form.language.data if form.language.data in LANGUAGES else "",
        archived=archived,
    )
    creatable = [SelectChoice(t, labels[t]) for t in FORMS if t in labels]
    return render_template(
        "quizzes/bank.html",
        bank=bank,
        manual_title=_manual_title(bank),
        rows=rows,
        form=form,
        archived=archived,
        labels=labels,
        creatable=creatable,
        languages=LANGUAGES,
    )


# --- adding and editing ----------------------------------------------------------------------


def _prepare(form: QuestionForm, bank: QuestionBank, module: str = "") -> None:
    form.module_slug.choices = _module_choices(bank, module)


def _saved_fields(form: QuestionForm) -> dict[str, Any]:
    return {
        "name": form.name.data or "",
        "text": form.text.data or "",
        "text_format": form.text_format.data or "moodle",
        "language": form.language.data or "en",
        "module_slug": form.module_slug.data or "",
        "general_feedback": form.general_feedback.data or "",
        "default_mark": form.mark(),
        "data": form.type_data(),
    }


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
@permission_required("quizzes.author")
def new_question(bank_id: int) -> Any:
    """Add a question of the type in ``?type=`` (without one: choose the type first)."""
    bank = _authorised_bank(bank_id)
    labels = _type_labels()
    qtype = request.args.get("type", "")
    if qtype not in FORMS or qtype not in labels:
        creatable = [SelectChoice(t, labels[t]) for t in FORMS if t in labels]
        return render_template(
            "quizzes/question_types.html", bank=bank, creatable=creatable, asked=qtype
        )
    form_class = FORMS[qtype]
    defaults = {"module_slug": bank.module_slug, "language": _preferred_language()}
    form = form_class(data=defaults) if request.method == "GET" else form_class()
    _prepare(form, bank, bank.module_slug)
    if form.validate_on_submit():
        try:
            question = questions.create_question(
                bank, qtype=qtype, actor_id=current_user.id, **_saved_fields(form)
            )
        except LmsError as error:
            db.session.rollback()
            form.show_errors(error)
        else:
            db.session.commit()
            flash(_("The question has been added."), "success")
            return redirect(url_for("quizzes.question", question_id=question.id))
    return render_template(
        "quizzes/question_form.html",
        bank=bank,
        form=form,
        qtype=qtype,
        type_label=labels[qtype],
        question=None,
        version=None,
        in_use=False,
    )


def _preferred_language() -> str:
    language = getattr(current_user, "preferred_language", "") or "en"
    return language if language in LANGUAGES else "en"


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@permission_required("quizzes.author")
def edit_question(question_id: int) -> Any:
    """Edit a question. Once a learner has answered its latest version, saving makes a new
    version and the page says so before the author saves."""
    question, bank = _authorised_question(question_id)
    version = questions.latest_version(question)
    form_class = FORMS.get(version.qtype)
    if form_class is None:
        raise Invalid(_l("Questions of this type cannot be edited here; import them again."))
    if request.method == "GET":
        form = form_class(
            data={
                "name": question.name,
                "text": version.text,
                "text_format": version.text_format,
                "language": question.language,
                "module_slug": question.module_slug,
                "general_feedback": version.general_feedback,
                "default_mark": f"{version.default_mark:g}",
                "expected_number": str(version.number),
                **form_class.fields_from(version.data or {}),
            }
        )
        form.extend_rows()
    else:
        form = form_class()
    _prepare(form, bank, question.module_slug)
    if form.validate_on_submit():
        expected = form.expected_number.data or ""
        try:
            saved = questions.edit_question(
                question,
                expected_number=int(expected) if expected.isdigit() else None,
                actor_id=current_user.id,
                **_saved_fields(form),
            )
        except LmsError as error:
            db.session.rollback()
            form.show_errors(error)
        else:
            number = saved.number
            db.session.commit()
            if number != version.number:
                flash(
                    _("Saved as version %(n)s; earlier attempts keep theirs.", n=number), "success"
                )
            else:
                flash(_("The question has been saved."), "success")
            return redirect(url_for("quizzes.question", question_id=question_id))
        version = questions.latest_version(questions.get_question(question_id))
    return render_template(
        "quizzes/question_form.html",
        bank=bank,
        form=form,
        qtype=version.qtype,
        type_label=_type_labels().get(version.qtype, version.qtype),
        question=question,
        version=version,
        in_use=questions.version_in_use(version.id),
    )


# --- preview ---------------------------------------------------------------------------------


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@permission_required("quizzes.author")
def question(question_id: int) -> Any:
    """The question as a learner sees it, with the right answer; posting an answer grades
    it, so an author can check partial credit and feedback before learners do."""
    question, bank = _authorised_question(question_id)
    latest = questions.latest_version(question)
    number = request.args.get("version", type=int)
    version = questions.get_version(question, number) if number else latest
    qtype = _qtype_or_none(version.qtype)
    check = ConfirmForm()
    response: Any = None
    grade = None
    if qtype is not None and qtype.answerable and check.validate_on_submit():
        response = qtype.response_from_form(version.data or {}, request.form, PREFIX)
        grade = qtype.grade(version.data or {}, response)
    return render_template(
        "quizzes/question_view.html",
        bank=bank,
        question=question,
        version=version,
        latest=latest,
        versions=_versions(question),
        qtype=qtype,
        type_label=_type_labels().get(version.qtype, version.qtype),
        prefix=PREFIX,
        response=response,
        grade=grade,
        check=check,
        translations=questions.translations_of(question),
        link_form=_translation_form(question),
        confirm=ConfirmForm(formdata=None),
        languages=LANGUAGES,
    )


def _versions(question: Question) -> list[tuple[QuestionVersion, bool]]:
    """Every version with whether an attempt used it (newest first)."""
    versions = sorted(question.versions, key=lambda v: v.number, reverse=True)
    return [(v, questions.version_in_use(v.id)) for v in versions]


def _translation_form(question: Question) -> TranslationForm:
    """The questions of the bank this one could be linked to: other languages, not
    already in its group, not archived."""
    form = TranslationForm(formdata=None)
    linked = {q.id for q in questions.translations_of(question)} | {question.id}
    taken = {q.language for q in questions.translations_of(question)} | {question.language}
    form.other_id.choices = [
        SelectChoice(
            row.question.id,
            f"{row.question.name} ({LANGUAGES.get(row.question.language, row.question.language)})",
        )
        for row in questions.list_bank(questions.get_bank(question.bank_id))
        if row.question.id not in linked and row.question.language not in taken
    ]
    return form


# --- archive and translations --------------------------------------------------------------


def _post_action(question_id: int) -> Question:
    """The question a button acts on, once the user may and the form is genuine."""
    question, _bank = _authorised_question(question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return question


@bp.post("/questions/<int:question_id>/archive")
@permission_required("quizzes.author")
def archive_question(question_id: int) -> Any:
    question = _post_action(question_id)
    questions.set_archived(question, True, actor_id=current_user.id)
    db.session.commit()
    flash(_("The question has been archived."), "success")
    return redirect(url_for("quizzes.bank", bank_id=question.bank_id))


@bp.post("/questions/<int:question_id>/restore")
@permission_required("quizzes.author")
def restore_question(question_id: int) -> Any:
    question = _post_action(question_id)
    questions.set_archived(question, False, actor_id=current_user.id)
    db.session.commit()
    flash(_("The question is back in the bank."), "success")
    return redirect(url_for("quizzes.question", question_id=question_id))


@bp.post("/questions/<int:question_id>/translations")
@permission_required("quizzes.author")
def link_translation(question_id: int) -> Any:
    """Link the question with another question of the bank as its translation."""
    question, _bank = _authorised_question(question_id)
    form = TranslationForm()
    form.other_id.choices = _translation_form(question).other_id.choices
    if not form.validate_on_submit():
        flash(_("Choose the question that is its translation."), "error")
        return redirect(url_for("quizzes.question", question_id=question_id))
    other = questions.get_question(form.other_id.data)
    try:
        questions.link_translation(question, other, actor_id=current_user.id)
    except LmsError as error:
        db.session.rollback()
        messages = [str(m) for ms in error.field_errors.values() for m in ms]
        flash(" ".join(messages) or str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The questions are linked as translations."), "success")
    return redirect(url_for("quizzes.question", question_id=question_id))


@bp.post("/questions/<int:question_id>/translations/unlink")
@permission_required("quizzes.author")
def unlink_translation(question_id: int) -> Any:
    question = _post_action(question_id)
    questions.unlink_translation(question, actor_id=current_user.id)
    db.session.commit()
    flash(_("The question is no longer linked to its translations."), "success")
    return redirect(url_for("quizzes.question", question_id=question_id))
