"""Region and madrasa pages: parse, authorise against the object, call a service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts.permissions import permission_required, require
from lms.errors import LmsError
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.organisations import services
from lms.organisations.forms import MadrasaFilterForm, MadrasaForm, region_choices
from lms.organisations.models import Madrasa

bp = Blueprint("organisations", __name__, url_prefix="/madrasas")


#: Madrasas per page of the list.
PER_PAGE = 50


@bp.get("/regions")
@permission_required("organisations.view")
def regions() -> Any:
    """The nine regions with how many madrasas and current cohorts the user can see there."""
    return render_template(
        "lms/organisations/regions.html", rows=services.region_overview(current_user)
    )


@bp.get("/")
@permission_required("organisations.view")
def madrasas() -> Any:
    """Madrasas the user may see, optionally in one region, a page at a time."""
    form = MadrasaFilterForm(request.args)
    form.region.choices = region_choices(services.all_regions(), blank=_l("All regions"))
    region_id = form.region.data
    page = db.paginate(
        services.madrasa_query(current_user, region_id=region_id),
        per_page=PER_PAGE,
        error_out=False,
    )
    counts = services.class_counts([m.id for m in page.items])
    return render_template(
        "lms/organisations/madrasas.html",
        form=form,
        page=page,
        counts=counts,
        region_id=region_id,
    )


@bp.get("/<int:madrasa_id>")
@permission_required("organisations.view")
def madrasa(madrasa_id: int) -> Any:
    """One madrasa with its classes and teachers."""
    found = services.get_madrasa(madrasa_id)
    require("organisations.view", found)
    return render_template(
        "lms/organisations/madrasa.html",
        madrasa=found,
        classes=services.madrasa_classes(found),
        teachers=services.madrasa_teachers(found),
    )


def _madrasa_form(obj: Madrasa | None = None) -> MadrasaForm:
    form = MadrasaForm(obj=obj)
    form.region_id.choices = region_choices(services.all_regions(), blank=_l("Choose a region"))
    return form


@bp.route("/new", methods=["GET", "POST"])
@permission_required("organisations.manage")
def create() -> Any:
    """Add a madrasa (administrators)."""
    form = _madrasa_form()
    if request.method == "GET" and request.args.get("region", "").isdigit():
        form.region_id.data = int(request.args["region"])
    if form.validate_on_submit():
        try:
            created = services.create_madrasa(
                name=form.name.data or "",
                region_id=form.region_id.data,
                locality=form.locality.data or "",
                address=form.address.data or "",
                actor_id=current_user.id,
            )
        except LmsError as error:
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The madrasa %(name)s has been added.", name=created.name), "success")
            return redirect(url_for("organisations.madrasa", madrasa_id=created.id))
    return render_template("lms/organisations/madrasa_form.html", form=form, madrasa=None)


@bp.route("/<int:madrasa_id>/edit", methods=["GET", "POST"])
@permission_required("organisations.manage")
def edit(madrasa_id: int) -> Any:
    """Change a madrasa's name, region, locality or address (administrators)."""
    found = services.get_madrasa(madrasa_id)
    require("organisations.manage", found)
    form = _madrasa_form(found)
    if form.validate_on_submit():
        try:
            services.update_madrasa(
                found,
                name=form.name.data or "",
                region_id=form.region_id.data,
                locality=form.locality.data or "",
                address=form.address.data or "",
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            found = services.get_madrasa(madrasa_id)
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The madrasa has been saved."), "success")
            return redirect(url_for("organisations.madrasa", madrasa_id=found.id))
    return render_template("lms/organisations/madrasa_form.html", form=form, madrasa=found)
