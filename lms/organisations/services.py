"""Organisation logic: who may see which regions and madrasas, and adding or editing madrasas.

Lists are filtered in SQL from the user's effective grants (``visible_scope``), so a page
never loads every madrasa to ask ``can()`` about each one; the WHERE clauses mirror what the
core ``object_scopes`` hook says a region, madrasa or cohort lies in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from lms.accounts.models import RoleGrant, User
from lms.accounts.permissions import effective_grants
from lms.accounts.roles import ADMIN, TEACHER
from lms.audit import services as audit
from lms.cohorts.models import CLASS, Cohort, Membership
from lms.errors import Invalid, NotFound
from lms.extensions import db
from lms.organisations.models import Madrasa, Region


@dataclass(frozen=True)
class VisibleScope:
    """The scopes in which a user holds a permission; ``everywhere`` for global grants."""

    everywhere: bool
    region_ids: frozenset[int] = frozenset()
    madrasa_ids: frozenset[int] = frozenset()
    cohort_ids: frozenset[int] = frozenset()

    @property
    def nothing(self) -> bool:
        return not (self.everywhere or self.region_ids or self.madrasa_ids or self.cohort_ids)


def visible_scope(user: Any, permission: str) -> VisibleScope:
    """Where ``user`` holds ``permission``: the SQL counterpart of ``can()`` for lists."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return VisibleScope(everywhere=False)
    roles = current_app.extensions["lms"].registries.permissions[permission].roles
    grants = effective_grants(user)
    if any(role == ADMIN and scope == "" for role, scope, _ in grants):
        return VisibleScope(everywhere=True)
    relevant = [(scope, sid) for role, scope, sid in grants if role in roles]
    if any(scope == "" for scope, _ in relevant):
        return VisibleScope(everywhere=True)

    def ids(kind: str) -> frozenset[int]:
        return frozenset(sid for scope, sid in relevant if scope == kind)

    return VisibleScope(
        everywhere=False,
        region_ids=ids("region"),
        madrasa_ids=ids("madrasa"),
        cohort_ids=ids("cohort"),
    )


def madrasa_clause(scope: VisibleScope, madrasa: Any = Madrasa) -> ColumnElement[bool]:
    """WHERE clause for madrasas in ``scope`` (a madrasa lies in itself and its region)."""
    if scope.everywhere:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if scope.madrasa_ids:
        clauses.append(madrasa.id.in_(scope.madrasa_ids))
    if scope.region_ids:
        clauses.append(madrasa.region_id.in_(scope.region_ids))
    return or_(*clauses) if clauses else false()


def cohort_clause(scope: VisibleScope, cohort: Any = Cohort) -> ColumnElement[bool]:
    """WHERE clause for cohorts in ``scope``: the cohort itself, its madrasa, its region."""
    if scope.everywhere:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if scope.cohort_ids:
        clauses.append(cohort.id.in_(scope.cohort_ids))
    if scope.madrasa_ids:
        clauses.append(cohort.madrasa_id.in_(scope.madrasa_ids))
    if scope.region_ids:
        clauses.append(cohort.region_id.in_(scope.region_ids))
        clauses.append(
            cohort.madrasa_id.in_(
                select(Madrasa.id).where(Madrasa.region_id.in_(scope.region_ids)).correlate(None)
            )
        )
    return or_(*clauses) if clauses else false()


def cohorts_in_region(region_id: int, cohort: Any = Cohort) -> ColumnElement[bool]:
    """ToT cohorts held in the region and classes of madrasas in it."""
    return or_(
        cohort.region_id == region_id,
        cohort.madrasa_id.in_(
            select(Madrasa.id).where(Madrasa.region_id == region_id).correlate(None)
        ),
    )


# --- regions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    region: Region
    madrasas: int
    cohorts: int


def all_regions() -> list[Region]:
    """The nine regions in their customary order."""
    return list(db.session.scalars(select(Region).order_by(Region.position, Region.id)))


def region_overview(user: Any) -> list[RegionRow]:
    """Every region with the madrasas and current cohorts the user may see, in one query."""
    org_scope = visible_scope(user, "organisations.view")
    cohort_scope = visible_scope(user, "cohorts.view")
    place = aliased(Madrasa)
    madrasa_count = (
        select(func.count(Madrasa.id))
        .where(Madrasa.region_id == Region.id, madrasa_clause(org_scope))
        .correlate(Region)
        .scalar_subquery()
    )
    cohort_count = (
        select(func.count(Cohort.id))
        .select_from(Cohort)
        .outerjoin(place, Cohort.madrasa_id == place.id)
        .where(
            or_(Cohort.region_id == Region.id, place.region_id == Region.id),
            Cohort.archived.is_(False),
            cohort_clause(cohort_scope),
        )
        .correlate(Region)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Region, madrasa_count, cohort_count).order_by(Region.position, Region.id)
    )
    return [RegionRow(region, madrasas or 0, cohorts or 0) for region, madrasas, cohorts in rows]


# --- madrasas ------------------------------------------------------------------------------


def madrasa_query(user: Any, *, region_id: int | None = None) -> Select[tuple[Madrasa]]:
    """The madrasas ``user`` may see, optionally in one region, ordered by region and name."""
    query = (
        select(Madrasa)
        .join(Madrasa.region)
        .where(madrasa_clause(visible_scope(user, "organisations.view")))
        .order_by(Region.position, Madrasa.name, Madrasa.id)
    )
    if region_id is not None:
        query = query.where(Madrasa.region_id == region_id)
    return query


