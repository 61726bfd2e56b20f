"""One's own certificates, the register of issued certificates, and each certificate's page:
its printed facts, status, history (replacements) and audit trail; revoking and reissuing.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from certificates import issuance, rendering
from certificates.access import may_manage, may_see, register_clause, sees_register
from certificates.forms import RegisterFilterForm, ReissueForm, RevokeForm
from certificates.models import REPLACED, REVOKED, STATUSES, VALID, Certificate
from certificates.printed import PrintedCertificate
from certificates.views import bp
from lms.accounts.fresh import fresh_login_required
from lms.accounts.models import User
from lms.accounts.permissions import require
from lms.audit.models import AuditEntry
from lms.errors import LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.forms import apply_field_errors

STATUS_LABELS = {VALID: _l("valid"), REVOKED: _l("revoked"), REPLACED: _l("replaced")}
ACTION_LABELS = {
    "certificate.issued": _l("Issued"),
    "certificate.revoked": _l("Revoked"),
    "certificate.replaced": _l("Replaced by a corrected certificate"),
}
PER_PAGE = 50
MAX_CHAIN = 100


@bp.get("/")
@login_required
def index() -> Any:
    """Everyone's entry point: their own certificates, and the register for staff."""
    own = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.recipient_id == current_user.id)
            .options(joinedload(Certificate.cohort))
            .order_by(Certificate.issued_at.desc())
        )
    )
    return render_template(
        "certificates/index.html",
        own=own,
        status_labels=STATUS_LABELS,
        sees_register=sees_register(current_user),
        printed={c.id: PrintedCertificate.from_json(c.printed) for c in own},
    )


@bp.get("/register")
@login_required
def register() -> Any:
    if not sees_register(current_user):
        raise NotAllowed()
    form = RegisterFilterForm(request.args)
    form.status.choices = [SelectChoice("", _l("Any status"))] + [
        SelectChoice(code, STATUS_LABELS[code]) for code in STATUSES
    ]
    query = (
        select(Certificate)
        .where(register_clause(current_user))
        .options(joinedload(Certificate.cohort))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    if form.validate():
        text = (form.q.data or "").strip()
        if text:
            pattern = f"%{text.replace('%', '').replace('_', '')}%"
            query = query.where(
                or_(Certificate.name_as_printed.ilike(pattern), Certificate.serial.ilike(pattern))
            )
        if form.status.data in STATUSES:
            query = query.where(Certificate.status == form.status.data)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template(
        "certificates/register.html",
        form=form,
        page=page,
        status_labels=STATUS_LABELS,
        filters={"q": form.q.data or "", "status": form.status.data or ""},
    )


def _visible(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not may_see(current_user, certificate):
        # Someone else's certificate does not exist as far as this user is concerned.
        raise NotFound()
    return certificate


def _history(certificate: Certificate) -> list[Certificate]:
    """The whole chain of corrections this certificate belongs to, oldest first.

    Each certificate replaces at most one earlier one (a unique column), so the chain is a
    line; the cap only guards against a damaged database.
    """
    chain = [certificate]
    while chain[0].replaces is not None and len(chain) < MAX_CHAIN:
        chain.insert(0, chain[0].replaces)
    while len(chain) < MAX_CHAIN:
        following = db.session.scalar(
            select(Certificate).where(Certificate.replaces_id == chain[-1].id)
        )
        if following is None:
            break
        chain.append(following)
    return chain


def _detail(certificate: Certificate, *, revoke_form: Any = None, reissue_form: Any = None):
    manage = may_manage(current_user)
    trail = []
    if manage or sees_register(current_user):
        trail = list(
            db.session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.object_type == "certificate",
                    AuditEntry.object_id.in_([str(c.id) for c in _history(certificate)]),
                )
                .order_by(AuditEntry.id)
            )
        )
    actors = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_({e.actor_id for e in trail}))
        ).all()
    )
    return render_template(
        "certificates/detail.html",
        action_labels=ACTION_LABELS,
        actors=actors,
        certificate=certificate,
        printed=PrintedCertificate.from_json(certificate.printed),
        history=_history(certificate),
        trail=trail,
        manage=manage,
        status_labels=STATUS_LABELS,
        revoke_form=revoke_form or (RevokeForm() if manage else None),
        reissue_form=reissue_form
        or (ReissueForm(name=certificate.name_as_printed) if manage else None),
    )


@bp.get("/<int:certificate_id>")
@login_required
def detail(certificate_id: int) -> Any:
    return _detail(_visible(certificate_id))


@bp.get("/<int:certificate_id>/certificate.pdf")
@login_required
def download(certificate_id: int) -> Any:
    """The stored PDF (rendered once, on the first download if its batch has not yet)."""
    certificate = _visible(certificate_id)
    pdf = rendering.ensure_pdf(certificate)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{certificate.serial}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/<int:certificate_id>/revoke")
@login_required
@fresh_login_required
def revoke(certificate_id: int) -> Any:
    require("certificates.manage")
    certificate = _visible(certificate_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _detail(certificate, revoke_form=form), 400
    try:
        issuance.revoke(certificate, reason=form.reason.data, actor=current_user)
        db.session.commit()
    except LmsError as error:
        db.session.rollback()
        apply_field_errors(form, error)
        return _detail(_visible(certificate_id), revoke_form=form), error.status_code
    flash(_("Certificate %(serial)s was revoked.", serial=certificate.serial), "success")
    return redirect(url_for("certificates.detail", certificate_id=certificate_id))


@bp.post("/<int:certificate_id>/reissue")
@login_required
@fresh_login_required
def reissue(certificate_id: int) -> Any:
    require("certificates.manage")
    certificate = _visible(certificate_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        return _detail(certificate, reissue_form=form), 400
    try:
        new = issuance.reissue(
            certificate, name=form.name.data, reason=form.reason.data, actor=current_user
        )
        db.session.commit()
    except LmsError as error:
        db.session.rollback()
        apply_field_errors(form, error)
        return _detail(_visible(certificate_id), reissue_form=form), error.status_code
    rendering.ensure_pdf(new)
    flash(
        _("Certificate %(new)s replaces %(old)s.", new=new.serial, old=certificate.serial),
        "success",
    )
    return redirect(url_for("certificates.detail", certificate_id=new.id))


def render_my_certificates_panel(user: Any) -> str:
    """The home page's list of one's own certificates (left out when there are none)."""
    own = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.recipient_id == user.id)
            .order_by(Certificate.issued_at.desc())
            .limit(10)
        )
    )
    if not own:
        return ""
    return render_template(
        "certificates/panel_mine.html",
        rows=[(c, PrintedCertificate.from_json(c.printed)) for c in own],
        status_labels=STATUS_LABELS,
    )
