"""Account logic: creating people, logging in, changing passwords, granting roles.

Plain functions with explicit arguments; views call them and commit nothing themselves.
Every role change writes an audit entry in the same transaction.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.accounts.models import RoleGrant, User
from lms.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from lms.accounts.roles import (
    ADMIN,
    EXPERTISE,
    REVIEWER,
    ROLE_SCOPES,
    ROLES,
    SCOPE_LABELS,
    SEXES,
)
from lms.audit import services as audit
from lms.config import LANGUAGES
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.timeutil import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def normalise_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


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
    if problem := password_problem(password, username):
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
    assert user is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
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
    """A new password (checked by ``password_problem``); every session of the user ends."""
    if problem := password_problem(new, user.username):
        raise Invalid(field_errors={"new_password": [problem]})
    user.password_hash = hash_password(new)
    end_all_sessions(user)
    audit.record("user.password", "user", user.id, actor_id=actor_id or user.id)


def end_all_sessions(user: User) -> None:
    """Bump the session version: every session and remember-me cookie of ``user`` stops
    being accepted (sessions are signed cookies, so the server refuses their old copies).

    An increment in SQL, so two requests bumping at once both count.
    """
    user.session_version = User.session_version + 1
    db.session.flush()


def confirm_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (re-authentication before a sensitive action)."""
    return user.active and verify_password(user.password_hash, password)


def log_out(user: User) -> None:
    """Log out everywhere: this session, the user's other sessions and remember-me cookies."""
    end_all_sessions(user)
    audit.record("logout", "user", user.id, actor_id=user.id)


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
    end_all_sessions(user)
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
        ).all()
    )
    return {"total": total, "active": active, **{f"role:{k}": v for k, v in by_role.items()}}


# --- Administration: the admin pages' account list, edits, guarded changes and scopes ---

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Letters and digits nobody confuses when a password is read aloud or copied from paper.
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


def contact_problems(*, email: str | None, phone: str | None) -> dict[str, list[Any]]:
    """Field errors for the optional e-mail and phone (empty when all is well)."""
    errors: dict[str, list[Any]] = {}
    email = (email or "").strip()
    phone = (phone or "").strip()
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        errors["email"] = [_l("Enter an e-mail address like name@example.org, or leave it empty.")]
    if len(phone) > 32:
        errors["phone"] = [_l("Use at most %(n)s characters.", n=32)]
    return errors


def generate_password(groups: int = 3, size: int = 4) -> str:
    """A random password that is easy to read out and type (about 59 bits: xxxx-xxxx-xxxx)."""
    return "-".join("".join(secrets.choice(_READABLE) for _ in range(size)) for _ in range(groups))


def user_list_query(*, search: str = "", role: str = "", status: str = "") -> Select[Any]:
    """Accounts for the admin list, filtered, with their grants loaded in one extra query."""
    query = select(User).options(selectinload(User.grants))
    search = search.strip()
    if search:
        query = query.where(
            or_(
                User.name.icontains(search, autoescape=True),
                User.username.icontains(normalise_username(search), autoescape=True),
            )
        )
    if role:
        query = query.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "disabled":
        query = query.where(User.active.is_(False))
    return query.order_by(User.name, User.id)


def _scope_models() -> dict[str, Any]:
    from lms.cohorts.models import Cohort
    from lms.organisations.models import Madrasa, Region

    return {"region": Region, "madrasa": Madrasa, "cohort": Cohort}


