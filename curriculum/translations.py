"""Translations and their freshness, and the glossary of agreed terms.

A translation records the exact source version it was made from. It is *stale* when the
source module's newest approved version in the source language has different text (a
different content hash); if the source returns to the translated text, it is current again.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from curriculum.models import GlossaryTerm, Manual, Module, ModuleVersion
from curriculum.versions import latest_approved, latest_version
from lms.audit import services as audit
from lms.errors import Conflict, Invalid
from lms.extensions import db
from lms.timeutil import utcnow


@dataclass(frozen=True)
class Freshness:
    """A translation and the source text it lags behind, if it does."""

    translation: ModuleVersion
    source: ModuleVersion
    newest_source: ModuleVersion | None

    @property
    def stale(self) -> bool:
        return (
            self.newest_source is not None
            and self.newest_source.content_hash != self.source.content_hash
        )


def freshness(translation: ModuleVersion) -> Freshness | None:
    """None for a version that is not a translation."""
    source = translation.translates
    if source is None:
        return None
    return Freshness(translation, source, latest_approved(source.module_id, source.language))


def translations_of(manual: Manual, language: str) -> list[Freshness]:
    """The latest version in ``language`` of every module that is a translation."""
    result = []
    for module in db.session.scalars(
        select(Module).where(Module.manual_id == manual.id).order_by(Module.position)
    ):
        version = latest_version(module.id, language)
        if version is not None and (state := freshness(version)) is not None:
            result.append(state)
    return result


def stale_translations(manual: Manual, language: str) -> list[Freshness]:
    return [state for state in translations_of(manual, language) if state.stale]


def glossary(manual: Manual, language: str) -> list[GlossaryTerm]:
    return list(
        db.session.scalars(
            select(GlossaryTerm)
            .where(GlossaryTerm.manual_id == manual.id, GlossaryTerm.language == language)
            .order_by(GlossaryTerm.source_term)
        )
    )


def save_term(
    manual: Manual, language: str, source_term: str, term: str, note: str, *, actor_id: int | None
) -> GlossaryTerm:
    """Add or change the agreed translation of ``source_term``."""
    source_term, term = source_term.strip(), term.strip()
    errors = {}
    if not source_term:
        errors["source_term"] = [_l("Enter the term in English.")]
    if not term:
        errors["term"] = [_l("Enter the agreed translation.")]
    if errors:
        raise Invalid(field_errors=errors)
    existing = db.session.scalar(
        select(GlossaryTerm).where(
            GlossaryTerm.manual_id == manual.id,
            GlossaryTerm.language == language,
            GlossaryTerm.source_term == source_term,
        )
    )
    entry = existing or GlossaryTerm(
        manual_id=manual.id, language=language, source_term=source_term
    )
    entry.term, entry.note = term, note.strip()
    entry.updated_at, entry.updated_by_id = utcnow(), actor_id
    db.session.add(entry)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("Someone else added this term at the same time. Reload.")) from None
    audit.record(
        "glossary.save",
        "glossary_term",
        entry.id,
        actor_id=actor_id,
        details={"language": language, "source": source_term, "term": term},
    )
    return entry


def delete_term(entry: GlossaryTerm, *, actor_id: int | None) -> None:
    audit.record(
        "glossary.delete",
        "glossary_term",
        entry.id,
        actor_id=actor_id,
        details={"source": entry.source_term},
    )
    db.session.delete(entry)


def modules_without(manual: Manual, language: str) -> list[Module]:
    """Modules with no version at all in ``language``: the translation work not yet begun."""
    has_version = (
        select(ModuleVersion.id)
        .where(ModuleVersion.module_id == Module.id, ModuleVersion.language == language)
        .exists()
    )
    return list(
        db.session.scalars(
            select(Module)
            .where(Module.manual_id == manual.id, ~has_version)
            .order_by(Module.position, Module.id)
        )
    )
