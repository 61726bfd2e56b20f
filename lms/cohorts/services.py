"""Cohort logic: creating ToT cohorts and classes, and managing who is in them.

Plain functions with explicit arguments; they raise the domain errors and never commit.
Membership changes and completion marks write an audit entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from lms.accounts.models import User
from lms.accounts.permissions import can, forget_grants, has_role
from lms.accounts.roles import (
    LEADER_ROLES,
    LEARNER_ROLES,
    MEMBER_ROLES,
    MEMBER_ROLES_BY_KIND,
    TEACHER,
    TRAINER,
)
from lms.audit import services as audit
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.errors import Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.organisations.models import Madrasa, Region
from lms.organisations.services import cohort_clause, cohorts_in_region, visible_scope
from lms.plugins import CompletionResult
from lms.progress import api as progress
from lms.progress.rules import COHORT_ITEM_TYPE

KINDS = (TOT, CLASS)
MARKED_COMPLETE = "marked-complete"
#: The ledger ``source`` of marks made on the cohort page.
MARK_SOURCE = "lms.cohorts"
#: Which leader role the creator of each kind of cohort takes.
LEADER_OF_KIND = {TOT: TRAINER, CLASS: TEACHER}


def cohorts_of(user: User) -> list[Membership]:
    """The user's memberships with their cohorts, newest cohort first (one query)."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.cohort)
            .where(Membership.user_id == user.id, Cohort.archived.is_(False))
            .options(joinedload(Membership.cohort))
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
        )
    )


# --- lists ---------------------------------------------------------------------------------


def cohort_query(
    user: Any,
    *,
    kind: str | None = None,
    region_id: int | None = None,
    status: str = "current",
) -> Select[tuple[Cohort]]:
    """Cohorts ``user`` may view (scopes and memberships), filtered, newest first."""
    query = (
        select(Cohort)
        .where(cohort_clause(visible_scope(user, "cohorts.view")))
        .options(
            joinedload(Cohort.region),
            joinedload(Cohort.madrasa).joinedload(Madrasa.region),
        )
        .order_by(Cohort.starts_on.desc().nulls_last(), Cohort.id.desc())
    )
    if kind in KINDS:
        query = query.where(Cohort.kind == kind)
    if region_id is not None:
        query = query.where(cohorts_in_region(region_id))
    if status == "current":
        query = query.where(Cohort.archived.is_(False))
    elif status == "archived":
        query = query.where(Cohort.archived.is_(True))
    return query


def learner_counts(cohort_ids: list[int]) -> dict[int, int]:
    """Participants or students per cohort, for one page of cohorts (one query)."""
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        select(Membership.cohort_id, func.count(Membership.id))
        .where(Membership.cohort_id.in_(cohort_ids), Membership.role.in_(LEARNER_ROLES))
        .group_by(Membership.cohort_id)
    )
    return {cohort_id: count for cohort_id, count in rows}


def get_cohort(cohort_id: int, *, with_members: bool = False) -> Cohort:
    """One cohort with its place loaded (and its members and their accounts, if asked)."""
    options: list[Any] = [
        joinedload(Cohort.region),
        joinedload(Cohort.madrasa).joinedload(Madrasa.region),
    ]
    if with_members:
        options.append(selectinload(Cohort.memberships).joinedload(Membership.user))
    found = db.session.scalars(
        select(Cohort).where(Cohort.id == cohort_id).options(*options)
    ).one_or_none()
    if found is None:
        raise NotFound()
    return found


# --- choices for the forms -----------------------------------------------------------------


def creatable_kinds(user: Any) -> list[str]:
    """The kinds of cohort ``user`` may create somewhere (to offer only what will work)."""
    scope = visible_scope(user, "cohorts.create")
    kinds = []
    if scope.everywhere or scope.region_ids:
        kinds.append(TOT)
    if scope.everywhere or scope.region_ids or scope.madrasa_ids:
        kinds.append(CLASS)
    return kinds


def creatable_regions(user: Any) -> list[Region]:
    """Regions where ``user`` may create a ToT cohort."""
    scope = visible_scope(user, "cohorts.create")
    query = select(Region).order_by(Region.position, Region.id)
    if not scope.everywhere:
        query = query.where(Region.id.in_(scope.region_ids))
    return list(db.session.scalars(query))


