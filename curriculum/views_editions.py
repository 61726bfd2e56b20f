"""Pages for published editions: the list, publishing, the reader, downloads, and the
edition a cohort teaches from.

Teachers read editions, never versions: an edition holds exactly the versions the panel
approved, frozen at publication, so what a class is taught is what the experts signed.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from curriculum import editions, export
from curriculum.blueprint import bp
from curriculum.models import Edition, EditionEntry, Manual
from curriculum.render import render_block
from curriculum.review import DECISIONS
from curriculum.services import get_manual
from curriculum.versions import latest_version
from curriculum.views_review import manual_or_404
from lms.accounts.models import User
from lms.accounts.permissions import can, require
from lms.cohorts import services as cohort_services
from lms.cohorts.models import Cohort
from lms.config import LANGUAGES
from lms.errors import LmsError, NotFound
from lms.extensions import db
from lms.forms import LmsForm, apply_field_errors


class PublishForm(LmsForm):
    notes = TextAreaField(
        _l("Notes for this edition"),
        validators=[Length(max=5000)],
        description=_l("Optional: what changed since the last edition, shown with it."),
    )


class CohortEditionForm(LmsForm):
    edition = SelectField(_l("Edition the cohort teaches from"), choices=[])


def _language_or_404(language: str) -> str:
    if language not in LANGUAGES:
        raise NotFound()
    return language


def _readable_manual(slug: str) -> Manual:
    """Published editions are for every teacher, trainer and officer, wherever their role
    applies (a teacher of one madrasa prepares from the manual before any class exists)."""
    manual = manual_or_404(slug)
    require("curriculum.view")
    return manual


def _readable_edition(slug: str, language: str, number: int) -> Edition:
    manual = _readable_manual(slug)
    return editions.get_edition(manual, _language_or_404(language), number)


def _publisher_names(found: list[Edition]) -> dict[int, str]:
    ids = {e.published_by_id for e in found if e.published_by_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _module_counts(found: list[Edition]) -> dict[int, int]:
    if not found:
        return {}
    return dict(
        db.session.execute(
            select(EditionEntry.edition_id, func.count(EditionEntry.id))
            .where(EditionEntry.edition_id.in_([e.id for e in found]))
            .group_by(EditionEntry.edition_id)
        ).all()
    )


@bp.get("/<slug>/editions", endpoint="editions")
@login_required
def editions_page(slug: str) -> Any:
    """The published editions per language, newest first."""
    manual = _readable_manual(slug)
    found = editions.editions_of(manual)
    by_language: dict[str, list[Edition]] = {code: [] for code in LANGUAGES}
    for edition in found:
        by_language.setdefault(edition.language, []).append(edition)
    return render_template(
        "curriculum/editions.html",
        manual=manual,
        by_language=by_language,
        any_published=bool(found),
        publishers=_publisher_names(found),
        counts=_module_counts(found),
        can_publish=can(current_user, "curriculum.publish", manual),
    )


@bp.route("/<slug>/editions/<language>/publish", methods=["GET", "POST"])
@login_required
def publish_edition(slug: str, language: str) -> Any:
    """A preview of what the next edition would take, and the button that publishes it."""
    manual = manual_or_404(slug)
    require("curriculum.publish", manual)
    _language_or_404(language)
    form = PublishForm()
    status = 200
    if form.validate_on_submit():
        try:
            edition = editions.publish(
                manual, language, actor_id=current_user.id, notes=form.notes.data or ""
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
            status = error.status_code
        else:
            number = edition.number
            db.session.commit()
            flash(_("Edition %(n)s is published.", n=number), "success")
            return redirect(
                url_for("curriculum.edition", slug=slug, language=language, number=number)
            )
    elif request.method == "POST":
        status = 400
    candidates = editions.candidates(manual, language)
    latest = editions.latest_edition(manual, language)
    return render_template(
        "curriculum/editions_publish.html",
        manual=manual,
        language=language,
        candidates=candidates,
        newest={c.module.id: latest_version(c.module.id, language) for c in candidates},
        next_number=(latest.number if latest else 0) + 1,
        form=form,
    ), status


@bp.get("/<slug>/editions/<language>/<int:number>")
@login_required
def edition(slug: str, language: str, number: int) -> Any:
    """Contents, notes, sign-off and downloads of one edition (earlier ones stay readable)."""
    found = _readable_edition(slug, language, number)
    latest = editions.latest_edition(found.manual, language)
    return render_template(
        "curriculum/edition.html",
        edition=found,
        manual=found.manual,
        latest=latest,
        publisher=_publisher_names([found]).get(found.published_by_id or 0),
        titles={entry.version.module.slug: entry.version.title for entry in found.entries},
        decisions=DECISIONS,
        pdf_name=export.pdf_filename(found),
        zip_name=export.zip_filename(found),
    )


@bp.get("/<slug>/editions/<language>/<int:number>/<module_slug>")
@login_required
def read_module(slug: str, language: str, number: int, module_slug: str) -> Any:
    """One module of an edition as teachers read it, with the text frozen in that edition."""
    found = _readable_edition(slug, language, number)
    entries = list(found.entries)
    index = next(
        (i for i, entry in enumerate(entries) if entry.version.module.slug == module_slug), None
    )
    if index is None:
        raise NotFound()
    version = entries[index].version
    feedback = can(current_user, "curriculum.feedback", found.manual)
    latest = editions.latest_edition(found.manual, language)
    return render_template(
        "curriculum/reader.html",
        edition=found,
        manual=found.manual,
        version=version,
        position=index + 1,
        rendered=[(block, render_block(block)) for block in export.text_blocks(version)],
        previous=entries[index - 1].version if index > 0 else None,
        next=entries[index + 1].version if index + 1 < len(entries) else None,
        feedback=feedback,
        latest=latest,
    )


@bp.get("/<slug>/read")
@login_required
def read(slug: str) -> Any:
    """Straight to the edition this teacher should read: their cohort's, else the latest."""
    manual = _readable_manual(slug)
    found = editions.edition_to_read(manual, current_user)
    if found is None:
        return render_template("curriculum/reader_none.html", manual=manual)
    return redirect(
        url_for("curriculum.edition", slug=slug, language=found.language, number=found.number)
    )


