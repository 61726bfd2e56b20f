"""Expert review: panels and seats, decisions bound to content hashes, comments on paragraphs.

The rules (DESIGN §5): approval binds to a content hash, so a version with a new hash needs
new approvals and one with an identical hash keeps them; a request for changes blocks until
the same reviewer withdraws it (or an admin dismisses it, with a logged reason); the author
cannot approve their own version. Decisions lock the version row, so two reviewers deciding
at the same moment leave one consistent approval state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from curriculum.content import Block, parse_blocks
from curriculum.models import (
    APPROVING,
    QUORUM,
    REQUEST_CHANGES,
    SUBMITTED,
    UNANIMOUS,
    Manual,
    ModuleVersion,
    Review,
    ReviewComment,
    ReviewPanel,
    ReviewSeat,
)
from lms.accounts.models import User
from lms.accounts.roles import EXPERTISE
from lms.audit import services as audit
from lms.db import begin_write
from lms.errors import Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.timeutil import utcnow

DECISIONS = {
    "approve": _l("Approve"),
    "approve_with_reservation": _l("Approve with a reservation"),
    "request_changes": _l("Request changes"),
}


# --- panels and seats --------------------------------------------------------------------


def panel_for(manual_id: int, language: str) -> ReviewPanel | None:
    return db.session.scalar(
        select(ReviewPanel)
        .where(ReviewPanel.manual_id == manual_id, ReviewPanel.language == language)
        .options(joinedload(ReviewPanel.seats).joinedload(ReviewSeat.user))
    )


def ensure_panel(manual: Manual, language: str, *, actor_id: int | None) -> ReviewPanel:
    panel = panel_for(manual.id, language)
    if panel is None:
        panel = ReviewPanel(manual_id=manual.id, language=language, policy=UNANIMOUS, quorum={})
        db.session.add(panel)
        db.session.flush()
        audit.record(
            "panel.create",
            "review_panel",
            panel.id,
            actor_id=actor_id,
            details={"manual": manual.slug, "language": language},
        )
    return panel


def set_policy(
    panel: ReviewPanel, policy: str, quorum: dict[str, int] | None, *, actor_id: int | None
) -> None:
    """Unanimous (every seat approves) or a quorum of approvals per domain."""
    if policy not in (UNANIMOUS, QUORUM):
        raise Invalid(_l("Choose unanimous or quorum."))
    quorum = {k: int(v) for k, v in (quorum or {}).items() if int(v) > 0}
    if policy == QUORUM and (not quorum or any(domain not in EXPERTISE for domain in quorum)):
        raise Invalid(_l("Give the number of approvals needed for at least one domain."))
    panel.policy = policy
    panel.quorum = quorum if policy == QUORUM else {}
    audit.record(
        "panel.policy",
        "review_panel",
        panel.id,
        actor_id=actor_id,
        details={"policy": policy, "quorum": panel.quorum},
    )


def add_seat(panel: ReviewPanel, user: User, domain: str, *, actor_id: int | None) -> ReviewSeat:
    if domain not in EXPERTISE:
        raise Invalid(_l("Choose the reviewer's domain."))
    existing = db.session.scalar(
        select(ReviewSeat).where(ReviewSeat.panel_id == panel.id, ReviewSeat.user_id == user.id)
    )
    if existing is not None:
        if existing.active:
            raise Conflict(_l("%(name)s already has a seat on this panel.", name=user.name))
        existing.active, existing.domain = True, domain
        seat = existing
    else:
        seat = ReviewSeat(panel_id=panel.id, user_id=user.id, domain=domain)
        db.session.add(seat)
        db.session.flush()
    audit.record(
        "panel.seat.add",
        "review_panel",
        panel.id,
        actor_id=actor_id,
        details={"user_id": user.id, "domain": domain},
    )
    return seat


def remove_seat(seat: ReviewSeat, *, actor_id: int | None) -> None:
    """Take a seat off the panel; its past decisions stay in the record."""
    seat.active = False
    audit.record(
        "panel.seat.remove",
        "review_panel",
        seat.panel_id,
        actor_id=actor_id,
        details={"user_id": seat.user_id},
    )


def seat_of(user: Any, version: ModuleVersion) -> ReviewSeat | None:
    """The user's active seat on the panel that reviews this version, if they have one."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(ReviewSeat)
        .join(ReviewPanel)
        .where(
            ReviewPanel.manual_id == version.module.manual_id,
            ReviewPanel.language == version.language,
            ReviewSeat.user_id == user.id,
            ReviewSeat.active.is_(True),
        )
    )


