"""Curriculum logic: plain functions with explicit arguments."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from curriculum.models import Manual
from lms.audit import services as audit
from lms.errors import Conflict, Invalid
from lms.extensions import db
from lms.memo import forget, remembered, remembering

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def list_manuals() -> list[Manual]:
    """Every manual, by English title (read once per page view: there are only a few)."""
    return list(
        remembered(
            "curriculum.manuals",
            None,
            lambda: list(db.session.scalars(select(Manual).order_by(Manual.title_en))),
        )
    )


def get_manual(slug: str) -> Manual | None:
    """The manual with this slug (within a page view, from the manuals read once)."""
    if remembering():
        return next((manual for manual in list_manuals() if manual.slug == slug), None)
    return db.session.scalar(select(Manual).where(Manual.slug == slug))


def create_manual(
    *,
    slug: str,
    title_en: str,
    title_ru: str = "",
    title_ky: str = "",
    description: str = "",
    actor_id: int | None,
) -> Manual:
    """Add a manual (not committed); audited. Raises ``Invalid`` or ``Conflict``."""
    slug = slug.strip().lower()
    errors = {}
    if not SLUG_RE.match(slug) or len(slug) > 64:
        errors["slug"] = [_l("Use lower-case Latin letters, digits and single dashes.")]
    if not title_en.strip():
        errors["title_en"] = [_l("Enter the English title.")]
    if errors:
        raise Invalid(field_errors=errors)
    if get_manual(slug) is not None:
        raise Conflict(field_errors={"slug": [_l("A manual with this short name exists.")]})
    manual = Manual(
        slug=slug,
        title_en=title_en.strip(),
        title_ru=title_ru.strip(),
        title_ky=title_ky.strip(),
        description=description.strip(),
        created_by_id=actor_id,
    )
    db.session.add(manual)
    db.session.flush()
    forget("curriculum.manuals")
    audit.record("manual.create", "manual", manual.id, actor_id=actor_id, details={"slug": slug})
    return manual
