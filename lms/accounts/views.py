"""Logging in and out, and a person's own account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import services
from lms.accounts.forms import ChangePasswordForm, LoginForm, ProfileForm
from lms.audit import services as audit
from lms.errors import Invalid
from lms.extensions import db, limiter
from lms.forms import apply_field_errors
from lms.urls import safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            audit.record(
                "login.failure",
                "user",
                services.normalise_username(form.username.data or "")[:64],
                actor_id=None,
            )
            db.session.commit()
            form.password.errors = [_("The user name or password is wrong.")]
        else:
            session.clear()  # a fresh session on log-in
            session["lang"] = user.preferred_language
            login_user(user, remember=bool(form.remember.data))
            audit.record("login.success", "user", user.id, actor_id=user.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("lms/accounts/login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "success")
    return redirect(url_for("lms.home"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.preferred_language = form.preferred_language.data
        current_user.email = (form.email.data or "").strip() or None
        current_user.phone = (form.phone.data or "").strip() or None
        session["lang"] = current_user.preferred_language
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("lms/accounts/profile.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except Invalid as error:
            apply_field_errors(form, error)
        else:
            db.session.commit()
            # Keep this session (its identity now carries the new session version).
            login_user(current_user._get_current_object())  # type: ignore[attr-defined]
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("lms/accounts/password.html", form=form)