def creatable_madrasas(user: Any, *, include_id: int | None = None) -> list[Madrasa]:
    """Madrasas where ``user`` may create a class (plus ``include_id``, the current one)."""
    from lms.organisations.services import madrasa_clause

    scope = visible_scope(user, "cohorts.create")
    where = madrasa_clause(scope)
    if include_id is not None:
        where = where | (Madrasa.id == include_id)
    return list(
        db.session.scalars(
            select(Madrasa)
            .join(Madrasa.region)
            .where(where)
            .options(joinedload(Madrasa.region))
            .order_by(Region.position, Madrasa.name, Madrasa.id)
        )
    )


def manual_choices() -> list[tuple[str, str]]:
    """The manuals plugins offer for cohorts: (short name, title), in plugin order."""
    pm = current_app.extensions["lms"].pm
    return [choice for result in pm.hook.cohort_manual_choices() for choice in result or ()]


def completion_rule_choices() -> list[SelectChoice]:
    """The registered completion rules, for a select."""
    rules = current_app.extensions["lms"].registries.completion_rules
    return [SelectChoice(rule.id, rule.label) for rule in rules.values()]


# --- creating and editing ------------------------------------------------------------------


@dataclass
class CohortFields:
    """What the create and edit forms send; the place is a region (ToT) or a madrasa (class)."""

    name: str
    starts_on: date | None
    ends_on: date | None = None
    region_id: int | None = None
    madrasa_id: int | None = None
    venue: str = ""
    manual: str = ""
    completion_rule: str = progress.DEFAULT_RULE


def _place(
    kind: str, values: CohortFields, errors: dict[str, list[Any]]
) -> Region | Madrasa | None:
    if kind == TOT:
        region = db.session.get(Region, values.region_id) if values.region_id else None
        if region is None:
            errors.setdefault("region_id", []).append(_l("Choose the region of the cohort."))
        return region
    madrasa = db.session.get(Madrasa, values.madrasa_id) if values.madrasa_id else None
    if madrasa is None:
        errors.setdefault("madrasa_id", []).append(_l("Choose the madrasa of the class."))
    return madrasa


def _check(kind: str, values: CohortFields) -> tuple[Region | Madrasa, dict[str, Any]]:
    """Validate the fields; returns the place and the cleaned column values."""
    errors: dict[str, list[Any]] = {}
    if kind not in KINDS:
        raise Invalid(_l("Unknown kind of cohort."))
    name = " ".join((values.name or "").split())
    if not name:
        errors.setdefault("name", []).append(_l("Enter a name."))
    elif len(name) > 200:
        errors.setdefault("name", []).append(_l("Use at most %(n)s characters.", n=200))
    if values.starts_on is None:
        errors.setdefault("starts_on", []).append(_l("Enter the start date."))
    elif values.ends_on is not None and values.ends_on < values.starts_on:
        errors.setdefault("ends_on", []).append(_l("The end date cannot be before the start date."))
    venue = (values.venue or "").strip() if kind == TOT else ""
    if len(venue) > 300:
        errors.setdefault("venue", []).append(_l("Use at most %(n)s characters.", n=300))
    manual = (values.manual or "").strip()
    if manual and manual not in dict(manual_choices()):
        errors.setdefault("manual", []).append(_l("Choose a manual."))
    rules = current_app.extensions["lms"].registries.completion_rules
    if values.completion_rule not in rules:
        errors.setdefault("completion_rule", []).append(_l("Choose a completion rule."))
    place = _place(kind, values, errors)
    if errors:
        raise Invalid(field_errors=errors)
    assert place is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    cleaned = {
        "name": name,
        "starts_on": values.starts_on,
        "ends_on": values.ends_on,
        "venue": venue,
        "manual": manual,
        "completion_rule": values.completion_rule,
        "region_id": place.id if kind == TOT else None,
        "madrasa_id": place.id if kind == CLASS else None,
    }
    return place, cleaned


