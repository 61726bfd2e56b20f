"""Curriculum models: manuals, modules and their immutable versions, review, editions,
translations, glossary and field feedback. The rules they keep are in services.py and in
DESIGN §5; the database enforces what it can (unique numbers, one active decision per seat).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import get_locale
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.extensions import db
from lms.timeutil import utcnow

DRAFT, SUBMITTED = "draft", "submitted"
APPROVE, APPROVE_WITH_RESERVATION, REQUEST_CHANGES = (
    "approve",
    "approve_with_reservation",
    "request_changes",
)
APPROVING = (APPROVE, APPROVE_WITH_RESERVATION)
UNANIMOUS, QUORUM = "unanimous", "quorum"


class Manual(db.Model):
    """A teachers' manual, e.g. *Civic Education* or *Health Basics*."""

    __tablename__ = "curriculum_manual"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200), default="")
    title_ky: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    modules: Mapped[list[Module]] = relationship(
        back_populates="manual", order_by="Module.position"
    )

    @property
    def title(self) -> str:
        """The title in the page's language, falling back to English."""
        locale = str(get_locale() or "en")
        return getattr(self, f"title_{locale}", "") or self.title_en

    def title_in(self, language: str) -> str:
        return getattr(self, f"title_{language}", "") or self.title_en

    def __str__(self) -> str:
        return self.title