# --- approval state ----------------------------------------------------------------------


@dataclass
class ApprovalStatus:
    """Where a version stands with its panel."""

    approved: bool
    policy: str
    seats: list[ReviewSeat] = field(default_factory=list)
    #: The latest decision of each seat on this exact content hash.
    decisions: dict[int, Review] = field(default_factory=dict)
    #: Domains (quorum) or seats (unanimous) still missing.
    missing: list[Any] = field(default_factory=list)

    @property
    def requests(self) -> list[Review]:
        return [r for r in self.decisions.values() if r.decision == REQUEST_CHANGES]

    @property
    def approvals(self) -> list[Review]:
        return [r for r in self.decisions.values() if r.decision in APPROVING]


def decisions_on_hash(version: ModuleVersion, seat_ids: list[int]) -> dict[int, Review]:
    """Each seat's latest active decision on any version of this module and language whose
    content hash is this version's: identical text keeps its approvals."""
    if not seat_ids:
        return {}
    rows = db.session.scalars(
        select(Review)
        .join(ModuleVersion, Review.version_id == ModuleVersion.id)
        .where(
            Review.active.is_(True),
            Review.content_hash == version.content_hash,
            Review.seat_id.in_(seat_ids),
            ModuleVersion.module_id == version.module_id,
            ModuleVersion.language == version.language,
        )
        .order_by(Review.created_at, Review.id)
    )
    latest: dict[int, Review] = {}
    for review in rows:
        latest[review.seat_id] = review
    return latest


def approval_status(version: ModuleVersion) -> ApprovalStatus:
    panel = panel_for(version.module.manual_id, version.language)
    if panel is None:
        return ApprovalStatus(approved=False, policy=UNANIMOUS, missing=[_l("No review panel")])
    seats = [seat for seat in panel.seats if seat.active]
    decisions = decisions_on_hash(version, [seat.id for seat in seats])
    status = ApprovalStatus(approved=False, policy=panel.policy, seats=seats, decisions=decisions)
    approving = {seat_id for seat_id, r in decisions.items() if r.decision in APPROVING}
    if panel.policy == QUORUM:
        for domain, needed in sorted(panel.quorum.items()):
            have = sum(1 for s in seats if s.domain == domain and s.id in approving)
            if have < needed:
                status.missing.append(EXPERTISE.get(domain, domain))
    else:
        status.missing = [seat for seat in seats if seat.id not in approving]
    status.approved = (
        version.status == SUBMITTED and bool(seats) and not status.missing and not status.requests
    )
    return status


