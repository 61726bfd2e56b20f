"""Admin pages for user accounts and roles: list, create, edit, roles, CSV import.

Every route needs the ``admin.users`` permission. Views parse the form, call one service
and render; the services write the audit entries. Forms that fail are shown again with
their errors next to the fields (status 200, like the other forms of the app).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts import csv_import, services, sessions
from lms.accounts.admin_forms import (
    EditUserForm,
    GrantRoleForm,
    ImportForm,
    NewUserForm,
    SetPasswordForm,
    UserFilterForm,
)
from lms.accounts.fresh import fresh_login_required
from lms.accounts.models import RoleGrant, User
from lms.accounts.permissions import forget_grants, permission_required
from lms.accounts.roles import ADMIN, ROLE_SCOPES, ROLES, SCOPE_LABELS
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.forms import apply_field_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")

PERMISSION = "admin.users"
#: How many CSV problems one page lists; the rest are counted.
MAX_PROBLEMS_SHOWN = 300


def _person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound()
    return person


def _labels(grants: Iterable[RoleGrant]) -> dict[int, str]:
    """Readable labels of grants by id ('Teacher · Madrasa Nur'), one query per scope kind."""
    grants = list(grants)
    names = services.scope_names((g.scope_type, g.scope_id) for g in grants)
    return {g.id: services.grant_label(g, names) for g in grants}


def _allowed_places() -> list[tuple[str, str]]:
    """For the help text: which places each role can be limited to (manuals not offered yet)."""
    return [
        (
            str(label),
            ", ".join(str(SCOPE_LABELS[s]) for s in ROLE_SCOPES[role] if s != "manual"),
        )
        for role, label in ROLES.items()
    ]


@bp.get("/users")
@permission_required(PERMISSION)
def users() -> Any:
    form = UserFilterForm(formdata=request.args)
    form.validate()
    filters = {
        "q": (form.q.data or "").strip() if not form.q.errors else "",
        "role": form.role.data if not form.role.errors else "",
        "status": form.status.data if not form.status.errors else "",
    }
    page = db.paginate(
        services.user_list_query(
            search=filters["q"], role=filters["role"], status=filters["status"]
        ),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["USERS_PER_PAGE"],
        max_per_page=None,
        error_out=False,
    )
    return render_template(
        "lms/admin/users.html",
        form=form,
        page=page,
        labels=_labels(g for person in page.items for g in person.grants),
        filters={key: value for key, value in filters.items() if value},
    )


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(PERMISSION)
def new_user() -> Any:
    form = NewUserForm()
    form.with_scopes(services.scope_options())
    if form.validate_on_submit():
        try:
            person = services.create_user_with_role(
                username=form.username.data or "",
                name=form.name.data or "",
                sex=form.sex.data or "",
                password=form.password.data or "",
                preferred_language=form.preferred_language.data or "",
                email=form.email.data,
                phone=form.phone.data,
                role=form.role.data or "",
                scope=form.scope.data or "",
                expertise=form.expertise.data or None,
                actor_id=current_user.id,
            )
        except (Invalid, Conflict) as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The account %(u)s has been created.", u=person.username), "success")
            return redirect(url_for("admin.user", user_id=person.id))
    return render_template("lms/admin/new_user.html", form=form, allowed=_allowed_places())


def _render_user(
    person: User,
    *,
    edit: EditUserForm | None = None,
    password: SetPasswordForm | None = None,
    grant: GrantRoleForm | None = None,
) -> str:
    """The user page, with the form that failed (if any) showing its errors."""
    from lms.cohorts.models import Membership

    if grant is None:
        grant = GrantRoleForm(formdata=None)
        grant.with_scopes(services.scope_options())
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.cohort))
        .where(Membership.user_id == person.id)
        .order_by(Membership.id)
    ).all()
    return render_template(
        "lms/admin/user.html",
        person=person,
        edit=edit or EditUserForm(formdata=None, obj=person),
        password=password or SetPasswordForm(formdata=None),
        grant=grant,
        labels=_labels(person.grants),
        memberships=memberships,
        allowed=_allowed_places(),
        is_self=person.id == current_user.id,
        ADMIN=ADMIN,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(PERMISSION)
def user(user_id: int) -> Any:
    """The user page; posting it saves the person's details."""
    person = _person(user_id)
    if request.method == "GET":
        return _render_user(person)
    form = EditUserForm()
    if form.validate_on_submit():
        try:
            services.update_user(
                person,
                name=form.name.data or "",
                sex=form.sex.data or "",
                preferred_language=form.preferred_language.data or "",
                email=form.email.data,
                phone=form.phone.data,
                actor_id=current_user.id,
            )
        except Invalid as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The details are saved."), "success")
            return redirect(url_for("admin.user", user_id=person.id))
    return _render_user(person, edit=form)