class Module(db.Model):
    """A lesson unit of a manual: a stable identity whose text lives in versions."""

    __tablename__ = "curriculum_module"
    __table_args__ = (UniqueConstraint("manual_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manual_id: Mapped[int] = mapped_column(ForeignKey("curriculum_manual.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    manual: Mapped[Manual] = relationship(back_populates="modules")


class ModuleVersion(db.Model):
    """One version of a module in one language. Editable as a draft; frozen once submitted.

    ``lock_version`` is SQLAlchemy's optimistic lock: saving a draft someone else saved
    meanwhile fails instead of overwriting their work.
    """

    __tablename__ = "curriculum_module_version"
    __table_args__ = (
        UniqueConstraint("module_id", "language", "number"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
        CheckConstraint("language IN ('en', 'ru', 'ky')", name="language"),
        Index("ix_curriculum_module_version_hash", "module_id", "language", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    change_summary: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    #: Set (once) when the review policy is met for this exact content hash.
    approved_at: Mapped[datetime | None]
    #: The version this one was edited from (the previous text), if any.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_module_version.id"))
    #: For a translation: the source-language version it was translated from.
    translates_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_module_version.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    module: Mapped[Module] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    based_on: Mapped[ModuleVersion | None] = relationship(
        remote_side=[id], foreign_keys=[based_on_id]
    )
    translates: Mapped[ModuleVersion | None] = relationship(
        remote_side=[id], foreign_keys=[translates_id]
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def label(self) -> str:
        return f"{self.module.slug} v{self.number} ({self.language})"


#: Columns a submitted version may still change: its approval time and the lock counter.
_MUTABLE_AFTER_SUBMISSION = {"approved_at", "lock_version"}


class VersionIsFrozen(RuntimeError):
    """Raised when code tries to change a submitted version; an edit makes a new version."""


@event.listens_for(ModuleVersion, "before_update")
def _refuse_changes_to_submitted(_mapper: Any, _connection: Any, target: ModuleVersion) -> None:
    state = inspect(target)
    status_history = state.attrs.status.history
    was_submitted = (status_history.deleted or [target.status])[0] == SUBMITTED
    if not was_submitted:
        return
    changed = {
        attr.key
        for attr in state.attrs
        if attr.history.has_changes() and attr.key not in _MUTABLE_AFTER_SUBMISSION
    }
    if changed:
        raise VersionIsFrozen(f"submitted version {target.id} cannot change {sorted(changed)}")


class ReviewPanel(db.Model):
    """The experts who must agree on a manual's text in one language, and how they agree."""

    __tablename__ = "curriculum_review_panel"
    __table_args__ = (
        UniqueConstraint("manual_id", "language"),
        CheckConstraint("policy IN ('unanimous', 'quorum')", name="policy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manual_id: Mapped[int] = mapped_column(ForeignKey("curriculum_manual.id"))
    language: Mapped[str] = mapped_column(String(8))
    policy: Mapped[str] = mapped_column(String(16), default=UNANIMOUS)
    #: For the quorum policy: approvals needed per domain, e.g. {"theology": 1, "health": 1}.
    quorum: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    manual: Mapped[Manual] = relationship()
    seats: Mapped[list[ReviewSeat]] = relationship(back_populates="panel", order_by="ReviewSeat.id")


class ReviewSeat(db.Model):
    """A named expert's place on a panel, with their domain."""

    __tablename__ = "curriculum_review_seat"
    __table_args__ = (UniqueConstraint("panel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("curriculum_review_panel.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"), index=True)
    domain: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    panel: Mapped[ReviewPanel] = relationship(back_populates="seats")
    user: Mapped[User] = relationship()


class Review(db.Model):
    """A seat's decision on a version, bound to the content hash it saw.

    A seat's newer decision on the same version supersedes the older (``active`` false);
    the database allows one active decision per seat and version.
    """

    __tablename__ = "curriculum_review"
    __table_args__ = (
        CheckConstraint(
            "decision IN ('approve', 'approve_with_reservation', 'request_changes')",
            name="decision",
        ),
        Index(
            "uq_curriculum_review_active",
            "seat_id",
            "version_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
        Index("ix_curriculum_review_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("curriculum_review_seat.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module_version.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a request for changes stopped counting: withdrawn by its reviewer, superseded by
    #: their newer decision, or dismissed by an admin (who must give a reason).
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    end_reason: Mapped[str] = mapped_column(Text, default="")

    seat: Mapped[ReviewSeat] = relationship()
    version: Mapped[ModuleVersion] = relationship()


class ReviewComment(db.Model):
    """A comment anchored to one paragraph of a version; replies point at their parent."""

    __tablename__ = "curriculum_review_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module_version.id"), index=True)
    paragraph_id: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the paragraph text the comment was written on; a different text later
    #: makes the comment "outdated", a missing paragraph makes it "resolved".
    paragraph_hash: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_review_comment.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    version: Mapped[ModuleVersion] = relationship()


class Edition(db.Model):
    """An immutable, numbered set of approved versions of one manual in one language."""

    __tablename__ = "curriculum_edition"
    __table_args__ = (UniqueConstraint("manual_id", "language", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manual_id: Mapped[int] = mapped_column(ForeignKey("curriculum_manual.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    number: Mapped[int]
    notes: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    #: Who signed off each version, frozen at publication: [{module, version, seats: [...]}].
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    manual: Mapped[Manual] = relationship()
    entries: Mapped[list[EditionEntry]] = relationship(
        back_populates="edition", order_by="EditionEntry.position"
    )


class EditionEntry(db.Model):
    __tablename__ = "curriculum_edition_entry"
    __table_args__ = (UniqueConstraint("edition_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("curriculum_edition.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module_version.id"))
    position: Mapped[int]

    edition: Mapped[Edition] = relationship(back_populates="entries")
    version: Mapped[ModuleVersion] = relationship()


class CohortEdition(db.Model):
    """The edition a cohort teaches from (otherwise it sees the latest one)."""

    __tablename__ = "curriculum_cohort_edition"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    edition_id: Mapped[int] = mapped_column(ForeignKey("curriculum_edition.id"))

    edition: Mapped[Edition] = relationship()


class GlossaryTerm(db.Model):
    """An agreed translation of a term, per manual and language."""

    __tablename__ = "curriculum_glossary_term"
    __table_args__ = (UniqueConstraint("manual_id", "language", "source_term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manual_id: Mapped[int] = mapped_column(ForeignKey("curriculum_manual.id"))
    language: Mapped[str] = mapped_column(String(8))
    source_term: Mapped[str] = mapped_column(String(200))
    term: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))


class Feedback(db.Model):
    """Feedback from the field on a published version (and paragraph), triaged by editors."""

    __tablename__ = "curriculum_feedback"
    __table_args__ = (
        CheckConstraint("source IN ('tot', 'monitoring', 'classroom')", name="source"),
        CheckConstraint("status IN ('new', 'accepted', 'rejected', 'deferred')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_module_version.id"))
    paragraph_id: Mapped[str] = mapped_column(String(16), default="")
    source: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="new")
    triage_note: Mapped[str] = mapped_column(Text, default="")
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    triaged_at: Mapped[datetime | None]
    resolved_by_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("curriculum_module_version.id")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module] = relationship()
    version: Mapped[ModuleVersion] = relationship(foreign_keys=[version_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    resolved_by_version: Mapped[ModuleVersion | None] = relationship(
        foreign_keys=[resolved_by_version_id]
    )
