"""Pages for the text after review: translations and their freshness, the glossary of agreed
terms, and feedback from the field with its triage by editors."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from curriculum import feedback as feedback_service
from curriculum import translations as translation_service
from curriculum import versions
from curriculum.blueprint import bp
from curriculum.content import Block, parse_blocks
from curriculum.diff import diff_blocks
from curriculum.models import GlossaryTerm, Manual, ModuleVersion
from curriculum.render import render_block
from curriculum.views_review import manual_or_404, require_workbench
from lms.accounts.permissions import can, permission_required, require
from lms.cohorts.models import Cohort
from lms.config import LANGUAGES
from lms.errors import Invalid, LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.forms import LmsForm, apply_field_errors
from lms.urls import safe_next

#: Triage outcomes an editor can choose ("new" is only where feedback starts).
TRIAGE_CHOICES = ("accepted", "rejected", "deferred")


class _Required:
    """Marks a field as required for the label and screen readers; the service checks it,
    so the page shows the service's own message."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class TermForm(LmsForm):
    source_term = StringField(_l("Term in English"), validators=[_Required(), Length(max=200)])
    term = StringField(_l("Agreed translation"), validators=[_Required(), Length(max=200)])
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=2000)],
        description=_l("When to use it, or a word to avoid."),
    )


class ConfirmForm(LmsForm):
    """Only the CSRF token: a POST that confirms a deletion."""


class FeedbackForm(LmsForm):
    paragraph_id = SelectField(_l("Paragraph"), choices=[], validate_choice=False)
    source = RadioField(
        _l("Where does this feedback come from?"),
        choices=[SelectChoice(k, v) for k, v in feedback_service.SOURCES.items()],
        validators=[_Required()],
        validate_choice=False,
    )
    body = TextAreaField(
        _l("Your feedback"),
        validators=[_Required(), Length(max=5000)],
        description=_l("What happened when you taught or watched this, and what would help."),
    )
    next = HiddenField()


class TriageForm(LmsForm):
    status = RadioField(
        _l("Decision"),
        choices=[SelectChoice(key, feedback_service.STATUSES[key]) for key in TRIAGE_CHOICES],
        validators=[_Required()],
        validate_choice=False,
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)])
    resolved_by = SelectField(
        _l("Resolved by version"),
        choices=[],
        validate_choice=False,
        description=_l("The version whose text answers this feedback."),
    )


# --- translations -------------------------------------------------------------------------


@bp.get("/<slug>/translations/<language>")
@login_required
def translations(slug: str, language: str) -> Any:
    """Which translations lag behind their source, with what changed in the source."""
    manual = manual_or_404(slug)
    require_workbench(manual)
    if language not in LANGUAGES:
        raise NotFound()
    states = translation_service.translations_of(manual, language)
    source_changes = {
        state.translation.id: diff_blocks(
            parse_blocks(state.source.body), parse_blocks(state.newest_source.body)
        )
        for state in states
        if state.stale and state.newest_source is not None
    }
    return render_template(
        "curriculum/translations.html",
        manual=manual,
        language=language,
        states=states,
        source_changes=source_changes,
        missing=translation_service.modules_without(manual, language),
    )


# --- glossary -----------------------------------------------------------------------------


def _glossary_language(language: str) -> None:
    """The glossary maps English terms to their translations, so English has none."""
    if language not in LANGUAGES or language == "en":
        raise NotFound()


def _term_or_404(manual: Manual, language: str, term_id: int) -> GlossaryTerm:
    entry = db.session.get(GlossaryTerm, term_id)
    if entry is None or entry.manual_id != manual.id or entry.language != language:
        raise NotFound()
    return entry


