"""Pages of the curriculum plugin."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from curriculum import services
from curriculum.blueprint import bp
from curriculum.forms import ManualForm
from lms.accounts.permissions import can, permission_required
from lms.cohorts.models import Cohort
from lms.errors import LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.organisations.services import cohort_clause, visible_scope


@bp.get("/")
@permission_required("curriculum.view")
def index() -> Any:
    """The manuals, with how many cohorts study each."""
    counts = dict(
        db.session.execute(
            select(Cohort.manual, func.count(Cohort.id)).group_by(Cohort.manual)
        ).all()
    )
    return render_template(
        "curriculum/index.html",
        manuals=services.list_manuals(),
        counts=counts,
        may_create=visible_scope(current_user, "curriculum.edit").everywhere,
    )


@bp.route("/manuals/new", methods=["GET", "POST"])
@permission_required("curriculum.edit")
def new_manual() -> Any:
    if not visible_scope(current_user, "curriculum.edit").everywhere:
        raise NotAllowed()  # an editor of one manual edits that manual, not new ones
    form = ManualForm()
    if form.validate_on_submit():
        try:
            manual = services.create_manual(
                slug=form.slug.data or "",
                title_en=form.title_en.data or "",
                title_ru=form.title_ru.data or "",
                title_ky=form.title_ky.data or "",
                description=form.description.data or "",
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The manual has been created."), "success")
            return redirect(url_for("curriculum.manual", slug=manual.slug))
    return render_template("curriculum/new_manual.html", form=form)


@bp.get("/<slug>")
@permission_required("curriculum.view")
def manual(slug: str) -> Any:
    found = services.get_manual(slug)
    if found is None:
        raise NotFound()
    # Only the cohorts the reader may see: class names are not for every reader of a manual.
    cohorts = list(
        db.session.scalars(
            select(Cohort)
            .where(
                Cohort.manual == slug,
                Cohort.archived.is_(False),
                cohort_clause(visible_scope(current_user, "cohorts.view")),
            )
            .order_by(Cohort.starts_on.desc())
        )
    )
    from curriculum.versions import module_overview

    workbench = can(current_user, "curriculum.edit", found) or can(
        current_user, "curriculum.review", found
    )
    return render_template(
        "curriculum/manual.html",
        manual=found,
        cohorts=cohorts,
        workbench=workbench,
        overview=module_overview(found) if workbench else [],
    )
