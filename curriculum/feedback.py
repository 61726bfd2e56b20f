"""Field feedback on published versions, and its triage by editors."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from curriculum.content import Block, parse_blocks
from curriculum.models import SUBMITTED, Feedback, Manual, Module, ModuleVersion
from lms.accounts.models import User
from lms.accounts.permissions import has_role
from lms.audit import services as audit
from lms.errors import Invalid
from lms.extensions import db
from lms.timeutil import utcnow

SOURCES = {
    "tot": _l("Training of Trainers"),
    "monitoring": _l("Monitoring visit"),
    "classroom": _l("Classroom"),
}
STATUSES = {
    "new": _l("New"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "deferred": _l("Deferred"),
}


def add_feedback(
    version: ModuleVersion,
    *,
    author_id: int | None,
    source: str,
    body: str,
    paragraph_id: str = "",
) -> Feedback:
    """Record feedback on a submitted (usually published) version, optionally on a paragraph."""
    errors = {}
    if source not in SOURCES:
        errors["source"] = [_l("Choose where the feedback comes from.")]
    if not body.strip():
        errors["body"] = [_l("Write the feedback.")]
    if paragraph_id and paragraph_id not in {b.id for b in parse_blocks(version.body)}:
        errors["paragraph_id"] = [_l("That paragraph is not in this version.")]
    if version.status != SUBMITTED:
        errors.setdefault("body", []).append(_l("Feedback is given on submitted versions."))
    if errors:
        raise Invalid(field_errors=errors)
    item = Feedback(
        module_id=version.module_id,
        version_id=version.id,
        paragraph_id=paragraph_id,
        source=source,
        author_id=author_id,
        body=body.strip(),
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        "feedback.add",
        "feedback",
        item.id,
        actor_id=author_id,
        details={"version": version.id, "paragraph": paragraph_id, "source": source},
    )
    return item


def triage(
    item: Feedback,
    status: str,
    *,
    actor_id: int | None,
    note: str = "",
    resolved_by: ModuleVersion | None = None,
) -> None:
    """Accept, reject or defer feedback; link it to the version that resolves it."""
    if status not in STATUSES or status == "new":
        raise Invalid(field_errors={"status": [_l("Choose accept, reject or defer.")]})
    if resolved_by is not None and resolved_by.module_id != item.module_id:
        raise Invalid(field_errors={"resolved_by": [_l("Choose a version of the same module.")]})
    item.status, item.triage_note = status, note.strip()
    item.triaged_by_id, item.triaged_at = actor_id, utcnow()
    if resolved_by is not None:
        item.resolved_by_version_id = resolved_by.id
    audit.record(
        "feedback.triage",
        "feedback",
        item.id,
        actor_id=actor_id,
        details={"status": status, "resolved_by": resolved_by.id if resolved_by else None},
    )


def inbox(manual: Manual, status: str | None = None) -> list[Feedback]:
    query = (
        select(Feedback)
        .join(Module, Feedback.module_id == Module.id)
        .where(Module.manual_id == manual.id)
        .options(
            joinedload(Feedback.module), joinedload(Feedback.version), joinedload(Feedback.author)
        )
        .order_by(Feedback.created_at.desc())
    )
    if status:
        query = query.where(Feedback.status == status)
    return list(db.session.scalars(query))


def resolved_by(version: ModuleVersion) -> list[Feedback]:
    """The feedback this version answers ("changed because of feedback #N")."""
    return list(
        db.session.scalars(
            select(Feedback)
            .where(Feedback.resolved_by_version_id == version.id)
            .order_by(Feedback.id)
        )
    )


def get_feedback(feedback_id: int) -> Feedback | None:
    return db.session.get(Feedback, feedback_id)


#: The source a person's feedback most likely comes from, by role, in order of precedence.
_SOURCE_BY_ROLE = (("trainer", "tot"), ("monitor", "monitoring"), ("teacher", "classroom"))


def default_source(user: User) -> str | None:
    """Where this person's feedback usually comes from, so the form needs one click less."""
    for role, source in _SOURCE_BY_ROLE:
        if has_role(user, role):
            return source
    return None


def find_feedback(
    manual: Manual, *, status: str | None = None, source: str | None = None
) -> list[Feedback]:
    """The inbox narrowed by status and source (unknown values mean "any"), newest first."""
    query = (
        select(Feedback)
        .join(Module, Feedback.module_id == Module.id)
        .where(Module.manual_id == manual.id)
        .options(
            joinedload(Feedback.module), joinedload(Feedback.version), joinedload(Feedback.author)
        )
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    )
    if status in STATUSES:
        query = query.where(Feedback.status == status)
    if source in SOURCES:
        query = query.where(Feedback.source == source)
    return list(db.session.scalars(query))


def paragraph_of(version: ModuleVersion, paragraph_id: str) -> Block | None:
    """The block feedback is anchored to, as the version has it (None if absent)."""
    if not paragraph_id:
        return None
    return next((b for b in parse_blocks(version.body) if b.id == paragraph_id), None)


def paragraph_texts(items: Iterable[Feedback]) -> dict[int, str]:
    """Each item's paragraph source text, parsing every version once, for list excerpts."""
    blocks_by_version: dict[int, dict[str, str]] = {}
    texts = {}
    for item in items:
        if not item.paragraph_id:
            continue
        if item.version_id not in blocks_by_version:
            blocks_by_version[item.version_id] = {
                b.id: b.text for b in parse_blocks(item.version.body)
            }
        texts[item.id] = blocks_by_version[item.version_id].get(item.paragraph_id, "")
    return texts


def resolution_choices(item: Feedback) -> list[ModuleVersion]:
    """Submitted versions of the item's module, newest first: the ones that can answer it.

    Drafts are left out: a draft can still be discarded, and the link would go with it.
    """
    return list(
        db.session.scalars(
            select(ModuleVersion)
            .where(ModuleVersion.module_id == item.module_id, ModuleVersion.status == SUBMITTED)
            .order_by(ModuleVersion.created_at.desc(), ModuleVersion.id.desc())
        )
    )
