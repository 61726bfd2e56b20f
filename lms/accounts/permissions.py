"""Permission checks: may this user do this, here, to this object?

A permission (registered by a plugin) lists the roles that grant it. A user's effective
grants are their ``RoleGrant`` rows plus their cohort memberships (a membership acts as a
grant scoped to that cohort). A global grant applies everywhere; a scoped one applies to an
object when the object lies in that scope, which plugins answer through ``object_scopes``.
Admins may do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import RoleGrant, User
from lms.accounts.roles import ADMIN
from lms.errors import NotAllowed
from lms.extensions import db

Grant = tuple[str, str, int]  # (role, scope type, scope id); ("teacher", "", 0) is global

F = TypeVar("F", bound=Callable[..., Any])


def effective_grants(user: User) -> frozenset[Grant]:
    """Role grants plus memberships; cached for the request."""
    cache: dict[int, frozenset[Grant]] | None = None
    if has_request_context():
        cache = g.setdefault("_lms_grants", {})
        if user.id in cache:
            return cache[user.id]
    from lms.cohorts.models import Membership

    grants: set[Grant] = set(
        db.session.execute(
            select(RoleGrant.role, RoleGrant.scope_type, RoleGrant.scope_id).where(
                RoleGrant.user_id == user.id
            )
        )
    )
    for role, cohort_id in db.session.execute(
        select(Membership.role, Membership.cohort_id).where(Membership.user_id == user.id)
    ):
        grants.add((role, "cohort", cohort_id))
    result = frozenset(grants)
    if cache is not None:
        cache[user.id] = result
    return result


def forget_grants() -> None:
    """Drop the per-request cache after grants or memberships change."""
    if has_request_context():
        g.pop("_lms_grants", None)


def has_role(user: User, role: str, *, globally: bool = False) -> bool:
    """Whether the user holds ``role`` (anywhere, or only as a global grant)."""
    return any(
        r == role and (not globally or scope == "") for r, scope, _ in effective_grants(user)
    )


def scopes_of(obj: Any) -> set[tuple[str, int]]:
    """The scopes containing ``obj``, as the plugins report them."""
    pm = current_app.extensions["lms"].pm
    scopes: set[tuple[str, int]] = set()
    for result in pm.hook.object_scopes(obj=obj):
        if result:
            scopes.update(result)
    return scopes


def can(user: Any, permission: str, obj: Any = None) -> bool:
    """May ``user`` use ``permission`` on ``obj`` (or anywhere, when ``obj`` is None)?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    registry = current_app.extensions["lms"].registries.permissions
    if permission not in registry:
        raise KeyError(f"unknown permission {permission!r}")
    grants = effective_grants(user)
    if any(role == ADMIN and scope == "" for role, scope, _ in grants):
        return True
    roles = registry[permission].roles
    relevant = [(scope, sid) for role, scope, sid in grants if role in roles]
    if not relevant:
        return False
    if any(scope == "" for scope, _ in relevant):
        return True
    if obj is None:
        return True
    return bool(scopes_of(obj).intersection(relevant))


def require(permission: str, obj: Any = None) -> None:
    """Raise ``NotAllowed`` (a 403 page) unless the current user may."""
    if not can(current_user, permission, obj):
        raise NotAllowed()


def permission_required(permission: str) -> Callable[[F], F]:
    """Route decorator for pages with no single object; object routes call ``require``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            require(permission)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