def refresh_approval(version: ModuleVersion) -> bool:
    """Record whether the policy is met now; returns the new state."""
    approved = approval_status(version).approved
    if approved and version.approved_at is None:
        db.session.execute(
            update(ModuleVersion)
            .where(ModuleVersion.id == version.id, ModuleVersion.approved_at.is_(None))
            .values(approved_at=utcnow(), lock_version=ModuleVersion.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            "module.approved",
            "module_version",
            version.id,
            actor_id=None,
            details={"hash": version.content_hash},
        )
    elif not approved and version.approved_at is not None:
        db.session.execute(
            update(ModuleVersion)
            .where(ModuleVersion.id == version.id)
            .values(approved_at=None, lock_version=ModuleVersion.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
        audit.record("module.unapproved", "module_version", version.id, actor_id=None)
    db.session.expire(version)
    return approved


def _lock(version: ModuleVersion) -> ModuleVersion:
    """Serialise decisions on one version (a row lock on PostgreSQL, the write lock on
    SQLite); the version is read again under the lock."""
    begin_write()
    locked = db.session.scalar(
        select(ModuleVersion).where(ModuleVersion.id == version.id).with_for_update()
    )
    assert locked is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    db.session.refresh(locked)
    return locked


# --- decisions ---------------------------------------------------------------------------


def decide(version: ModuleVersion, user: User, decision: str, reasons: str = "") -> Review:
    """Record a reviewer's decision on a submitted version; the newest decision of a seat
    replaces its earlier one (so a reviewer withdraws a request by deciding again)."""
    if decision not in DECISIONS:
        raise Invalid(_l("Choose a decision."))
    reasons = reasons.strip()
    if decision != "approve" and not reasons:
        raise Invalid(
            _l("Give your reasons."), field_errors={"reasons": [_l("Give your reasons.")]}
        )
    version = _lock(version)
    if version.status != SUBMITTED:
        raise Conflict(_l("Only a submitted version can be reviewed."))
    seat = seat_of(user, version)
    if seat is None:
        raise NotAllowed(_l("You have no seat on the panel that reviews this version."))
    if decision in APPROVING and version.author_id == user.id:
        raise NotAllowed(_l("You wrote this version, so you cannot approve it."))
    now = utcnow()
    db.session.execute(
        update(Review)
        .where(Review.seat_id == seat.id, Review.version_id == version.id, Review.active.is_(True))
        .values(active=False, ended_at=now, ended_by_id=user.id, end_reason="superseded")
        .execution_options(synchronize_session=False)
    )
    review = Review(
        seat_id=seat.id,
        version_id=version.id,
        content_hash=version.content_hash,
        decision=decision,
        reasons=reasons,
        created_at=now,
    )
    db.session.add(review)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l("You decided on this version at the same moment in another window.")
        ) from None
    audit.record(
        "review.decide",
        "module_version",
        version.id,
        actor_id=user.id,
        details={"seat": seat.id, "decision": decision, "hash": version.content_hash},
    )
    refresh_approval(version)
    return review


def withdraw(review: Review, user: User) -> None:
    """The reviewer takes back their own decision (e.g. a request for changes)."""
    if review.seat.user_id != user.id:
        raise NotAllowed(_l("Only the reviewer who made a decision can withdraw it."))
    _end(review, user, "withdrawn", "review.withdraw")


def dismiss(review: Review, admin: User, reason: str) -> None:
    """An administrator sets aside a request for changes, giving a reason that is logged."""
    if not reason.strip():
        raise Invalid(
            _l("Give the reason for dismissing it."),
            field_errors={"reason": [_l("Give the reason for dismissing it.")]},
        )
    if review.decision != REQUEST_CHANGES:
        raise Invalid(_l("Only a request for changes can be dismissed."))
    _end(review, admin, reason.strip(), "review.dismiss")


def _end(review: Review, user: User, reason: str, action: str) -> None:
    version = _lock(review.version)
    result = db.session.execute(
        update(Review)
        .where(Review.id == review.id, Review.active.is_(True))
        .values(active=False, ended_at=utcnow(), ended_by_id=user.id, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This decision no longer counts."))
    db.session.expire(review)
    audit.record(
        action,
        "module_version",
        version.id,
        actor_id=user.id,
        details={"review": review.id, "reason": reason},
    )
    refresh_approval(version)


def get_review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound()
    return review


# --- what reviewers see ------------------------------------------------------------------


@dataclass
class QueueItem:
    version: ModuleVersion
    seat: ReviewSeat
    #: The version of this module this seat approved last, to diff against.
    last_approved: ModuleVersion | None
    my_decision: Review | None


def review_queue(user: User) -> list[QueueItem]:
    """Submitted, not yet approved versions on the user's panels that await their decision."""
    seats = list(
        db.session.scalars(
            select(ReviewSeat)
            .where(ReviewSeat.user_id == user.id, ReviewSeat.active.is_(True))
            .options(joinedload(ReviewSeat.panel))
        )
    )
    items: list[QueueItem] = []
    for seat in seats:
        versions = db.session.scalars(
            select(ModuleVersion)
            .join(ModuleVersion.module)
            .where(
                ModuleVersion.status == SUBMITTED,
                ModuleVersion.approved_at.is_(None),
                ModuleVersion.language == seat.panel.language,
                ModuleVersion.module.has(manual_id=seat.panel.manual_id),
            )
            .order_by(ModuleVersion.submitted_at)
        )
        for version in versions:
            if _superseded(version):
                continue
            mine = decisions_on_hash(version, [seat.id]).get(seat.id)
            items.append(QueueItem(version, seat, last_approved_by(seat, version), mine))
    return items


def _superseded(version: ModuleVersion) -> bool:
    """A newer submitted version of the same module and language makes this one moot."""
    return (
        db.session.scalar(
            select(ModuleVersion.id)
            .where(
                ModuleVersion.module_id == version.module_id,
                ModuleVersion.language == version.language,
                ModuleVersion.status == SUBMITTED,
                ModuleVersion.number > version.number,
            )
            .limit(1)
        )
        is not None
    )


def last_approved_by(seat: ReviewSeat, version: ModuleVersion) -> ModuleVersion | None:
    return db.session.scalar(
        select(ModuleVersion)
        .join(Review, Review.version_id == ModuleVersion.id)
        .where(
            Review.seat_id == seat.id,
            Review.decision.in_(APPROVING),
            ModuleVersion.module_id == version.module_id,
            ModuleVersion.language == version.language,
            ModuleVersion.id != version.id,
        )
        .order_by(Review.created_at.desc())
        .limit(1)
    )


def paragraph_approvals(version: ModuleVersion) -> dict[str, list[ReviewSeat]]:
    """Per block id: the seats whose latest approval covered this block's exact text."""
    panel = panel_for(version.module.manual_id, version.language)
    if panel is None:
        return {}
    blocks = parse_blocks(version.body)
    result: dict[str, list[ReviewSeat]] = defaultdict(list)
    for seat in (s for s in panel.seats if s.active):
        approved = db.session.scalar(
            select(ModuleVersion)
            .join(Review, Review.version_id == ModuleVersion.id)
            .where(
                Review.seat_id == seat.id,
                Review.active.is_(True),
                Review.decision.in_(APPROVING),
                ModuleVersion.module_id == version.module_id,
                ModuleVersion.language == version.language,
            )
            .order_by(Review.created_at.desc())
            .limit(1)
        )
        if approved is None:
            continue
        approved_texts = {b.id: b.text_hash for b in parse_blocks(approved.body)}
        for block in blocks:
            if approved_texts.get(block.id) == block.text_hash:
                result[block.id].append(seat)
    return dict(result)


# --- comments ----------------------------------------------------------------------------


CURRENT, OUTDATED, RESOLVED = "current", "outdated", "resolved"


@dataclass
class CommentThread:
    comment: ReviewComment
    state: str
    replies: list[ReviewComment] = field(default_factory=list)


def add_comment(
    version: ModuleVersion, user: User, paragraph_id: str, body: str, parent_id: int | None = None
) -> ReviewComment:
    body = body.strip()
    if not body:
        raise Invalid(_l("Write a comment."), field_errors={"body": [_l("Write a comment.")]})
    blocks = {b.id: b for b in parse_blocks(version.body)}
    parent = None
    if parent_id is not None:
        parent = db.session.get(ReviewComment, parent_id)
        if parent is None or parent.parent_id is not None:
            raise Invalid(_l("You can only reply to a comment."))
        paragraph_id = parent.paragraph_id
    block: Block | None = blocks.get(paragraph_id)
    if block is None and parent is None:
        raise Invalid(_l("That paragraph is not in this version."))
    comment = ReviewComment(
        version_id=version.id,
        paragraph_id=paragraph_id,
        paragraph_hash=block.text_hash if block else (parent.paragraph_hash if parent else ""),
        parent_id=parent.id if parent else None,
        author_id=user.id,
        body=body,
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def resolve_comment(comment: ReviewComment, user: User) -> None:
    if comment.resolved_at is None:
        comment.resolved_at = utcnow()
        comment.resolved_by_id = user.id


def comment_threads(version: ModuleVersion) -> dict[str, list[CommentThread]]:
    """Comments on every version of this module and language, as seen from ``version``:
    current (same paragraph text), outdated (the paragraph changed) or resolved (resolved by
    someone, or the paragraph is gone). Nothing is ever lost. Keyed by paragraph id."""
    blocks = {b.id: b for b in parse_blocks(version.body)}
    comments = list(
        db.session.scalars(
            select(ReviewComment)
            .join(ModuleVersion, ReviewComment.version_id == ModuleVersion.id)
            .where(
                ModuleVersion.module_id == version.module_id,
                ModuleVersion.language == version.language,
                ModuleVersion.number <= version.number,
            )
            .options(joinedload(ReviewComment.author), joinedload(ReviewComment.version))
            .order_by(ReviewComment.created_at, ReviewComment.id)
        )
    )
    threads: dict[int, CommentThread] = {}
    by_paragraph: dict[str, list[CommentThread]] = defaultdict(list)
    for comment in comments:
        if comment.parent_id is None:
            block = blocks.get(comment.paragraph_id)
            if comment.resolved_at is not None or block is None:
                state = RESOLVED
            elif block.text_hash != comment.paragraph_hash:
                state = OUTDATED
            else:
                state = CURRENT
            thread = CommentThread(comment, state)
            threads[comment.id] = thread
            by_paragraph[comment.paragraph_id].append(thread)
        elif comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
    return dict(by_paragraph)