def class_counts(madrasa_ids: list[int]) -> dict[int, int]:
    """Current (not archived) classes per madrasa, for one page of madrasas (one query)."""
    if not madrasa_ids:
        return {}
    rows = db.session.execute(
        select(Cohort.madrasa_id, func.count(Cohort.id))
        .where(
            Cohort.madrasa_id.in_(madrasa_ids),
            Cohort.kind == CLASS,
            Cohort.archived.is_(False),
        )
        .group_by(Cohort.madrasa_id)
    )
    return {madrasa_id: count for madrasa_id, count in rows}


def get_madrasa(madrasa_id: int) -> Madrasa:
    """The madrasa, or ``NotFound`` (a 404 page)."""
    found = db.session.get(Madrasa, madrasa_id)
    if found is None:
        raise NotFound()
    return found


def madrasa_classes(madrasa: Madrasa) -> list[tuple[Cohort, int]]:
    """The madrasa's classes, newest first, each with its number of students."""
    from lms.accounts.roles import LEARNER_ROLES

    students = (
        select(func.count(Membership.id))
        .where(Membership.cohort_id == Cohort.id, Membership.role.in_(LEARNER_ROLES))
        .correlate(Cohort)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Cohort, students)
        .where(Cohort.madrasa_id == madrasa.id, Cohort.kind == CLASS)
        .order_by(Cohort.archived, Cohort.starts_on.desc(), Cohort.id.desc())
    )
    return [(cohort, count or 0) for cohort, count in rows]


def madrasa_teachers(madrasa: Madrasa) -> list[User]:
    """Teachers of the madrasa: granted the role there, or teaching one of its classes."""
    granted = select(RoleGrant.user_id).where(
        RoleGrant.role == TEACHER,
        RoleGrant.scope_type == "madrasa",
        RoleGrant.scope_id == madrasa.id,
    )
    teaching = (
        select(Membership.user_id)
        .join(Membership.cohort)
        .where(Cohort.madrasa_id == madrasa.id, Membership.role == TEACHER)
    )
    return list(
        db.session.scalars(
            select(User)
            .where(or_(User.id.in_(granted), User.id.in_(teaching)))
            .order_by(User.name, User.id)
        )
    )


def _clean_madrasa_fields(
    *, name: str, region_id: int | None, locality: str, address: str
) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors.setdefault("name", []).append(_l("Enter the madrasa's name."))
    elif len(name) > 200:
        errors.setdefault("name", []).append(_l("Use at most %(n)s characters.", n=200))
    if region_id is None or db.session.get(Region, region_id) is None:
        errors.setdefault("region_id", []).append(_l("Choose a region."))
    locality = (locality or "").strip()
    address = (address or "").strip()
    if len(locality) > 200:
        errors.setdefault("locality", []).append(_l("Use at most %(n)s characters.", n=200))
    if len(address) > 300:
        errors.setdefault("address", []).append(_l("Use at most %(n)s characters.", n=300))
    if errors:
        raise Invalid(field_errors=errors)
    return {"name": name, "region_id": region_id, "locality": locality, "address": address}


def _name_taken(name: str, region_id: int, except_id: int | None) -> bool:
    query = select(Madrasa.id).where(
        func.lower(Madrasa.name) == name.lower(), Madrasa.region_id == region_id
    )
    if except_id is not None:
        query = query.where(Madrasa.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _duplicate_name() -> Invalid:
    return Invalid(
        _l("A madrasa with this name already exists in this region."),
        field_errors={"name": [_l("A madrasa with this name already exists in this region.")]},
    )


def _flush_unique() -> None:
    """Flush in a savepoint so the unique constraint, not a read, decides duplicates."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise _duplicate_name() from None


def create_madrasa(
    *, name: str, region_id: int | None, locality: str = "", address: str = "", actor_id: int | None
) -> Madrasa:
    """Add a madrasa (not committed); audited. Raises ``Invalid`` with field errors."""
    values = _clean_madrasa_fields(
        name=name, region_id=region_id, locality=locality, address=address
    )
    if _name_taken(values["name"], values["region_id"], None):
        raise _duplicate_name()
    madrasa = Madrasa(**values)
    db.session.add(madrasa)
    _flush_unique()
    audit.record(
        "madrasa.create",
        "madrasa",
        madrasa.id,
        actor_id=actor_id,
        details={"name": madrasa.name, "region_id": madrasa.region_id},
    )
    return madrasa


def update_madrasa(
    madrasa: Madrasa,
    *,
    name: str,
    region_id: int | None,
    locality: str = "",
    address: str = "",
    actor_id: int | None,
) -> Madrasa:
    """Change a madrasa's details (not committed); audited with what changed."""
    values = _clean_madrasa_fields(
        name=name, region_id=region_id, locality=locality, address=address
    )
    if _name_taken(values["name"], values["region_id"], madrasa.id):
        raise _duplicate_name()
    changes = {
        key: [getattr(madrasa, key), value]
        for key, value in values.items()
        if getattr(madrasa, key) != value
    }
    if not changes:
        return madrasa
    for key, value in values.items():
        setattr(madrasa, key, value)
    _flush_unique()
    audit.record("madrasa.update", "madrasa", madrasa.id, actor_id=actor_id, details=changes)
    return madrasa
