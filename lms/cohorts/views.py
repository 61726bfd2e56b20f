"""Cohort pages: lists, creating and editing, members and completion marks.

Each route checks its permission against the cohort (or the chosen place) and calls one
service; management routes answer 403 to anyone who may not manage that very cohort.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from lms.accounts.permissions import can, permission_required, require
from lms.accounts.roles import LEARNER_ROLES, MEMBER_ROLES, MEMBER_ROLES_BY_KIND
from lms.cohorts import services
from lms.cohorts.forms import (
    COMPLETED,
    KIND_LABELS,
    AddMemberForm,
    ClassCohortForm,
    CohortFilterForm,
    ConfirmForm,
    MarkCompletionForm,
    TotCohortForm,
)
from lms.cohorts.models import CLASS, TOT, Cohort
from lms.errors import Invalid, LmsError, NotAllowed
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.organisations.forms import region_choices
from lms.organisations.services import all_regions
from lms.pagecache import cached_page

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

#: Cohorts per page of the list.
PER_PAGE = 50


@bp.get("/")
@permission_required("cohorts.view")
def index() -> Any:
    """The cohorts the user may view, filtered by kind, region and archived."""
    form = CohortFilterForm(request.args)
    form.region.choices = region_choices(all_regions(), blank=_l("All regions"))
    status = form.status.data if form.status.data in ("current", "archived", "all") else "current"
    kind = form.kind.data if form.kind.data in services.KINDS else None
    page = db.paginate(
        services.cohort_query(current_user, kind=kind, region_id=form.region.data, status=status),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "lms/cohorts/index.html",
        form=form,
        page=page,
        learners=services.learner_counts([c.id for c in page.items]),
        filters={"kind": kind or "", "region": form.region.data or "", "status": status},
        kind_labels=KIND_LABELS,
        creatable=services.creatable_kinds(current_user),
    )


# --- creating and editing ------------------------------------------------------------------


def _cohort_form(kind: str, obj: Cohort | None = None) -> TotCohortForm | ClassCohortForm:
    """The form for ``kind`` with choices limited to places the user may create in."""
    form: TotCohortForm | ClassCohortForm
    if kind == TOT:
        form = TotCohortForm(obj=obj)
        regions = services.creatable_regions(current_user)
        if obj is not None and obj.region is not None and obj.region not in regions:
            regions.append(obj.region)
        form.region_id.choices = region_choices(regions, blank=_l("Choose a region"))
    else:
        form = ClassCohortForm(obj=obj)
        madrasas = services.creatable_madrasas(
            current_user, include_id=obj.madrasa_id if obj is not None else None
        )
        form.madrasa_id.choices = [SelectChoice("", _l("Choose a madrasa"))] + [
            SelectChoice(str(m.id), f"{m.name} — {m.region.name}") for m in madrasas
        ]
    form.completion_rule.choices = services.completion_rule_choices()
    form.manual.choices = [
        SelectChoice("", _("— none —")),
        *(SelectChoice(slug, title) for slug, title in services.manual_choices()),
    ]
    return form


def _fields(form: TotCohortForm | ClassCohortForm) -> services.CohortFields:
    """What the service needs from either form, so it never sees WTForms."""
    return services.CohortFields(
        name=form.name.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        region_id=form.region_id.data if isinstance(form, TotCohortForm) else None,
        madrasa_id=form.madrasa_id.data if isinstance(form, ClassCohortForm) else None,
        venue=(form.venue.data or "") if isinstance(form, TotCohortForm) else "",
        manual=form.manual.data or "",
        completion_rule=form.completion_rule.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required("cohorts.create")
def create() -> Any:
    """Create a ToT cohort (``?kind=tot``) or a madrasa class (``?kind=class``)."""
    kind = request.args.get("kind", "")
    creatable = services.creatable_kinds(current_user)
    if kind not in services.KINDS:
        if not creatable:
            raise NotAllowed(_("You may not create cohorts anywhere."))
        return render_template(
            "lms/cohorts/choose_kind.html", kind_labels=KIND_LABELS, creatable=creatable
        )
    if kind not in creatable:
        if kind == TOT:
            raise NotAllowed(_("You may not create ToT cohorts."))
        raise NotAllowed(_("You may not create classes in any madrasa."))
    form = _cohort_form(kind)
    status = 200
    if request.method == "GET":
        place = request.args.get("madrasa" if kind == CLASS else "region", "")
        if place.isdigit():
            getattr(form, "madrasa_id" if kind == CLASS else "region_id").data = int(place)
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(current_user, kind, _fields(form))
        except LmsError as error:
            apply_field_errors(form, error)
            status = 403 if isinstance(error, NotAllowed) else 200
        else:
            db.session.commit()
            flash(_("%(name)s has been created.", name=cohort.name), "success")
            return redirect(url_for("cohorts.view", cohort_id=cohort.id))
    return (
        render_template(
            "lms/cohorts/form.html", form=form, kind=kind, cohort=None, kind_labels=KIND_LABELS
        ),
        status,
    )


def _managed(cohort_id: int, *, with_members: bool = False) -> Cohort:
    """The cohort, if the current user may manage it (403 otherwise)."""
    cohort = services.get_cohort(cohort_id, with_members=with_members)
    require("cohorts.manage", cohort)
    return cohort


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@permission_required("cohorts.manage")
def edit(cohort_id: int) -> Any:
    """Change a cohort's name, place, dates, manual or completion rule."""
    cohort = _managed(cohort_id)
    form = _cohort_form(cohort.kind, cohort)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_cohort(cohort, current_user, _fields(form))
        except LmsError as error:
            db.session.rollback()
            cohort = _managed(cohort_id)
            apply_field_errors(form, error)
            status = 403 if isinstance(error, NotAllowed) else 200
        else:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("cohorts.view", cohort_id=cohort.id))
    return (
        render_template(
            "lms/cohorts/form.html",
            form=form,
            kind=cohort.kind,
            cohort=cohort,
            kind_labels=KIND_LABELS,
        ),
        status,
    )


