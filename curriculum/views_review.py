"""Pages where editors write versions and the expert panel reviews them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from curriculum import feedback as feedback_service
from curriculum import review, translations, versions
from curriculum.blueprint import bp
from curriculum.content import parse_blocks
from curriculum.diff import diff_blocks
from curriculum.forms import CommentForm, DecisionForm, DismissForm, DraftForm, PolicyForm, SeatForm
from curriculum.models import Manual, Module, ModuleVersion
from curriculum.render import render_block
from curriculum.services import get_manual
from lms.accounts.fresh import fresh_login_required
from lms.accounts.models import User
from lms.accounts.permissions import can, permission_required, require
from lms.accounts.services import normalise_username
from lms.config import LANGUAGES
from lms.errors import LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.forms import apply_field_errors
from lms.pagecache import cached_page


def manual_or_404(slug: str) -> Manual:
    manual = get_manual(slug)
    if manual is None:
        raise NotFound()
    return manual


def require_workbench(manual: Manual) -> None:
    """Versions and reviews are for the curriculum team: editors and expert reviewers."""
    if not (
        can(current_user, "curriculum.edit", manual)
        or can(current_user, "curriculum.review", manual)
    ):
        raise NotAllowed()


def _version_or_404(version_id: int) -> ModuleVersion:
    version = versions.get_version(version_id)
    require_workbench(version.module.manual)
    return version


@bp.get("/<slug>/modules/<module_slug>")
@login_required
def module(slug: str, module_slug: str) -> Any:
    """Every version of a module, per language, with its review state."""
    manual = manual_or_404(slug)
    require_workbench(manual)
    found = versions.get_module(manual, module_slug)
    if found is None:
        raise NotFound()
    by_language: dict[str, list[ModuleVersion]] = {}
    for version in versions.versions_of(found):
        by_language.setdefault(version.language, []).append(version)
    return render_template(
        "curriculum/module.html", manual=manual, module=found, by_language=by_language
    )


@bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int) -> Any:
    """The review page: the text paragraph by paragraph, who approved each paragraph's
    current text, comments anchored to paragraphs, and the reviewer's decision form."""
    found = _version_or_404(version_id)
    blocks = parse_blocks(found.body)
    status = review.approval_status(found) if not found.is_draft else None
    seat = review.seat_of(current_user, found)
    mine = status.decisions.get(seat.id) if (status and seat) else None
    decision_form = DecisionForm()
    if mine is not None:
        decision_form.decision.data = mine.decision
    return render_template(
        "curriculum/version.html",
        version=found,
        manual=found.module.manual,
        rendered=[(block, render_block(block)) for block in blocks],
        status=status,
        seat=seat,
        my_decision=mine,
        paragraph_approvals=review.paragraph_approvals(found) if status else {},
        threads=review.comment_threads(found),
        decision_form=decision_form,
        comment_form=CommentForm(),
        can_edit=can(current_user, "curriculum.edit", found.module.manual),
        can_dismiss=can(current_user, "curriculum.dismiss"),
        freshness=translations.freshness(found),
        answered_feedback=feedback_service.resolved_by(found),
        previous=found.based_on,
        decisions=review.DECISIONS,
    )


