"""Editions: publishing exactly the approved versions of a manual in one language.

An edition is numbered per manual and language (the database refuses a duplicate number,
so two editors publishing at once get 1 and 2, or one clear conflict) and never changes.
It records, frozen at publication, who signed off each version and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from curriculum.models import (
    APPROVING,
    CohortEdition,
    Edition,
    EditionEntry,
    Manual,
    Module,
    ModuleVersion,
    Review,
    ReviewSeat,
)
from curriculum.versions import latest_approved
from lms.audit import services as audit
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.memo import forget, remembered, remembering


@dataclass(frozen=True)
class Candidate:
    """A module and the version an edition would take (None: nothing approved yet)."""

    module: Module
    version: ModuleVersion | None
    newer_unapproved: bool


def candidates(manual: Manual, language: str) -> list[Candidate]:
    """For each module: its latest *approved* version in ``language`` — never simply the
    latest, which may still be in review."""
    result = []
    for module in db.session.scalars(
        select(Module).where(Module.manual_id == manual.id).order_by(Module.position, Module.id)
    ):
        approved = latest_approved(module.id, language)
        newest_number = db.session.scalar(
            select(func.max(ModuleVersion.number)).where(
                ModuleVersion.module_id == module.id, ModuleVersion.language == language
            )
        )
        result.append(
            Candidate(
                module=module,
                version=approved,
                newer_unapproved=newest_number is not None
                and (approved is None or newest_number > approved.number),
            )
        )
    return result


def signatories_of(version: ModuleVersion) -> list[dict[str, Any]]:
    """The seats whose approval of this exact text is on record, with names and dates."""
    rows = db.session.execute(
        select(Review, ReviewSeat)
        .join(ReviewSeat, Review.seat_id == ReviewSeat.id)
        .join(ModuleVersion, Review.version_id == ModuleVersion.id)
        .where(
            Review.active.is_(True),
            Review.decision.in_(APPROVING),
            Review.content_hash == version.content_hash,
            ModuleVersion.module_id == version.module_id,
            ModuleVersion.language == version.language,
        )
        .options(joinedload(ReviewSeat.user))
        .order_by(Review.created_at)
    )
    seen: dict[int, dict[str, Any]] = {}
    for review, seat in rows:
        seen[seat.id] = {
            "name": seat.user.name,
            "domain": seat.domain,
            "decision": review.decision,
            "reservation": review.reasons if review.decision != "approve" else "",
            "date": review.created_at.date().isoformat(),
        }
    return list(seen.values())


def publish(manual: Manual, language: str, *, actor_id: int | None, notes: str = "") -> Edition:
    """Publish the next edition; refuses when no module has an approved version."""
    chosen = [c for c in candidates(manual, language) if c.version is not None]
    if not chosen:
        raise Invalid(_l("No module has an approved version in this language yet."))
    number = (
        db.session.scalar(
            select(func.max(Edition.number)).where(
                Edition.manual_id == manual.id, Edition.language == language
            )
        )
        or 0
    ) + 1
    edition = Edition(
        manual_id=manual.id,
        language=language,
        number=number,
        notes=notes.strip(),
        published_by_id=actor_id,
        signatories=[
            {
                "module": c.module.slug,
                "version": c.version.number,
                "hash": c.version.content_hash,
                "seats": signatories_of(c.version),
            }
            for c in chosen
            if c.version is not None
        ],
    )
    db.session.add(edition)
    try:
        with db.session.begin_nested():
            db.session.flush()
            for position, candidate in enumerate(chosen, start=1):
                assert candidate.version is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
                db.session.add(
                    EditionEntry(
                        edition_id=edition.id,
                        module_id=candidate.module.id,
                        version_id=candidate.version.id,
                        position=position,
                    )
                )
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("Someone else published an edition at the same time. Reload.")) from None
    forget("curriculum.editions")
    audit.record(
        "edition.publish",
        "edition",
        edition.id,
        actor_id=actor_id,
        details={
            "manual": manual.slug,
            "language": language,
            "number": number,
            "versions": {c.module.slug: c.version.content_hash for c in chosen if c.version},
        },
    )
    return edition


def editions_of(manual: Manual, language: str | None = None) -> list[Edition]:
    """The manual's editions by language, newest first (read once per page view)."""
    every = remembered(
        "curriculum.editions",
        manual.id,
        lambda: list(
            db.session.scalars(
                select(Edition)
                .where(Edition.manual_id == manual.id)
                .order_by(Edition.language, Edition.number.desc())
            )
        ),
    )
    return [edition for edition in every if not language or edition.language == language]


def get_edition(manual: Manual, language: str, number: int) -> Edition:
    edition = db.session.scalar(
        select(Edition)
        .where(
            Edition.manual_id == manual.id, Edition.language == language, Edition.number == number
        )
        .options(
            selectinload(Edition.entries)
            .joinedload(EditionEntry.version)
            .joinedload(ModuleVersion.module)
        )
    )
    if edition is None:
        raise NotFound()
    return edition


def latest_edition(manual: Manual, language: str) -> Edition | None:
    if remembering():
        return next(iter(editions_of(manual, language)), None)
    return db.session.scalar(
        select(Edition)
        .where(Edition.manual_id == manual.id, Edition.language == language)
        .order_by(Edition.number.desc())
        .limit(1)
    )


def assign_to_cohort(cohort_id: int, edition: Edition | None, *, actor_id: int | None) -> None:
    """Pin a cohort to an edition (None: follow the latest)."""
    current = db.session.get(CohortEdition, cohort_id)
    if edition is None:
        if current is not None:
            db.session.delete(current)
    elif current is None:
        db.session.add(CohortEdition(cohort_id=cohort_id, edition_id=edition.id))
    else:
        current.edition_id = edition.id
    forget("curriculum.cohort_pin")
    audit.record(
        "cohort.edition",
        "cohort",
        cohort_id,
        actor_id=actor_id,
        details={"edition": edition.id if edition else None},
    )


def edition_for_cohort(cohort_id: int) -> Edition | None:
    """The edition the cohort is pinned to, if any (one query, once per page view)."""
    return remembered(
        "curriculum.cohort_pin",
        cohort_id,
        lambda: db.session.scalar(
            select(Edition)
            .join(CohortEdition, CohortEdition.edition_id == Edition.id)
            .where(CohortEdition.cohort_id == cohort_id)
        ),
    )


def reading_language(manual: Manual, preferred: str | None) -> str | None:
    """The language a reader is given: theirs if an edition exists in it, else English,
    else any language that has one (None: nothing is published)."""
    languages = set(
        db.session.scalars(
            select(Edition.language).where(Edition.manual_id == manual.id).distinct()
        )
    )
    for choice in (preferred, "en"):
        if choice in languages:
            return choice
    return min(languages) if languages else None


def edition_to_read(manual: Manual, user: Any) -> Edition | None:
    """The edition a teacher or trainer should read: the one pinned for one of their cohorts
    studying this manual (in the reading language), else the latest one."""
    from lms.cohorts.models import Cohort, Membership

    language = reading_language(manual, getattr(user, "preferred_language", None))
    if language is None:
        return None
    cohort_ids = db.session.scalars(
        select(Cohort.id)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .where(
            Membership.user_id == user.id,
            Cohort.manual == manual.slug,
            Cohort.archived.is_(False),
        )
        .order_by(Cohort.starts_on.desc().nulls_last(), Cohort.id.desc())
    ).all()
    for cohort_id in cohort_ids:
        pinned = edition_for_cohort(cohort_id)
        if pinned is not None and pinned.manual_id == manual.id and pinned.language == language:
            return pinned
    return latest_edition(manual, language)
