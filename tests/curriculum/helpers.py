"""Building manuals, modules and panels for curriculum tests."""

from __future__ import annotations

from curriculum import review, versions
from curriculum.content import Block, ModuleDocument
from curriculum.models import Manual, ModuleVersion
from curriculum.services import create_manual, get_manual
from lms.extensions import db
from tests import factories

BLOCKS = (
    Block("p-aaaaaa", "# Washing hands", "heading"),
    Block("p-bbbbbb", "Wash your hands with soap before eating."),
    Block("p-cccccc", "Germs spread from hands to food."),
)


def manual(slug: str = "health-basics") -> Manual:
    found = get_manual(slug)
    return found or create_manual(slug=slug, title_en=slug.replace("-", " ").title(), actor_id=None)


def document(
    language: str = "en", blocks=BLOCKS, slug: str = "hand-hygiene", **meta
) -> ModuleDocument:
    values = {
        "manual": "health-basics",
        "module": slug,
        "position": 1,
        "language": language,
        "title": "Hand hygiene",
        "objectives": ["Wash hands well."],
        "duration_minutes": 45,
        **meta,
    }
    return ModuleDocument(meta=values, blocks=tuple(blocks))


def draft(author=None, language: str = "en", blocks=BLOCKS, **kwargs) -> ModuleVersion:
    book = manual()
    module = versions.get_or_create_module(book, "hand-hygiene", 1)
    return versions.create_draft(
        module, document(language, blocks), author_id=author.id if author else None, **kwargs
    )


def submitted(author=None, language: str = "en", blocks=BLOCKS, **kwargs) -> ModuleVersion:
    version = draft(author, language, blocks, **kwargs)
    versions.submit(version, actor_id=author.id if author else None)
    db.session.flush()
    return version


def panel(domains=("theology", "health"), language: str = "en"):
    """A panel for Health Basics with one reviewer per domain; returns the reviewers."""
    book = manual()
    the_panel = review.ensure_panel(book, language, actor_id=None)
    reviewers = []
    for domain in domains:
        person = factories.user("reviewer", expertise=domain)
        review.add_seat(the_panel, person, domain, actor_id=None)
        reviewers.append(person)
    db.session.flush()
    return reviewers