@bp.route("/versions/<int:version_id>/edit", methods=["GET", "POST"])
@login_required
def edit_draft(version_id: int) -> Any:
    found = _version_or_404(version_id)
    require("curriculum.edit", found.module.manual)
    if not found.is_draft:
        flash(_("This version has been submitted; start a new draft to change it."), "warning")
        return redirect(url_for("curriculum.version", version_id=found.id))
    form = DraftForm()
    status = 200
    if form.validate_on_submit():
        try:
            lock_version = int(form.lock_version.data or 0)
        except ValueError:
            lock_version = -1  # not sent by this page: refused below as an outdated form
        try:
            versions.save_draft(
                found,
                form.text.data or "",
                expected_lock_version=lock_version,
                change_summary=form.change_summary.data or "",
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
            found = versions.get_version(version_id)
            status = error.status_code
        else:
            db.session.commit()
            flash(_("The draft is saved."), "success")
            return redirect(url_for("curriculum.version", version_id=found.id))
    elif request.method == "GET":
        form.text.data = versions.file_text(found)
        form.change_summary.data = found.change_summary
        form.lock_version.data = str(found.lock_version)
    return render_template("curriculum/edit_draft.html", version=found, form=form), status


@bp.post("/versions/<int:version_id>/submit")
@login_required
def submit(version_id: int) -> Any:
    found = _version_or_404(version_id)
    require("curriculum.edit", found.module.manual)
    try:
        versions.submit(found, actor_id=current_user.id)
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Submitted for review. The text can no longer change."), "success")
    return redirect(url_for("curriculum.version", version_id=version_id))


@bp.post("/versions/<int:version_id>/new-draft")
@login_required
def new_draft(version_id: int) -> Any:
    found = _version_or_404(version_id)
    require("curriculum.edit", found.module.manual)
    try:
        draft = versions.new_draft_from(found, author_id=current_user.id)
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("curriculum.version", version_id=version_id))
    db.session.commit()
    return redirect(url_for("curriculum.edit_draft", version_id=draft.id))


@bp.post("/versions/<int:version_id>/discard")
@login_required
def discard(version_id: int) -> Any:
    found = _version_or_404(version_id)
    require("curriculum.edit", found.module.manual)
    module = found.module
    try:
        versions.delete_draft(found, actor_id=current_user.id)
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("curriculum.version", version_id=version_id))
    db.session.commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("curriculum.module", slug=module.manual.slug, module_slug=module.slug))


@bp.get("/versions/<int:version_id>/diff")
@login_required
@cached_page
def diff(version_id: int) -> Any:
    """Word-level differences between this version and another of the same module."""
    found = _version_or_404(version_id)
    against_id = request.args.get("against", type=int) or found.based_on_id
    mode = "side" if request.args.get("mode") == "side" else "inline"
    other = db.session.get(ModuleVersion, against_id) if against_id else None
    if other is None or other.module_id != found.module_id:
        raise NotFound()
    comparison = diff_blocks(parse_blocks(other.body), parse_blocks(found.body))
    siblings = versions.versions_of(found.module)
    return render_template(
        "curriculum/diff.html",
        version=found,
        other=other,
        diff=comparison,
        mode=mode,
        siblings=siblings,
    )