@bp.route("/<slug>/glossary/<language>", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.view")
def glossary(slug: str, language: str) -> Any:
    """The agreed terms; keepers of the glossary add and change them on the same page."""
    manual = manual_or_404(slug)
    _glossary_language(language)
    require("curriculum.view", manual)
    may_edit = can(current_user, "curriculum.glossary", manual)
    form = TermForm()
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise NotAllowed()
        if form.validate_on_submit():
            try:
                translation_service.save_term(
                    manual,
                    language,
                    form.source_term.data or "",
                    form.term.data or "",
                    form.note.data or "",
                    actor_id=current_user.id,
                )
            except LmsError as error:
                db.session.rollback()
                apply_field_errors(form, error)
                status = error.status_code
            else:
                db.session.commit()
                flash(_("The term is saved."), "success")
                return redirect(url_for("curriculum.glossary", slug=slug, language=language))
        else:
            status = 400
    elif may_edit and (term_id := request.args.get("term", type=int)):
        entry = _term_or_404(manual, language, term_id)
        form.source_term.data, form.term.data, form.note.data = (
            entry.source_term,
            entry.term,
            entry.note,
        )
    return render_template(
        "curriculum/glossary.html",
        manual=manual,
        language=language,
        terms=translation_service.glossary(manual, language),
        form=form,
        may_edit=may_edit,
        workbench=can(current_user, "curriculum.edit", manual)
        or can(current_user, "curriculum.review", manual),
    ), status


@bp.route("/<slug>/glossary/<language>/<int:term_id>/delete", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.glossary")
def glossary_delete(slug: str, language: str, term_id: int) -> Any:
    """Deleting asks first: the GET shows what goes, the POST removes it."""
    manual = manual_or_404(slug)
    _glossary_language(language)
    require("curriculum.glossary", manual)
    entry = _term_or_404(manual, language, term_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        translation_service.delete_term(entry, actor_id=current_user.id)
        db.session.commit()
        flash(_("The term is deleted."), "success")
        return redirect(url_for("curriculum.glossary", slug=slug, language=language))
    return render_template(
        "curriculum/glossary_delete.html",
        manual=manual,
        language=language,
        entry=entry,
        form=form,
    )


# --- feedback from the field --------------------------------------------------------------


def _may_give_feedback(manual: Manual) -> bool:
    """Field staff are usually granted their role in a cohort, madrasa or region rather than
    on the manual, so a role held where a cohort studies this manual counts too."""
    if can(current_user, "curriculum.feedback", manual):
        return True
    cohorts = db.session.scalars(select(Cohort).where(Cohort.manual == manual.slug))
    return any(can(current_user, "curriculum.feedback", cohort) for cohort in cohorts)


def _excerpt(text: str, length: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _paragraph_choices(blocks: list[Block]) -> list[SelectChoice]:
    return [SelectChoice("", _("The whole module"))] + [
        SelectChoice(block.id, f"{number}. {_excerpt(block.text)}")
        for number, block in enumerate(blocks, start=1)
    ]


def _back(target: str | None, manual: Manual) -> str:
    """Back where the person came from if that is a page of this site, else the manual."""
    if target and safe_next(target) == target:
        return target
    return url_for("curriculum.manual", slug=manual.slug)


@bp.route("/versions/<int:version_id>/feedback", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.feedback")
def give_feedback(version_id: int) -> Any:
    """Trainers, teachers and monitoring officers say how a paragraph worked in practice."""
    version = versions.get_version(version_id)
    if version.is_draft:
        raise NotFound()  # drafts are not shown outside the curriculum team
    manual = version.module.manual
    if not _may_give_feedback(manual):
        raise NotAllowed()
    blocks = parse_blocks(version.body)
    form = FeedbackForm()
    form.paragraph_id.choices = _paragraph_choices(blocks)
    status = 200
    if request.method == "GET":
        form.paragraph_id.data = request.args.get("paragraph", "")
        form.source.data = feedback_service.default_source(current_user)
        form.next.data = request.args.get("next", "")
    elif form.validate_on_submit():
        try:
            feedback_service.add_feedback(
                version,
                author_id=current_user.id,
                source=form.source.data or "",
                body=form.body.data or "",
                paragraph_id=form.paragraph_id.data or "",
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
            status = error.status_code
        else:
            db.session.commit()
            flash(_("Thank you! Your feedback will help improve the manual."), "success")
            return redirect(_back(form.next.data, manual))
    else:
        status = 400
    paragraph = feedback_service.paragraph_of(version, form.paragraph_id.data or "")
    if form.paragraph_id.data and paragraph is None and not form.paragraph_id.errors:
        form.paragraph_id.errors = [_("That paragraph is not in this version.")]
    return render_template(
        "curriculum/feedback_form.html",
        manual=manual,
        version=version,
        paragraph=render_block(paragraph) if paragraph else None,
        form=form,
    ), status


@bp.get("/<slug>/feedback")
@login_required
@permission_required("curriculum.triage")
def feedback_inbox(slug: str) -> Any:
    """Feedback on a manual, newest first, narrowed by status and source."""
    manual = manual_or_404(slug)
    require("curriculum.triage", manual)
    status = request.args.get("status", "")
    source = request.args.get("source", "")
    items = feedback_service.find_feedback(manual, status=status, source=source)
    return render_template(
        "curriculum/feedback_inbox.html",
        manual=manual,
        items=items,
        excerpts={k: _excerpt(v, 120) for k, v in feedback_service.paragraph_texts(items).items()},
        status=status if status in feedback_service.STATUSES else "",
        source=source if source in feedback_service.SOURCES else "",
        statuses=feedback_service.STATUSES,
        sources=feedback_service.SOURCES,
    )


def _version_label(version: ModuleVersion) -> str:
    state = (
        _("approved")
        if version.approved_at
        else (_("draft") if version.is_draft else _("in review"))
    )
    return f"{LANGUAGES.get(version.language, version.language)} v{version.number} ({state})"


def _chosen_version(value: str | None, choices: list[ModuleVersion]) -> ModuleVersion | None:
    """The version picked in the select; one that is not offered is a field error."""
    if not value:
        return None
    found = next((v for v in choices if str(v.id) == value), None)
    if found is None:
        raise Invalid(field_errors={"resolved_by": [_("Choose a version of the same module.")]})
    return found


@bp.route("/feedback/<int:feedback_id>", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.triage")
def feedback_item(feedback_id: int) -> Any:
    """One piece of feedback with its paragraph; the editor accepts, rejects or defers it
    and can link the version that answers it."""
    item = feedback_service.get_feedback(feedback_id)
    if item is None:
        raise NotFound()
    manual = item.module.manual
    require("curriculum.triage", manual)
    candidates = feedback_service.resolution_choices(item)
    form = TriageForm()
    form.resolved_by.choices = [SelectChoice("", _("Not linked to a version"))] + [
        SelectChoice(str(v.id), _version_label(v)) for v in candidates
    ]
    status = 200
    if request.method == "GET":
        form.status.data = item.status if item.status in TRIAGE_CHOICES else None
        form.note.data = item.triage_note
        form.resolved_by.data = str(item.resolved_by_version_id or "")
    elif form.validate_on_submit():
        try:
            feedback_service.triage(
                item,
                form.status.data or "",
                actor_id=current_user.id,
                note=form.note.data or "",
                resolved_by=_chosen_version(form.resolved_by.data, candidates),
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
            status = error.status_code
        else:
            db.session.commit()
            flash(_("Feedback #%(n)s is triaged.", n=feedback_id), "success")
            return redirect(url_for("curriculum.feedback_inbox", slug=manual.slug))
    else:
        status = 400
    paragraph = feedback_service.paragraph_of(item.version, item.paragraph_id)
    return render_template(
        "curriculum/feedback_item.html",
        manual=manual,
        item=item,
        paragraph=render_block(paragraph) if paragraph else None,
        form=form,
        statuses=feedback_service.STATUSES,
        sources=feedback_service.SOURCES,
    ), status