def _not_here(kind: str) -> NotAllowed:
    if kind == TOT:
        return NotAllowed(
            _l("You may not create a cohort in this region."),
            field_errors={"region_id": [_l("You may not create a cohort in this region.")]},
        )
    return NotAllowed(
        _l("You may not create a class in this madrasa."),
        field_errors={"madrasa_id": [_l("You may not create a class in this madrasa.")]},
    )


def create_cohort(actor: User, kind: str, values: CohortFields) -> Cohort:
    """Create a ToT cohort or a class where ``actor`` may; a creating leader joins it."""
    place, cleaned = _check(kind, values)
    if not can(actor, "cohorts.create", place):
        raise _not_here(kind)
    cohort = Cohort(kind=kind, created_by_id=actor.id, completion_params={}, **cleaned)
    db.session.add(cohort)
    db.session.flush()
    audit.record(
        "cohort.create",
        "cohort",
        cohort.id,
        actor_id=actor.id,
        details={"kind": kind, "name": cohort.name, **_place_details(cohort)},
    )
    leader = LEADER_OF_KIND[kind]
    if has_role(actor, leader):
        _add_membership(cohort, actor, leader, actor_id=actor.id)
    return cohort


def update_cohort(cohort: Cohort, actor: User, values: CohortFields) -> Cohort:
    """Change a cohort's details; moving it needs the right to create in the new place."""
    place, cleaned = _check(cohort.kind, values)
    moved = (cleaned["region_id"], cleaned["madrasa_id"]) != (cohort.region_id, cohort.madrasa_id)
    if moved and not can(actor, "cohorts.create", place):
        raise _not_here(cohort.kind)
    changes = {
        key: [_jsonable(getattr(cohort, key)), _jsonable(value)]
        for key, value in cleaned.items()
        if getattr(cohort, key) != value
    }
    if not changes:
        return cohort
    for key, value in cleaned.items():
        setattr(cohort, key, value)
    if moved:
        # Drop the stale relationship so pages show the new place.
        db.session.flush()
        db.session.expire(cohort, ["region", "madrasa"])
    audit.record("cohort.update", "cohort", cohort.id, actor_id=actor.id, details=changes)
    return cohort


def set_archived(cohort: Cohort, archived: bool, *, actor_id: int | None) -> None:
    """Archive a finished cohort (hidden from current lists) or bring it back."""
    if cohort.archived == archived:
        return
    cohort.archived = archived
    audit.record(
        "cohort.archive" if archived else "cohort.unarchive", "cohort", cohort.id, actor_id=actor_id
    )


def _place_details(cohort: Cohort) -> dict[str, Any]:
    if cohort.kind == TOT:
        return {"region_id": cohort.region_id}
    return {"madrasa_id": cohort.madrasa_id}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- members -------------------------------------------------------------------------------


def _add_membership(cohort: Cohort, person: User, role: str, *, actor_id: int | None) -> Membership:
    membership = Membership(cohort_id=cohort.id, user_id=person.id, role=role)
    db.session.add(membership)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l("%(name)s is already a member of this cohort.", name=person.name),
            field_errors={"username": [_l("This person is already a member of this cohort.")]},
        ) from None
    audit.record(
        "membership.add",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={"user_id": person.id, "username": person.username, "role": role},
    )
    forget_grants()
    return membership


def add_member(cohort: Cohort, username: str, role: str, *, actor_id: int | None) -> Membership:
    """Put the person with this user name into the cohort; field errors say what is wrong."""
    from lms.accounts.services import normalise_username

    if role not in MEMBER_ROLES_BY_KIND.get(cohort.kind, ()):
        raise Invalid(field_errors={"role": [_l("Choose a role for this kind of cohort.")]})
    wanted = normalise_username(username)
    person = db.session.scalar(select(User).where(User.username == wanted)) if wanted else None
    if person is None:
        raise Invalid(
            field_errors={"username": [_l("There is no user with the user name %(u)s.", u=wanted)]}
        )
    if not person.active:
        raise Invalid(field_errors={"username": [_l("This person's account is disabled.")]})
    existing = db.session.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort.id, Membership.user_id == person.id
        )
    )
    if existing is not None:
        raise Conflict(
            _l("%(name)s is already a member of this cohort.", name=person.name),
            field_errors={
                "username": [
                    _l(
                        "%(name)s is already in this cohort as %(role)s.",
                        name=person.name,
                        role=MEMBER_ROLES.get(existing, existing),
                    )
                ]
            },
        )
    return _add_membership(cohort, person, role, actor_id=actor_id)


