"""What other plugins may call: manuals, the editions cohorts teach from, module versions
as plain data, and field feedback. Other plugins never import curriculum internals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from curriculum import editions as _editions
from curriculum import feedback as _feedback
from curriculum.content import parse_blocks
from curriculum.models import SUBMITTED, Edition, ModuleVersion
from curriculum.render import render_block
from curriculum.services import get_manual, list_manuals
from lms.extensions import db
from lms.memo import remembered

__all__ = [
    "EditionInfo",
    "ModuleInfo",
    "cohort_edition",
    "edition_modules",
    "get_manual",
    "give_feedback",
    "list_manuals",
    "manual_choices",
    "module_version",
    "versions_by_id",
]


def manual_choices() -> list[SelectChoice]:
    """(slug, title in the page's language) for select fields in other plugins."""
    return [SelectChoice(manual.slug, manual.title) for manual in list_manuals()]


@dataclass(frozen=True)
class EditionInfo:
    id: int
    manual_slug: str
    language: str
    number: int
    published_on: date


@dataclass(frozen=True)
class ModuleInfo:
    """A module version as other plugins see it: facts, blocks and rendered HTML."""

    version_id: int
    module_slug: str
    position: int
    language: str
    number: int
    title: str
    objectives: list[str] = field(default_factory=list)
    duration_minutes: int = 0
    methods: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    #: (block id, kind, Markdown text, rendered safe HTML) in order
    blocks: list[tuple[str, str, str, Markup]] = field(default_factory=list)


def _edition_info(edition: Edition) -> EditionInfo:
    return EditionInfo(
        id=edition.id,
        manual_slug=edition.manual.slug,
        language=edition.language,
        number=edition.number,
        published_on=edition.published_at.date(),
    )


def cohort_edition(cohort_id: int, manual_slug: str, language: str) -> EditionInfo | None:
    """The edition a cohort teaches from: its pinned one, else the latest in ``language``
    (else the latest in English). Asked once per page view."""
    return remembered(
        "curriculum.cohort_edition",
        (cohort_id, manual_slug, language),
        lambda: _cohort_edition(cohort_id, manual_slug, language),
    )


def _cohort_edition(cohort_id: int, manual_slug: str, language: str) -> EditionInfo | None:
    manual = get_manual(manual_slug) if manual_slug else None
    if manual is None:
        return None
    pinned = _editions.edition_for_cohort(cohort_id)
    if pinned is not None and pinned.manual_id == manual.id:
        return _edition_info(pinned)
    for choice in (language, "en"):
        latest = _editions.latest_edition(manual, choice)
        if latest is not None:
            return _edition_info(latest)
    return None


def edition_modules(edition_id: int, *, with_blocks: bool = False) -> list[ModuleInfo]:
    """The modules of an edition in order, each as the version the edition froze."""
    edition = db.session.get(Edition, edition_id)
    if edition is None:
        return []
    found = _editions.get_edition(edition.manual, edition.language, edition.number)
    return [_module_info(entry.version, with_blocks) for entry in found.entries]


def module_version(version_id: int, *, with_blocks: bool = True) -> ModuleInfo | None:
    """A submitted module version (drafts are not for other plugins)."""
    version = db.session.get(ModuleVersion, version_id)
    if version is None or version.status != SUBMITTED:
        return None
    return _module_info(version, with_blocks)


def _module_info(version: ModuleVersion, with_blocks: bool) -> ModuleInfo:
    meta = version.meta or {}
    blocks = (
        [(b.id, b.kind, b.text, render_block(b)) for b in parse_blocks(version.body)]
        if with_blocks
        else []
    )
    return ModuleInfo(
        version_id=version.id,
        module_slug=version.module.slug,
        position=version.module.position,
        language=version.language,
        number=version.number,
        title=version.title,
        objectives=list(meta.get("objectives", [])),
        duration_minutes=int(meta.get("duration_minutes", 0) or 0),
        methods=list(meta.get("methods", [])),
        materials=list(meta.get("materials", [])),
        blocks=blocks,
    )


def give_feedback(
    version_id: int, *, author_id: int | None, source: str, body: str, paragraph_id: str = ""
) -> int:
    """Send feedback (a ToT recommendation, a monitoring finding) to the curriculum team's
    inbox; returns its number. Raises ``lms.errors.Invalid`` with field errors."""
    version = db.session.get(ModuleVersion, version_id)
    if version is None:
        from lms.errors import Invalid

        raise Invalid(field_errors={"module_version_id": ["unknown module version"]})
    return _feedback.add_feedback(
        version, author_id=author_id, source=source, body=body, paragraph_id=paragraph_id
    ).id


def versions_by_id(version_ids: list[int]) -> dict[int, ModuleInfo]:
    """Several versions at once (one query), without their text: for lists and grids."""
    if not version_ids:
        return {}
    rows = db.session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.id.in_(version_ids))
        .options(joinedload(ModuleVersion.module))
    )
    return {v.id: _module_info(v, False) for v in rows}


def feedback_sources() -> dict[str, Any]:
    return dict(_feedback.SOURCES)