@bp.get("/<slug>/editions/<language>/<int:number>.pdf")
@login_required
def edition_pdf(slug: str, language: str, number: int) -> Any:
    found = _readable_edition(slug, language, number)
    return _download(export.edition_pdf(found), "application/pdf", export.pdf_filename(found))


@bp.get("/<slug>/editions/<language>/<int:number>.zip")
@login_required
def edition_zip(slug: str, language: str, number: int) -> Any:
    found = _readable_edition(slug, language, number)
    return _download(export.edition_zip(found), "application/zip", export.zip_filename(found))


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cohort_form(manual: Manual, cohort: Cohort, *, formdata: Any = None) -> CohortEditionForm:
    form = CohortEditionForm(prefix="cohort-edition", formdata=formdata)
    form.edition.choices = [("", _("Follow the latest edition"))] + [
        (
            str(e.id),
            _(
                "%(language)s · edition %(n)s (%(date)s)",
                language=LANGUAGES.get(e.language, e.language),
                n=e.number,
                date=format_date(e.published_at),
            ),
        )
        for e in editions.editions_of(manual)
    ]
    return form


def _pinned(manual: Manual, cohort: Cohort) -> Edition | None:
    """The cohort's pinned edition, if it is one of its current manual's."""
    pinned = editions.edition_for_cohort(cohort.id)
    return pinned if pinned is not None and pinned.manual_id == manual.id else None


def cohort_section(cohort: Cohort, user: Any) -> str:
    """The cohort page's block: the edition the cohort teaches from, and (for its leaders)
    the choice of a pinned edition or the latest."""
    manual = get_manual(cohort.manual) if cohort.manual else None
    if manual is None:
        return render_template("curriculum/edition_cohort_section.html", manual=None)
    pinned = _pinned(manual, cohort)
    form = None
    if can(user, "cohorts.manage", cohort):
        form = _cohort_form(manual, cohort)
        form.edition.data = str(pinned.id) if pinned else ""
    return render_template(
        "curriculum/edition_cohort_section.html",
        manual=manual,
        cohort=cohort,
        pinned=pinned,
        latest=[
            latest
            for code in LANGUAGES
            if (latest := editions.latest_edition(manual, code)) is not None
        ],
        form=form,
    )


@bp.post("/cohorts/<int:cohort_id>/edition")
@login_required
def cohort_edition(cohort_id: int) -> Any:
    """Pin the cohort to one of its manual's editions, or let it follow the latest."""
    cohort = cohort_services.get_cohort(cohort_id)
    require("cohorts.manage", cohort)
    manual = get_manual(cohort.manual) if cohort.manual else None
    if manual is None:
        raise NotFound()
    form = _cohort_form(manual, cohort, formdata=request.form)
    if not form.validate():
        flash(_("Choose one of the manual's editions."), "error")
        return redirect(url_for("cohorts.view", cohort_id=cohort_id))
    choice = form.edition.data or ""
    chosen = db.session.get(Edition, int(choice)) if choice else None
    if chosen is not None and chosen.manual_id != manual.id:
        raise NotFound()
    editions.assign_to_cohort(cohort_id, chosen, actor_id=current_user.id)
    db.session.commit()
    if chosen is None:
        flash(_("The cohort now follows the latest edition."), "success")
    else:
        flash(_("The cohort now teaches from edition %(n)s.", n=chosen.number), "success")
    return redirect(url_for("cohorts.view", cohort_id=cohort_id))
