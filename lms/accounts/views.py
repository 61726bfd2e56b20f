"""Logging in and out, confirming one's password, and a person's own account.

Failed log-in attempts are throttled with Flask-Limiter (in Redis when
``RATELIMIT_STORAGE_URI`` names it, so every gunicorn worker counts together): per address
(``LOGIN_RATE_LIMIT``) and per account (``LOGIN_ACCOUNT_RATE_LIMIT``), the account keyed by
the user name as typed and normalised, so the answer is the same whether it exists or not.
Once a limit is reached every attempt is refused (429) until the window passes. The
re-authentication page shares both counts.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services, sessions
from lms.accounts.forms import ChangePasswordForm, ConfirmForm, LoginForm, ProfileForm
from lms.audit import services as audit
from lms.errors import Invalid
from lms.extensions import db, limiter
from lms.forms import apply_field_errors
from lms.urls import safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def _account_key() -> str:
    """The account an attempt is for: the name typed (log-in) or the user's (confirmation)."""
    if request.endpoint == "accounts.confirm" and current_user.is_authenticated:
        name = current_user.username
    else:
        name = services.normalise_username(request.form.get("username", ""))[:64]
    return f"account:{name}"


def _attempt_failed(_response: Any) -> bool:
    """Only failed attempts count against an account (so its owner is not locked out by
    their own successful log-ins)."""
    return bool(g.get("lms_login_failed"))


#: Failed attempts per address and per account. Successful log-ins never count: a class of
#: thirty behind one school router logs in at the start of a lesson.
login_limits = (
    limiter.shared_limit(
        _login_limit, scope="login-address", methods=["POST"], deduct_when=_attempt_failed
    ),
    limiter.shared_limit(
        _account_limit,
        scope="login-account",
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_attempt_failed,
    ),
)


def _throttled(view: Any) -> Any:
    for limit in reversed(login_limits):
        view = limit(view)
    return view


@bp.route("/login", methods=["GET", "POST"])
@_throttled
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data or "", form.password.data or "")
        if user is None:
            g.lms_login_failed = True
            audit.record(
                "login.failure",
                "user",
                services.normalise_username(form.username.data or "")[:64],
                actor_id=None,
            )
            db.session.commit()
            form.password.errors = [_("The user name or password is wrong.")]
        else:
            sessions.start(user, remember=bool(form.remember.data))
            session["lang"] = user.preferred_language  # kept after logging out
            audit.record("login.success", "user", user.id, actor_id=user.id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("lms/accounts/login.html", form=form)


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@_throttled
def confirm() -> Any:
    """Type the password again before a sensitive action; then back to the page (a GET)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        if services.confirm_password(user, form.password.data or ""):
            sessions.confirmed()
            audit.record("login.confirm", "user", user.id, actor_id=user.id)
            db.session.commit()
            flash(_("Thank you. You can continue now."), "success")
            return redirect(safe_next(request.args.get("next")))
        g.lms_login_failed = True
        audit.record("login.confirm_failure", "user", user.id, actor_id=user.id)
        db.session.commit()
        form.password.errors = [_("This is not your password.")]
    return render_template("lms/accounts/confirm.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    """Log out here and everywhere else (other devices, remember-me cookies)."""
    if current_user.is_authenticated:
        services.log_out(current_user._get_current_object())  # type: ignore[attr-defined]
        db.session.commit()
    sessions.end()
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
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except Invalid as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            # Every other session has ended; this one continues with the new session version.
            sessions.keep(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("lms/accounts/password.html", form=form)