def scope_names(scopes: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Readable names of scopes: one query per kind of scope, however many grants."""
    wanted: dict[str, set[int]] = {}
    for kind, scope_id in scopes:
        if kind:
            wanted.setdefault(kind, set()).add(scope_id)
    models = _scope_models()
    names: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None:  # e.g. manuals, owned by a plugin
            continue
        for obj in db.session.scalars(select(model).where(model.id.in_(ids))):
            names[(kind, obj.id)] = str(obj)
    return names


def grant_label(grant: RoleGrant, names: dict[tuple[str, int], str]) -> str:
    """'Teacher · Madrasa Nur', 'Expert reviewer · Theology', 'Administrator'."""
    parts = [str(ROLES.get(grant.role, grant.role))]
    if grant.scope_type:
        key = (grant.scope_type, grant.scope_id)
        kind = str(SCOPE_LABELS.get(grant.scope_type, grant.scope_type))
        parts.append(names.get(key) or f"{kind} {grant.scope_id}")
    if grant.expertise:
        parts.append(str(EXPERTISE.get(grant.expertise, grant.expertise)))
    return " · ".join(parts)


def scope_options() -> list[tuple[str, str, str]]:
    """Every place a role can be limited to, as (kind, value, label) for one select."""
    from lms.cohorts.models import Cohort
    from lms.organisations.models import Madrasa, Region

    options: list[tuple[str, str, str]] = [("", "", str(SCOPE_LABELS[""]))]
    for region in db.session.scalars(select(Region).order_by(Region.position, Region.id)):
        options.append(("region", f"region:{region.id}", region.name))
    madrasas = db.session.execute(
        select(Madrasa.id, Madrasa.name, Region).join(Region).order_by(Madrasa.name, Madrasa.id)
    )
    for madrasa_id, name, region in madrasas:
        options.append(("madrasa", f"madrasa:{madrasa_id}", f"{name} ({region.name})"))
    cohorts = db.session.execute(
        select(Cohort.id, Cohort.name)
        .where(Cohort.archived.is_(False))
        .order_by(Cohort.name, Cohort.id)
    )
    for cohort_id, name in cohorts:
        options.append(("cohort", f"cohort:{cohort_id}", name))
    return options


def parse_scope(value: str) -> tuple[str, int]:
    """'' → ('', 0); 'madrasa:5' → ('madrasa', 5); anything else is a field error."""
    if not value:
        return "", 0
    kind, _, raw = value.partition(":")
    if kind not in SCOPE_LABELS or not raw.isdigit() or int(raw) <= 0:
        raise Invalid(field_errors={"scope": [_l("Choose where the role applies.")]})
    return kind, int(raw)


def role_problems(role: str, scope_type: str, expertise: str | None) -> dict[str, list[Any]]:
    """Why this role cannot be granted this way, as field errors (role, scope, expertise)."""
    if role not in ROLES:
        return {"role": [_l("Choose one of the roles in the list.")]}
    errors: dict[str, list[Any]] = {}
    allowed = ROLE_SCOPES[role]
    if scope_type not in allowed:
        errors["scope"] = [
            _l(
                "The role “%(role)s” cannot be limited to a %(scope)s. Possible: %(allowed)s.",
                role=ROLES[role],
                scope=SCOPE_LABELS.get(scope_type, scope_type),
                allowed=", ".join(str(SCOPE_LABELS[s]) for s in allowed),
            )
        ]
    if role == REVIEWER and expertise not in EXPERTISE:
        errors["expertise"] = [_l("Choose the reviewer's expertise.")]
    elif role != REVIEWER and expertise:
        errors["expertise"] = [_l("Only expert reviewers have an expertise; leave it empty.")]
    return errors


def grant_role_from_form(
    user: User, *, role: str, scope: str, expertise: str | None, actor_id: int | None
) -> RoleGrant:
    """``grant_role`` for the admin pages: the scope as one value, mistakes as field errors."""
    scope_type, scope_id = parse_scope(scope)
    if errors := role_problems(role, scope_type, expertise or None):
        raise Invalid(field_errors=errors)
    model = _scope_models().get(scope_type)
    if model is not None and db.session.get(model, scope_id) is None:
        raise Invalid(field_errors={"scope": [_l("This place no longer exists.")]})
    return grant_role(
        user,
        role,
        scope_type=scope_type,
        scope_id=scope_id,
        expertise=expertise or None,
        actor_id=actor_id,
    )


def update_user(
    user: User,
    *,
    name: str,
    sex: str,
    preferred_language: str,
    email: str | None,
    phone: str | None,
    actor_id: int | None,
) -> None:
    """Change a person's details (not the user name); audited with the fields that changed."""
    errors = validate_user_fields(
        username=user.username, name=name, sex=sex, preferred_language=preferred_language
    )
    errors.pop("username", None)  # unchanged here; older names may predate today's rule
    errors.update(contact_problems(email=email, phone=phone))
    if errors:
        raise Invalid(field_errors=errors)
    values = {
        "name": name.strip(),
        "sex": sex,
        "preferred_language": preferred_language,
        "email": (email or "").strip() or None,
        "phone": (phone or "").strip() or None,
    }
    changed = sorted(key for key, value in values.items() if getattr(user, key) != value)
    if not changed:
        return
    for key in changed:
        setattr(user, key, values[key])
    audit.record("user.update", "user", user.id, actor_id=actor_id, details={"fields": changed})


def set_active_guarded(user: User, active: bool, *, actor_id: int | None) -> None:
    """``set_active`` for the admin pages: nobody can lock themselves out by disabling."""
    if not active and user.id == actor_id:
        raise Invalid(_l("You cannot disable your own account. Ask another administrator."))
    set_active(user, active, actor_id=actor_id)


def revoke_role_guarded(user: User, grant_id: int, *, actor_id: int | None) -> RoleGrant:
    """Revoke one of ``user``'s grants, but never the acting admin's own global admin role.

    So there is always at least one administrator left: the one acting.
    """
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound()
    if grant.user_id == actor_id and grant.role == ADMIN and grant.is_global:
        raise Invalid(
            _l("You cannot take away your own administrator role. Ask another administrator.")
        )
    revoke_role(grant.id, actor_id=actor_id)
    return grant


def _merge_errors(into: dict[str, list[Any]], more: dict[str, list[Any]]) -> None:
    for key, messages in more.items():
        into.setdefault(key, []).extend(messages)


def create_user_with_role(
    *,
    username: str,
    name: str,
    sex: str,
    password: str,
    preferred_language: str,
    email: str | None,
    phone: str | None,
    role: str = "",
    scope: str = "",
    expertise: str | None = None,
    actor_id: int | None,
) -> User:
    """``create_user`` plus an optional first role, for the admin form (not committed).

    Every mistake comes back at once as field errors; the caller rolls back on an error.
    """
    problems = contact_problems(email=email, phone=phone)
    if role:
        try:
            scope_type, _ = parse_scope(scope)
        except Invalid as error:
            _merge_errors(problems, error.field_errors)
        else:
            _merge_errors(problems, role_problems(role, scope_type, expertise or None))
    try:
        user = create_user(
            username=username,
            name=name,
            sex=sex,
            password=password,
            preferred_language=preferred_language,
            email=email,
            phone=phone,
            actor_id=actor_id,
        )
    except Invalid as error:
        _merge_errors(problems, error.field_errors)
        raise Invalid(field_errors=problems) from None
    except IntegrityError:  # someone took the name between the check and the insert
        raise Conflict(
            _l("The user name %(u)s is already taken.", u=normalise_username(username)),
            field_errors={"username": [_l("This user name is already taken.")]},
        ) from None
    if problems:
        raise Invalid(field_errors=problems)
    if role:
        grant_role_from_form(user, role=role, scope=scope, expertise=expertise, actor_id=actor_id)
    return user