def get_membership(cohort: Cohort, membership_id: int) -> Membership:
    """A membership of this cohort (404 for another cohort's, so ids cannot be probed)."""
    found = db.session.scalars(
        select(Membership)
        .where(Membership.id == membership_id, Membership.cohort_id == cohort.id)
        .options(joinedload(Membership.user))
    ).one_or_none()
    if found is None:
        raise NotFound()
    return found


def remove_member(cohort: Cohort, membership_id: int, *, actor_id: int | None) -> User:
    """Take someone out of the cohort (their progress records stay in the ledger)."""
    membership = get_membership(cohort, membership_id)
    person = membership.user
    audit.record(
        "membership.remove",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={"user_id": person.id, "username": person.username, "role": membership.role},
    )
    db.session.delete(membership)
    db.session.flush()
    forget_grants()
    return person


# --- completion ----------------------------------------------------------------------------


def mark_completion(
    cohort: Cohort, learner_id: int, completed: bool, *, actor_id: int | None
) -> None:
    """Record that a learner has (or has not) completed a "marked complete" cohort; audited."""
    if cohort.completion_rule != MARKED_COMPLETE:
        raise Invalid(_l("This cohort's completion is not marked by hand."))
    is_learner = db.session.scalar(
        select(Membership.id).where(
            Membership.cohort_id == cohort.id,
            Membership.user_id == learner_id,
            Membership.role.in_(LEARNER_ROLES),
        )
    )
    if is_learner is None:
        raise NotFound(_l("This person is not a learner in this cohort."))
    outcome = "completed" if completed else "not_completed"
    progress.record(
        user_id=learner_id,
        cohort_id=cohort.id,
        item_type=COHORT_ITEM_TYPE,
        item_id=str(cohort.id),
        outcome=outcome,
        source=MARK_SOURCE,
        recorded_by_id=actor_id,
    )
    audit.record(
        "cohort.mark_completion",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={"user_id": learner_id, "outcome": outcome},
    )


# --- the cohort page -----------------------------------------------------------------------


@dataclass
class MemberGroup:
    """The members holding one role, with the counts by sex the programme reports."""

    role: str
    label: Any
    members: list[Membership] = field(default_factory=list)

    @property
    def female(self) -> int:
        return sum(1 for m in self.members if m.user.sex == "female")

    @property
    def male(self) -> int:
        return sum(1 for m in self.members if m.user.sex == "male")

    @property
    def is_leader(self) -> bool:
        return self.role in LEADER_ROLES


@dataclass
class CohortPage:
    cohort: Cohort
    groups: list[MemberGroup]
    #: Learner id → result; None when the cohort's rule is not registered (plugin disabled).
    completion: dict[int, CompletionResult] | None
    rule_label: Any
    marked_by_hand: bool


def cohort_page(cohort: Cohort) -> CohortPage:
    """Everything the cohort page shows, in a fixed number of queries.

    ``cohort`` must come from ``get_cohort(..., with_members=True)``.
    """
    order = MEMBER_ROLES_BY_KIND.get(cohort.kind, ())
    groups = {role: MemberGroup(role, MEMBER_ROLES.get(role, role)) for role in order}
    for membership in sorted(cohort.memberships, key=lambda m: (m.user.name.casefold(), m.id)):
        if membership.role not in groups:
            groups[membership.role] = MemberGroup(
                membership.role, MEMBER_ROLES.get(membership.role, membership.role)
            )
        groups[membership.role].members.append(membership)
    rules = current_app.extensions["lms"].registries.completion_rules
    rule = rules.get(cohort.completion_rule or progress.DEFAULT_RULE)
    completion = progress.evaluate_completion(cohort) if rule is not None else None
    return CohortPage(
        cohort=cohort,
        groups=list(groups.values()),
        completion=completion,
        rule_label=rule.label if rule else cohort.completion_rule,
        marked_by_hand=cohort.completion_rule == MARKED_COMPLETE and rule is not None,
    )
