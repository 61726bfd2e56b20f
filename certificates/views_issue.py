"""A cohort's certificates: choose the design, issue to all who completed (rendered by a
background job with a progress bar), issue one by hand, download one ZIP or one PDF to print.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from certificates import issuance, rendering
from certificates.access import may_manage
from certificates.forms import ConfirmForm, DesignForm, ManualIssueForm
from certificates.models import VALID, Certificate
from certificates.views import bp
from certificates.views_register import STATUS_LABELS
from lms.accounts.models import User
from lms.accounts.permissions import require
from lms.cohorts.services import get_cohort
from lms.config import LANGUAGES
from lms.errors import Conflict, LmsError
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.jobs import Job


def _cohort_for(permission: str, cohort_id: int) -> Any:
    cohort = get_cohort(cohort_id)
    require(permission, cohort)
    return cohort


def _design_form(cohort: Any, formdata: Any = None) -> DesignForm:
    chosen = issuance.cohort_design(cohort)
    form = DesignForm(
        formdata=formdata,
        design=chosen[0].id if chosen else None,
        language=chosen[1] if chosen else None,
    )
    form.design.choices = [SelectChoice(d.id, str(d.label)) for d in issuance.designs_for(cohort)]
    languages = sorted({code for d in issuance.designs_for(cohort) for code in d.languages})
    form.language.choices = [SelectChoice(code, LANGUAGES[code]) for code in languages]
    return form


def _manual_form(found: issuance.Eligibility, formdata: Any = None) -> ManualIssueForm:
    form = ManualIssueForm(formdata=formdata)
    form.recipient.choices = [
        SelectChoice(user.id, user.name) for user, _missing in found.not_completed
    ] + [SelectChoice(user.id, user.name) for user in found.to_issue]
    return form


def _page(cohort: Any, *, design_form: Any = None, manual_form: Any = None, status: int = 200):
    found = issuance.eligibility(cohort)
    certificates = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.cohort_id == cohort.id)
            .order_by(Certificate.status != VALID, Certificate.serial)
        )
    )
    batch_ids = {c.batch_id for c in certificates if c.batch_id and not c.rendered}
    running = [
        job
        for job in db.session.scalars(select(Job).where(Job.id.in_(batch_ids)))
        if not job.finished
    ]
    chosen = issuance.cohort_design(cohort)
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        found=found,
        certificates=certificates,
        running=running,
        chosen=chosen,
        design_form=design_form or _design_form(cohort),
        manual_form=manual_form or (_manual_form(found) if may_manage(current_user) else None),
        confirm_form=ConfirmForm(),
        valid_count=sum(1 for c in certificates if c.status == VALID),
        languages=LANGUAGES,
        status_labels=STATUS_LABELS,
    ), status


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def cohort_certificates(cohort_id: int) -> Any:
    """What a trainer or teacher sees: who completed, who has a certificate, what to do."""
    cohort = _cohort_for("certificates.issue", cohort_id)
    return _page(cohort)


@bp.post("/cohorts/<int:cohort_id>/design")
@login_required
def choose_design(cohort_id: int) -> Any:
    cohort = _cohort_for("certificates.issue", cohort_id)
    form = _design_form(cohort, request.form)
    if not form.validate():
        return _page(cohort, design_form=form, status=400)
    try:
        issuance.choose_design(cohort, form.design.data, form.language.data, actor=current_user)
    except LmsError as error:
        db.session.rollback()
        apply_field_errors(form, error)
        return _page(cohort, design_form=form, status=error.status_code)
    db.session.commit()
    flash(_("The certificate design was saved."), "success")
    return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/issue")
@login_required
def issue_all(cohort_id: int) -> Any:
    """Issue to everyone who completed and has no certificate; then render them in a job."""
    cohort = _cohort_for("certificates.issue", cohort_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort.id))
    try:
        made = issuance.issue_to_completers(cohort, actor=current_user)
        db.session.commit()
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort.id))
    if not made:
        flash(_("Everyone who completed this cohort already has a certificate."), "info")
        return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort.id))
    job = rendering.start_batch(
        made,
        name=_("Certificates for %(cohort)s", cohort=cohort.name),
        created_by_id=current_user.id,
        link=url_for("certificates.cohort_certificates", cohort_id=cohort.id),
    )
    flash(
        _(
            "%(count)s certificates were issued. Their PDFs are being made now.",
            count=len(made),
        ),
        "success",
    )
    return redirect(url_for("lms.job", job_id=job.id))


@bp.post("/cohorts/<int:cohort_id>/issue-one")
@login_required
def issue_one(cohort_id: int) -> Any:
    """An administrator issues to one member whatever the rule says, giving a reason."""
    cohort = _cohort_for("certificates.issue", cohort_id)
    require("certificates.manage")
    found = issuance.eligibility(cohort)
    form = _manual_form(found, request.form)
    if not form.validate():
        return _page(cohort, manual_form=form, status=400)
    recipient = db.session.get(User, form.recipient.data)
    try:
        certificate = issuance.issue_manually(
            cohort, recipient, reason=form.reason.data, actor=current_user
        )
        db.session.commit()
    except LmsError as error:
        db.session.rollback()
        apply_field_errors(form, error)
        return _page(cohort, manual_form=form, status=error.status_code)
    rendering.ensure_pdf(certificate)
    flash(_("Certificate %(serial)s was issued.", serial=certificate.serial), "success")
    return redirect(url_for("certificates.detail", certificate_id=certificate.id))


def _valid_certificates(cohort_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.cohort_id == cohort_id, Certificate.status == VALID)
            .order_by(Certificate.serial)
        )
    )


def _refuse_while_rendering(cohort_id: int) -> None:
    """Downloads wait for a running batch instead of rendering inside the request."""
    unrendered = db.session.scalars(
        select(Certificate.batch_id).where(
            Certificate.cohort_id == cohort_id,
            Certificate.status == VALID,
            Certificate.pdf_sha256.is_(None),
            Certificate.batch_id.is_not(None),
        )
    ).all()
    if not unrendered:
        return
    running = db.session.scalars(select(Job).where(Job.id.in_(set(unrendered)))).all()
    if any(not job.finished for job in running):
        raise Conflict(
            _("The certificates are still being made. Download them when the job has finished.")
        )


@bp.get("/cohorts/<int:cohort_id>/certificates.zip")
@login_required
def cohort_zip(cohort_id: int) -> Any:
    cohort = _cohort_for("certificates.issue", cohort_id)
    _refuse_while_rendering(cohort.id)
    data = rendering.zip_of(_valid_certificates(cohort.id))
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="certificates-{cohort.id}.zip"'},
    )


@bp.get("/cohorts/<int:cohort_id>/print.pdf")
@login_required
def cohort_print(cohort_id: int) -> Any:
    cohort = _cohort_for("certificates.issue", cohort_id)
    _refuse_while_rendering(cohort.id)
    data = rendering.merged_pdf(_valid_certificates(cohort.id))
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificates-{cohort.id}.pdf"'},
    )


def render_cohort_section(cohort: Any, user: Any) -> str:
    """The certificates block on the cohort page: one's own certificate, or (for those who
    issue them) how many are issued and the way to the cohort's certificates page.

    One query: the page around it already shows who has completed the cohort.
    """
    from lms.accounts.permissions import can

    rows = db.session.execute(
        select(Certificate.id, Certificate.serial, Certificate.status, Certificate.recipient_id)
        .where(
            Certificate.cohort_id == cohort.id,
            or_(Certificate.status == VALID, Certificate.recipient_id == user.id),
        )
        .order_by(Certificate.serial)
    ).all()
    own = [row for row in rows if row.recipient_id == user.id]
    leads = can(user, "certificates.issue", cohort)
    if not own and not leads:
        return ""
    return Markup(  # nosec B704  # render_template output, autoescaped
        render_template(
            "certificates/cohort_section.html",
            cohort=cohort,
            own=own,
            issued=sum(1 for row in rows if row.status == VALID) if leads else None,
        )
    )