@bp.post("/users/<int:user_id>/password")
@permission_required(PERMISSION)
def set_password(user_id: int) -> Any:
    """A new password; the person's other sessions end (services bump session_version)."""
    person = _person(user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(person, form.new_password.data or "", actor_id=current_user.id)
        except Invalid as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            if person.id == current_user.id:
                sessions.keep(person)  # an admin resetting their own password stays logged in
            flash(
                _(
                    "The password has been changed; %(name)s is logged out everywhere.",
                    name=person.name,
                ),
                "success",
            )
            return redirect(url_for("admin.user", user_id=person.id))
    return _render_user(person, password=form)


@bp.post("/users/<int:user_id>/active")
@permission_required(PERMISSION)
def set_active(user_id: int) -> Any:
    """Disable (ends every session) or re-enable an account; never one's own."""
    person = _person(user_id)
    active = request.form.get("active") == "1"
    try:
        services.set_active_guarded(person, active, actor_id=current_user.id)
    except Invalid as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if active:
            flash(_("The account of %(name)s is enabled again.", name=person.name), "success")
        else:
            flash(
                _("The account of %(name)s is disabled and logged out.", name=person.name),
                "success",
            )
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/roles")
@permission_required(PERMISSION)
@fresh_login_required
def grant_role(user_id: int) -> Any:
    person = _person(user_id)
    form = GrantRoleForm()
    form.with_scopes(services.scope_options())
    if form.validate_on_submit():
        try:
            grant = services.grant_role_from_form(
                person,
                role=form.role.data or "",
                scope=form.scope.data or "",
                expertise=form.expertise.data or None,
                actor_id=current_user.id,
            )
        except (Invalid, Conflict) as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            label = _labels([grant])[grant.id]
            db.session.commit()
            forget_grants()
            flash(_("%(name)s now has the role %(role)s.", name=person.name, role=label), "success")
            return redirect(url_for("admin.user", user_id=person.id))
    return _render_user(person, grant=form)


@bp.route("/users/<int:user_id>/roles/<int:grant_id>/revoke", methods=["GET", "POST"])
@permission_required(PERMISSION)
@fresh_login_required
def revoke_role(user_id: int, grant_id: int) -> Any:
    """GET asks for confirmation; POST takes the role away (never one's own admin role)."""
    person = _person(user_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != person.id:
        raise NotFound()
    label = _labels([grant])[grant.id]
    if request.method == "GET":
        return render_template("lms/admin/revoke.html", person=person, grant=grant, label=label)
    try:
        services.revoke_role_guarded(person, grant.id, actor_id=current_user.id)
    except Invalid as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        forget_grants()
        flash(
            _("The role %(role)s of %(name)s has been revoked.", role=label, name=person.name),
            "success",
        )
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/import", methods=["GET", "POST"])
@permission_required(PERMISSION)
def import_users() -> Any:
    """Upload a CSV: every row is checked first; nothing is imported unless all are good."""
    form = ImportForm()
    problems: list[csv_import.Problem] = []
    if form.validate_on_submit():
        upload = form.file.data
        limit = csv_import.max_bytes(current_app.config["CSV_IMPORT_MAX_ROWS"])
        try:
            # One byte more than allowed is enough to know the file is too large.
            text = csv_import.decode_csv(upload.read(limit + 1), upload.filename or "", limit=limit)
        except Invalid as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            result = csv_import.parse_users_csv(
                text,
                max_rows=current_app.config["CSV_IMPORT_MAX_ROWS"],
                madrasas=csv_import.madrasa_lookup(),
                existing_usernames=csv_import.taken_usernames,
            )
            problems = result.problems
            if result.ok:
                try:
                    created = csv_import.create_accounts(result.rows, actor_id=current_user.id)
                except Conflict as error:
                    db.session.rollback()
                    form.file.errors = [*form.file.errors, error.message]
                else:
                    db.session.commit()
                    # The generated passwords exist only in this response: never cache it.
                    response = make_response(
                        render_template("lms/admin/import_done.html", created=created)
                    )
                    response.headers["Cache-Control"] = "no-store"
                    return response
    return render_template(
        "lms/admin/import.html",
        form=form,
        problems=problems[:MAX_PROBLEMS_SHOWN],
        problem_count=len(problems),
        max_rows=current_app.config["CSV_IMPORT_MAX_ROWS"],
        allowed=_allowed_places(),
        columns=csv_import.COLUMNS,
    )


@bp.get("/users/import/template.csv")
@permission_required(PERMISSION)
def import_template() -> Response:
    """The header row to fill in; ``?sep=semicolon`` for Excel with Russian settings."""
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    return Response(
        csv_import.template_csv(delimiter),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=users-template.csv"},
    )


# --- Privacy: a person's data export and anonymisation (lms.privacy) ----------------------


def _anonymise_form() -> Any:
    from flask_babel import lazy_gettext as _l
    from flask_wtf import FlaskForm
    from wtforms import TextAreaField
    from wtforms.validators import DataRequired, Length

    class AnonymiseForm(FlaskForm):
        reason = TextAreaField(
            _l("Reason"),
            validators=[DataRequired(), Length(max=500)],
            description=_l(
                "Why, for example “the person asked on 3 May”. Kept in the audit log: do not "
                "write the person's name."
            ),
        )

    return AnonymiseForm()


@bp.post("/users/<int:user_id>/privacy/export")
@permission_required(PERMISSION)
@fresh_login_required
def export_personal_data(user_id: int) -> Response:
    """Everything held about the person, as a JSON download; audited."""
    import json

    from lms import privacy

    person = _person(user_id)
    data = privacy.export(person)
    privacy.record_export(person, actor_id=current_user.id, via="admin")
    db.session.commit()
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f"attachment; filename=personal-data-user-{person.id}.json"
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users/<int:user_id>/privacy/anonymise", methods=["GET", "POST"])
@permission_required(PERMISSION)
@fresh_login_required
def anonymise_user(user_id: int) -> Any:
    """GET asks for a reason and confirmation; POST anonymises (never one's own account)."""
    from lms import privacy

    person = _person(user_id)
    form = _anonymise_form()
    done = privacy.is_anonymised(person)
    if not done and form.validate_on_submit():
        try:
            pseudonym = privacy.anonymise(
                person, reason=form.reason.data or "", actor_id=current_user.id
            )
        except (Invalid, Conflict) as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(
                _("The account is anonymised: it is now %(name)s, disabled.", name=pseudonym),
                "success",
            )
            return redirect(url_for("admin.user", user_id=person.id))
    return render_template(
        "lms/admin/privacy_anonymise.html",
        person=person,
        form=form,
        done=done,
        is_self=person.id == current_user.id,
    )
