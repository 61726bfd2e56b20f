"""Log-in sessions: how they start, how long they live, and how they end.

Sessions are signed cookies kept by the browser, so the server cannot delete one; it refuses
old copies instead. What a session (and a remember-me cookie) holds is the user's identity
``"id:session_version:issued"`` (``User.get_session_identity``):

- bumping ``User.session_version`` (log-out, password change, disabling) ends every session
  and remember-me cookie of that user at once;
- ``issued`` bounds a remember-me cookie to ``REMEMBER_COOKIE_DURATION`` on the server too,
  whatever expiry the browser was told.

Each session also records when it began (``LOGIN_AT``), its last request (``SEEN_AT``) and
when the password was last typed in it (``AUTH_AT``). A session idle for longer than
``SESSION_IDLE_MINUTES``, or older than ``SESSION_MAX_HOURS``, ends: the person is sent to
the log-in page with a message. With "keep me logged in" (a remember-me cookie, for a
personal phone) a new session starts from the cookie instead, until the cookie's term ends;
such a session never counts as a fresh log-in (see ``lms.accounts.fresh``).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, login_user, logout_user
from flask_login.utils import _create_identifier  # what session protection compares

from lms import pagecache
from lms.accounts.models import User
from lms.extensions import db, login_manager

#: Session keys (Flask-Login's own start with an underscore too).
LOGIN_AT = "_lms_login_at"
SEEN_AT = "_lms_seen_at"
AUTH_AT = "_lms_auth_at"
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds", LOGIN_AT, SEEN_AT, AUTH_AT)
#: The last-activity time is rewritten at most this often (seconds), not on every request.
SEEN_RESOLUTION = 30
#: How far in the future an issue time may lie (clocks of several servers differ a little).
CLOCK_SKEW = 300
#: Pages that work for visitors and that an ended session must not redirect away from.
_NO_REDIRECT = {"accounts.login", "accounts.logout", "lms.set_language", "lms.health"}


def now() -> float:
    """The clock sessions are measured with (tests move it)."""
    return time.time()


def init_app(app: Flask) -> None:
    """Load users from sessions and check every request's session (called by ``create_app``)."""
    login_manager.id_attribute = "get_session_identity"
    login_manager.user_loader(load_user)
    app.before_request(check_session)


def remember_seconds() -> float:
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=14))
    if isinstance(duration, timedelta):
        return duration.total_seconds()
    return float(duration)


def load_user(identity: str) -> User | None:
    """The user a session or remember-me cookie stands for, or None when it is no longer valid:
    malformed, issued longer ago than a remember-me cookie may live, a session version that
    has moved on (logged out, password changed, disabled), or a disabled account."""
    parsed = _parse_identity(identity)
    if parsed is None:
        return None
    user_id, version = parsed
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _parse_identity(identity: str) -> tuple[int, int] | None:
    """``(user id, session version)`` of an identity whose time of issue is acceptable, or
    None: malformed, issued longer ago than a remember-me cookie may live, or in the future."""
    parts = identity.split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    user_id, version, issued = (int(part) for part in parts)
    age = now() - issued
    if age > remember_seconds() or age < -CLOCK_SKEW:
        return None
    return user_id, version


def start(user: User, *, remember: bool) -> None:
    """A brand-new session for a user who has just typed their password.

    Nothing of the session before survives (no fixation): its data and CSRF token go, and
    the signed cookie the browser gets is a different one.
    """
    session.clear()
    login_user(user, remember=remember)
    moment = int(now())
    session[LOGIN_AT] = session[SEEN_AT] = session[AUTH_AT] = moment


def keep(user: User) -> None:
    """Stay logged in here after this user's session version changed (their own password
    change): a new identity with the same times; a remember-me cookie is renewed with it."""
    saved = {key: session[key] for key in (LOGIN_AT, SEEN_AT, AUTH_AT) if key in session}
    fresh = session.get("_fresh", True) is not False
    remember = _remember_cookie_name() in request.cookies
    login_user(user, remember=remember, fresh=fresh)
    session.update(saved)