@bp.post("/versions/<int:version_id>/decide")
@login_required
@permission_required("curriculum.review")
@fresh_login_required
def decide(version_id: int) -> Any:
    found = _version_or_404(version_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose a decision."), "error")
        return redirect(url_for("curriculum.version", version_id=version_id))
    try:
        review.decide(found, current_user, form.decision.data or "", form.reasons.data or "")
    except NotAllowed:
        raise  # no seat on the panel, or one's own version: a 403, not a note on the page
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Your decision is recorded."), "success")
    return redirect(url_for("curriculum.version", version_id=version_id))


@bp.post("/reviews/<int:review_id>/withdraw")
@login_required
@permission_required("curriculum.review")
def withdraw(review_id: int) -> Any:
    decision = review.get_review(review_id)
    require_workbench(decision.version.module.manual)
    try:
        review.withdraw(decision, current_user)
    except NotAllowed:
        raise  # someone else's decision: a 403, not a note on the page
    except LmsError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Your decision is withdrawn."), "success")
    return redirect(url_for("curriculum.version", version_id=decision.version_id))


@bp.route("/reviews/<int:review_id>/dismiss", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.dismiss")
def dismiss(review_id: int) -> Any:
    decision = review.get_review(review_id)
    form = DismissForm()
    if form.validate_on_submit():
        try:
            review.dismiss(decision, current_user, form.reason.data or "")
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The request for changes was dismissed; the reason is logged."), "success")
            return redirect(url_for("curriculum.version", version_id=decision.version_id))
    return render_template("curriculum/dismiss.html", decision=decision, form=form)


@bp.post("/versions/<int:version_id>/comments")
@login_required
def comment(version_id: int) -> Any:
    found = _version_or_404(version_id)
    form = CommentForm()
    paragraph = form.paragraph_id.data or ""
    if form.validate_on_submit():
        try:
            review.add_comment(
                found,
                current_user,
                paragraph,
                form.body.data or "",
                int(form.parent_id.data) if (form.parent_id.data or "").isdigit() else None,
            )
        except LmsError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("Your comment is added."), "success")
    else:
        flash(_("Write a comment."), "error")
    return redirect(url_for("curriculum.version", version_id=version_id, _anchor=f"b-{paragraph}"))


@bp.post("/comments/<int:comment_id>/resolve")
@login_required
def resolve_comment(comment_id: int) -> Any:
    from curriculum.models import ReviewComment

    found = db.session.get(ReviewComment, comment_id)
    if found is None:
        raise NotFound()
    require_workbench(found.version.module.manual)
    review.resolve_comment(found, current_user)
    db.session.commit()
    return redirect(
        url_for(
            "curriculum.version",
            version_id=request.form.get("version_id", type=int) or found.version_id,
        )
    )


@bp.get("/review")
@login_required
@permission_required("curriculum.review")
@cached_page
def queue() -> Any:
    """What awaits the reviewer, with the changes since their last approval."""
    return render_template(
        "curriculum/queue.html",
        items=review.review_queue(current_user),
        decisions=review.DECISIONS,
    )


@bp.route("/<slug>/panel/<language>", methods=["GET", "POST"])
@login_required
@permission_required("curriculum.panel")
def panel(slug: str, language: str) -> Any:
    """The review panel of a manual in one language: seats and the approval policy."""
    manual = manual_or_404(slug)
    if language not in LANGUAGES:
        raise NotFound()
    the_panel = review.ensure_panel(manual, language, actor_id=current_user.id)
    db.session.commit()
    seat_form = SeatForm(prefix="seat")
    policy_form = PolicyForm(prefix="policy")
    action = request.form.get("action")
    if request.method == "POST":
        try:
            if action == "seat" and seat_form.validate():
                person = db.session.scalar(
                    select(User).where(
                        User.username == normalise_username(seat_form.username.data or "")
                    )
                )
                if person is None:
                    seat_form.username.errors = [_("There is no user with this user name.")]
                    raise _FormError()
                review.add_seat(
                    the_panel, person, seat_form.domain.data or "", actor_id=current_user.id
                )
            elif action == "remove":
                seat = next(
                    (s for s in the_panel.seats if s.id == request.form.get("seat_id", type=int)),
                    None,
                )
                if seat is None:
                    raise NotFound()
                review.remove_seat(seat, actor_id=current_user.id)
            elif action == "policy" and policy_form.validate():
                quorum = {
                    domain: getattr(policy_form, domain).data or 0
                    for domain in (
                        "theology",
                        "public_policy",
                        "civic_education",
                        "methodology",
                        "health",
                    )
                }
                review.set_policy(
                    the_panel, policy_form.policy.data or "", quorum, actor_id=current_user.id
                )
            else:
                raise _FormError()
        except _FormError:
            db.session.rollback()
        except LmsError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The panel is saved."), "success")
            return redirect(url_for("curriculum.panel", slug=slug, language=language))
    else:
        policy_form.policy.data = the_panel.policy
        for domain, count in (the_panel.quorum or {}).items():
            if hasattr(policy_form, domain):
                getattr(policy_form, domain).data = count
    the_panel = review.panel_for(manual.id, language)
    return render_template(
        "curriculum/panel_admin.html",
        manual=manual,
        language=language,
        panel=the_panel,
        seat_form=seat_form,
        policy_form=policy_form,
    )


class _FormError(Exception):
    """A form field is wrong; its errors are shown next to it."""


def module_link(module: Module) -> str:
    return url_for("curriculum.module", slug=module.manual.slug, module_slug=module.slug)
