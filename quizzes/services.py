"""Quiz logic."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from curriculum import api as curriculum
from lms.audit import services as audit
from lms.errors import Conflict, Invalid
from lms.extensions import db
from quizzes.models import QuestionBank


def list_banks() -> list[QuestionBank]:
    return list(
        db.session.scalars(
            select(QuestionBank).order_by(QuestionBank.manual_slug, QuestionBank.name)
        )
    )


def create_bank(
    *, name: str, manual_slug: str, description: str = "", actor_id: int | None
) -> QuestionBank:
    """Add a question bank for a manual (not committed); names are unique per manual."""
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = [_l("Enter a name.")]
    if curriculum.get_manual(manual_slug) is None:
        errors["manual_slug"] = [_l("Choose a manual.")]
    if errors:
        raise Invalid(field_errors=errors)
    taken = db.session.scalar(
        select(QuestionBank.id).where(
            QuestionBank.manual_slug == manual_slug, QuestionBank.name == name
        )
    )
    if taken:
        raise Conflict(
            field_errors={"name": [_l("This manual already has a bank with this name.")]}
        )
    bank = QuestionBank(
        name=name, manual_slug=manual_slug, description=description.strip(), created_by_id=actor_id
    )
    db.session.add(bank)
    db.session.flush()
    audit.record("quizzes.bank.create", "question_bank", bank.id, actor_id=actor_id)
    return bank