def end() -> None:
    """Log out of this session and delete its remember-me cookie; the language stays."""
    lang = session.get("lang")
    logout_user()
    remember = session.get("_remember")
    session.clear()
    if remember:
        session["_remember"] = remember  # Flask-Login deletes the cookie in the response
    if lang:
        session["lang"] = lang


def confirmed() -> None:
    """The user has just typed their password again (the re-authentication page)."""
    confirm_login()
    session[AUTH_AT] = int(now())


def is_fresh() -> bool:
    """Whether the password was typed in this session less than ``FRESH_LOGIN_MINUTES`` ago
    (and the session was not restored from a remember-me cookie or moved to another browser)."""
    if not current_user.is_authenticated or session.get("_fresh") is False:
        return False
    typed = session.get(AUTH_AT)
    if not isinstance(typed, int | float):
        return False
    return now() - typed <= current_app.config["FRESH_LOGIN_MINUTES"] * 60


def _remember_cookie_name() -> str:
    return str(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _drop_login() -> None:
    """Forget who is logged in here, keeping the rest (language, CSRF token)."""
    for key in _LOGIN_KEYS:
        session.pop(key, None)
    g.pop("_login_user", None)  # Flask-Login loads again: from a remember-me cookie, or nobody


def _note_activity(moment: float) -> None:
    if moment - float(session.get(SEEN_AT) or 0) >= SEEN_RESOLUTION:
        session[SEEN_AT] = int(moment)


def _passes_checks_without_database() -> bool:
    """The session's identity is well-formed and of an acceptable age, and Flask-Login's
    session protection would pass (same browser identifier): everything about the session
    that can be known without loading the person. The rest is the database's
    (``pagecache.serve_kept_page`` says why a kept page may stand in for it)."""
    identity = session.get("_user_id")
    return (
        isinstance(identity, str)
        and _parse_identity(identity) is not None
        and session.get("_id") == _create_identifier()
    )


def check_session() -> Any:
    """Before every request: end sessions past their idle or absolute limit, or no longer
    valid; record activity; start a session from a remember-me cookie."""
    if _is_static():
        return None
    has_cookie = _remember_cookie_name() in request.cookies
    if "_user_id" not in session and not has_cookie:
        return pagecache.serve_kept_page()  # a visitor: nothing to check
    moment = now()
    config = current_app.config
    reason = None
    if "_user_id" in session and LOGIN_AT in session:
        if moment - float(session.get(SEEN_AT) or 0) > config["SESSION_IDLE_MINUTES"] * 60:
            reason = _(
                "You were logged out after %(n)s minutes without activity. Please log in again.",
                n=config["SESSION_IDLE_MINUTES"],
            )
        elif moment - float(session[LOGIN_AT]) > config["SESSION_MAX_HOURS"] * 3600:
            reason = _(
                "You were logged out because you logged in more than %(n)s hours ago. "
                "Please log in again.",
                n=config["SESSION_MAX_HOURS"],
            )
        if reason:
            _drop_login()
        elif pagecache.is_kept_endpoint() and _passes_checks_without_database():
            kept = pagecache.serve_kept_page()
            if kept is not None:
                _note_activity(moment)
                return kept
    had_identity = "_user_id" in session
    if current_user.is_authenticated:  # from the session, or restored from a remember-me cookie
        if LOGIN_AT not in session:
            session[LOGIN_AT] = session[SEEN_AT] = int(moment)
        else:
            _note_activity(moment)
        return None
    # Nobody is logged in now. Clear what no longer works, and say why.
    if had_identity and reason is None:
        reason = _("Your session has ended. Please log in again.")
    _drop_login()
    if has_cookie:
        session["_remember"] = "clear"
    if reason is None:
        return None
    from lms.api import is_api_request

    if is_api_request():
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    flash(reason, "warning")
    if request.endpoint in _NO_REDIRECT:
        return None
    if request.method == "GET":
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return redirect(url_for("accounts.login"))  # a form sent after the end: not repeated
