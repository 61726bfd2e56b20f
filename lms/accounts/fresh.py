"""Fresh log-in for sensitive actions: decide on a module version, revoke or reissue a
certificate, grant or revoke a role.

``@fresh_login_required`` lets the request through only when the password was typed in this
session less than ``FRESH_LOGIN_MINUTES`` ago (``lms.accounts.sessions.is_fresh``).
Otherwise the person is sent to ``/account/confirm`` to type it again, and from there back
to the page they were on (a GET of the form's page): the refused request is never repeated
automatically, so nothing happens that they did not do twice on purpose.

Put it below the route's permission check, so people who may not act at all get the usual
403 rather than a password prompt::

    @bp.post("/things/<int:thing_id>/delete")
    @permission_required("things.delete")
    @fresh_login_required
    def delete(thing_id): ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.sessions import is_fresh

F = TypeVar("F", bound=Callable[..., Any])


def fresh_login_required(view: F) -> F:
    """Route decorator: the action needs a password typed in the last few minutes."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if is_fresh():
            return view(*args, **kwargs)
        message = _("For this action, please enter your password again.")
        from lms.api import is_api_request

        if is_api_request():
            body = {"error": {"status": 401, "title": _("Log in"), "message": message}}
            return jsonify(body), 401
        flash(message, "warning")
        return redirect(url_for("accounts.confirm", next=page_to_return_to()))

    wrapped.fresh_login_required = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def page_to_return_to() -> str:
    """The page to go back to after confirming: this one for a GET, else the page the form
    was sent from (the Referer on this site), else the home page. Always a path."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.scheme in {"http", "https"} and referrer.netloc == request.host:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("lms.home")
