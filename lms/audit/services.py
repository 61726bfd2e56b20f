"""Writing and checking the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.timeutil import utcnow

GENESIS = "0" * 64
#: Advisory-lock key that serialises appends on PostgreSQL so the chain never forks.
_CHAIN_LOCK = 0x4C4D5341


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and a canonical JSON form of the entry."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": entry.at.isoformat(timespec="microseconds"),
            "actor": entry.actor_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "details": entry.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    action: str,
    object_type: str,
    object_id: object,
    *,
    actor_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits with the change it records)."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    session.flush()
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
    )
    entry.prev_hash = prev or GENESIS
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    return entry


def record_many(
    action: str,
    object_type: str,
    entries: list[tuple[object, dict[str, Any]]],
    *,
    actor_id: int | None,
) -> list[AuditEntry]:
    """Append one entry per (object id, details), chained, in one read of the chain's end.

    For batch changes (a cohort's certificates issued at once): one entry per object, as
    for single changes, without a lock and a query per entry.
    """
    if not entries:
        return []
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    session.flush()
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev = prev or GENESIS
    now = utcnow()
    made: list[AuditEntry] = []
    for object_id, details in entries:
        entry = AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(prev, entry)
        made.append(entry)
    session.add_all(made)
    return made


def verify_chain() -> list[str]:
    """Problems found walking the chain from the first entry; an empty list means intact."""
    problems: list[str] = []
    prev = GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.id}: does not follow the entry before it")
        if entry_hash(entry.prev_hash, entry) != entry.hash:
            problems.append(f"entry {entry.id}: its content was changed")
        prev = entry.hash
    return problems
