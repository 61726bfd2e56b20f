"""Account logic: creating people, logging in, changing passwords, granting roles.

Plain functions with explicit arguments; views call them and commit nothing themselves.
Every role change writes an audit entry in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import RoleGrant, User
from lms.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from lms.accounts.roles import EXPERTISE, REVIEWER, ROLE_SCOPES, ROLES, SEXES
from lms.audit import services as audit
from lms.config import LANGUAGES
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.timeutil import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def normalise_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def password_problem(password: str) -> Any | None:
    """Why a new password is refused, or None. Length only, no composition rules."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)s characters.", n=MAX_LENGTH)
    return None


def validate_user_fields(
    *, username: str, name: str, sex: str, preferred_language: str
) -> dict[str, list[Any]]:
    """Field errors for a new or edited account (empty when all is well)."""
    errors: dict[str, list[Any]] = {}
    if not USERNAME_RE.match(username):
        errors.setdefault("username", []).append(
            _l("Use 2–63 Latin letters, digits, dots, dashes or underscores.")
        )
    if not name.strip():
        errors.setdefault("name", []).append(_l("Enter the person's full name."))
    elif len(name) > 200:
        errors.setdefault("name", []).append(_l("Use at most %(n)s characters.", n=200))
    if sex not in SEXES:
        errors.setdefault("sex", []).append(_l("Choose female or male."))
    if preferred_language not in LANGUAGES:
        errors.setdefault("preferred_language", []).append(_l("Choose English, Russian or Kyrgyz."))
    return errors


def create_user(
    *,
    username: str,
    name: str,
    sex: str,
    password: str,
    preferred_language: str = "ru",
    email: str | None = None,
    phone: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Add an account (not committed). Raises ``Invalid`` with field errors, or ``Conflict``."""
    username = normalise_username(username)
    errors = validate_user_fields(
        username=username, name=name, sex=sex, preferred_language=preferred_language
    )
    if problem := password_problem(password):
        errors.setdefault("password", []).append(problem)
    if errors:
        raise Invalid(field_errors=errors)
    if username_taken(username):
        raise Conflict(
            _l("The user name %(u)s is already taken.", u=username),
            field_errors={"username": [_l("This user name is already taken.")]},
        )
    user = User(
        username=username,
        name=name.strip(),
        sex=sex,
        preferred_language=preferred_language,
        email=(email or "").strip() or None,
        phone=(phone or "").strip() or None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor_id=actor_id, details={"username": username})
    return user


def username_taken(username: str, *, except_id: int | None = None) -> bool:
    query = select(User.id).where(User.username == normalise_username(username))
    if except_id is not None:
        query = query.where(User.id != except_id)
    return db.session.scalar(query) is not None


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades old hashes on the way."""
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Check the current password, set the new one, and end every other session."""
    if not verify_password(user.password_hash, current):
        raise Invalid(field_errors={"current_password": [_l("This is not your current password.")]})
    set_password(user, new)


def set_password(user: User, new: str, *, actor_id: int | None = None) -> None:
    if problem := password_problem(new):
        raise Invalid(field_errors={"new_password": [problem]})
    user.password_hash = hash_password(new)
    user.session_version += 1
    audit.record("user.password", "user", user.id, actor_id=actor_id or user.id)


def grant_role(
    user: User,
    role: str,
    *,
    scope_type: str = "",
    scope_id: int = 0,
    expertise: str | None = None,
    actor_id: int | None,
) -> RoleGrant:
    """Give ``user`` a role, optionally scoped; audited. Raises ``Invalid`` or ``Conflict``."""
    if role not in ROLES:
        raise Invalid(_l("Unknown role."))
    if scope_type not in ROLE_SCOPES[role]:
        raise Invalid(_l("This role cannot be limited that way."))
    if (scope_type == "") != (scope_id == 0):
        raise Invalid(_l("Choose what the role is limited to."))
    if role == REVIEWER:
        if expertise not in EXPERTISE:
            raise Invalid(_l("Choose the reviewer's expertise."))
    else:
        expertise = None
    exists = db.session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role,
            RoleGrant.scope_type == scope_type,
            RoleGrant.scope_id == scope_id,
        )
    )
    if exists:
        raise Conflict(_l("This person already has this role."))
    grant = RoleGrant(
        user_id=user.id,
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        expertise=expertise,
        granted_by_id=actor_id,
    )
    db.session.add(grant)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("This person already has this role.")) from None
    audit.record(
        "role.grant",
        "user",
        user.id,
        actor_id=actor_id,
        details={"role": role, "scope": scope_type, "scope_id": scope_id, "expertise": expertise},
    )
    return grant


def revoke_role(grant_id: int, *, actor_id: int | None) -> None:
    """Take a role grant away; audited."""
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound()
    audit.record(
        "role.revoke",
        "user",
        grant.user_id,
        actor_id=actor_id,
        details={"role": grant.role, "scope": grant.scope_type, "scope_id": grant.scope_id},
    )
    db.session.delete(grant)


def set_active(user: User, active: bool, *, actor_id: int | None) -> None:
    """Disable or re-enable an account; disabling ends all of its sessions."""
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    audit.record("user.enable" if active else "user.disable", "user", user.id, actor_id=actor_id)


def account_counts() -> dict[str, int]:
    """Numbers for the admin panel: accounts, active ones, and holders of each role."""
    total, active = db.session.execute(
        select(func.count(User.id), func.count(User.id).filter(User.active.is_(True)))
    ).one()
    by_role = dict(
        db.session.execute(
            select(RoleGrant.role, func.count(func.distinct(RoleGrant.user_id))).group_by(
                RoleGrant.role
            )
        )
    )
    return {"total": total, "active": active, **{f"role:{k}": v for k, v in by_role.items()}}
