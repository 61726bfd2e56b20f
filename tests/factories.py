"""Factories for the nouns tests need: users with roles, madrasas, cohorts, members.

Each returns a flushed object; tests commit when they need a page to see it. Passwords are
hashed once per process (argon2 is slow by design).
"""

from __future__ import annotations

import itertools
from datetime import date
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.accounts.models import RoleGrant, User
from lms.accounts.passwords import hash_password
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.extensions import db
from lms.organisations.models import Madrasa, Region

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def region(code: str = "osh-region") -> Region:
    found = db.session.scalar(select(Region).where(Region.code == code))
    assert found is not None, f"no region {code}"
    return found


def user(
    role: str | None = None,
    *,
    username: str | None = None,
    name: str | None = None,
    sex: str = "female",
    language: str = "en",
    scope: Any = None,
    expertise: str | None = None,
    active: bool = True,
) -> User:
    """A user, optionally holding ``role`` (scoped to ``scope``: a Madrasa, Cohort or Region)."""
    n = next(_counter)
    person = User(
        username=username or f"user{n}",
        name=name or f"Test Person {n}",
        sex=sex,
        preferred_language=language,
        password_hash=_password_hash(),
        active=active,
    )
    db.session.add(person)
    db.session.flush()
    if role:
        grant(person, role, scope=scope, expertise=expertise)
    return person


def grant(person: User, role: str, *, scope: Any = None, expertise: str | None = None) -> RoleGrant:
    scope_type, scope_id = "", 0
    if scope is not None:
        scope_type, scope_id = type(scope).__name__.lower(), scope.id
    role_grant = RoleGrant(
        user_id=person.id, role=role, scope_type=scope_type, scope_id=scope_id, expertise=expertise
    )
    db.session.add(role_grant)
    db.session.flush()
    return role_grant


def madrasa(name: str | None = None, *, region_code: str = "osh-region") -> Madrasa:
    place = Madrasa(name=name or f"Madrasa {next(_counter)}", region=region(region_code))
    db.session.add(place)
    db.session.flush()
    return place


def cohort(
    kind: str = TOT, *, name: str | None = None, place: Madrasa | None = None, **fields: Any
) -> Cohort:
    """A ToT cohort (in Osh region) or a class (in ``place`` or a new madrasa)."""
    values: dict[str, Any] = {
        "kind": kind,
        "name": name or f"Cohort {next(_counter)}",
        "starts_on": date(2026, 9, 1),
        "ends_on": date(2026, 9, 3),
        **fields,
    }
    if kind == CLASS:
        values.setdefault("madrasa", place or madrasa())
    else:
        values.setdefault("region", region())
    group = Cohort(**values)
    db.session.add(group)
    db.session.flush()
    return group


def member(group: Cohort, person: User, role: str) -> Membership:
    membership = Membership(cohort_id=group.id, user_id=person.id, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


def login(client: FlaskClient, person: User, password: str = PASSWORD) -> Any:
    """Log in through the real form; returns the response."""
    return client.post("/account/login", data={"username": person.username, "password": password})