@bp.post("/<int:cohort_id>/archive")
@permission_required("cohorts.manage")
def archive(cohort_id: int) -> Any:
    """Hide a finished cohort from the current lists (its records stay)."""
    return _set_archived(cohort_id, True)


@bp.post("/<int:cohort_id>/unarchive")
@permission_required("cohorts.manage")
def unarchive(cohort_id: int) -> Any:
    """Bring an archived cohort back to the current lists."""
    return _set_archived(cohort_id, False)


def _set_archived(cohort_id: int, archived: bool) -> Any:
    cohort = _managed(cohort_id)
    if ConfirmForm().validate_on_submit():
        services.set_archived(cohort, archived, actor_id=current_user.id)
        db.session.commit()
        if archived:
            flash(_("%(name)s has been archived.", name=cohort.name), "success")
        else:
            flash(_("%(name)s is current again.", name=cohort.name), "success")
    return redirect(url_for("cohorts.view", cohort_id=cohort.id))


# --- the cohort page -----------------------------------------------------------------------


def _member_form(cohort: Cohort) -> AddMemberForm:
    form = AddMemberForm()
    roles = MEMBER_ROLES_BY_KIND.get(cohort.kind, ())
    form.role.choices = [SelectChoice(role, MEMBER_ROLES[role]) for role in roles]
    if not form.is_submitted():
        # Most people added are learners: offer that role first-hand, not the leader's.
        form.role.data = next((role for role in roles if role in LEARNER_ROLES), None)
    return form


@bp.get("/<int:cohort_id>")
@permission_required("cohorts.view")
@cached_page
def view(cohort_id: int) -> Any:
    """A cohort: details, members by role with counts by sex, and learners' completion."""
    cohort = services.get_cohort(cohort_id, with_members=True)
    require("cohorts.view", cohort)
    manage = can(current_user, "cohorts.manage", cohort)
    return render_template(
        "lms/cohorts/view.html",
        page=services.cohort_page(cohort),
        cohort=cohort,
        manage=manage,
        see_progress=can(current_user, "progress.view", cohort),
        member_form=_member_form(cohort) if manage else None,
        confirm_form=ConfirmForm() if manage else None,
        mark_form=MarkCompletionForm() if manage else None,
        kind_labels=KIND_LABELS,
        manual_titles=dict(services.manual_choices()),
        sections=_sections(cohort),
    )


def _sections(cohort: Cohort) -> list[tuple[Any, Markup]]:
    """What plugins show on the cohort page (register_cohort_sections), for this user.

    A section with nothing to say for this user (blank HTML) is left out.
    """
    registries = current_app.extensions["lms"].registries
    shown = []
    for section in registries.cohort_sections:
        if can(current_user, section.permission, cohort):
            html = section.render(cohort, current_user)
            if html.strip():
                shown.append((section, Markup(html)))  # nosec B704  # a plugin's section rendered by its own autoescaped template
    return shown


@bp.route("/<int:cohort_id>/members", methods=["GET", "POST"])
@permission_required("cohorts.manage")
def add_member(cohort_id: int) -> Any:
    """Add someone by user name, as a leader or a learner of this kind of cohort."""
    cohort = _managed(cohort_id)
    form = _member_form(cohort)
    if request.method == "GET" and request.args.get("role") in MEMBER_ROLES_BY_KIND.get(
        cohort.kind, ()
    ):
        form.role.data = request.args["role"]
    if form.validate_on_submit():
        try:
            membership = services.add_member(
                cohort, form.username.data or "", form.role.data or "", actor_id=current_user.id
            )
        except LmsError as error:
            apply_field_errors(form, error)
        else:
            name = membership.user.name
            db.session.commit()
            flash(
                _(
                    "%(name)s has been added as %(role)s.",
                    name=name,
                    role=MEMBER_ROLES[form.role.data or ""],
                ),
                "success",
            )
            return redirect(url_for("cohorts.view", cohort_id=cohort.id) + "#members")
    return render_template("lms/cohorts/add_member.html", cohort=cohort, form=form)


@bp.route("/<int:cohort_id>/members/<int:membership_id>/remove", methods=["GET", "POST"])
@permission_required("cohorts.manage")
def remove_member(cohort_id: int, membership_id: int) -> Any:
    """Ask for confirmation (GET), then take the person out of the cohort (POST)."""
    cohort = _managed(cohort_id)
    membership = services.get_membership(cohort, membership_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        person = services.remove_member(cohort, membership.id, actor_id=current_user.id)
        name = person.name
        db.session.commit()
        flash(_("%(name)s has been removed from the cohort.", name=name), "success")
        return redirect(url_for("cohorts.view", cohort_id=cohort.id) + "#members")
    return render_template(
        "lms/cohorts/remove_member.html", cohort=cohort, membership=membership, form=form
    )


@bp.post("/<int:cohort_id>/completion/<int:user_id>")
@permission_required("cohorts.manage")
def mark_completion(cohort_id: int, user_id: int) -> Any:
    """Mark a learner completed or not completed (cohorts whose rule is "marked complete")."""
    cohort = _managed(cohort_id)
    form = MarkCompletionForm()
    if not form.validate_on_submit():
        raise Invalid()
    services.mark_completion(
        cohort, user_id, form.outcome.data == COMPLETED, actor_id=current_user.id
    )
    db.session.commit()
    flash(_("The completion has been recorded."), "success")
    return redirect(url_for("cohorts.view", cohort_id=cohort.id) + "#members")
