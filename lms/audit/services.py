"""Writing and checking the hash-chained audit log.

Each entry's ``hash`` is an HMAC-SHA256, keyed by a secret that is not in the database
(``LMS_AUDIT_KEY``, else derived from ``LMS_SECRET_KEY``), over the previous entry's hash and
a canonical JSON form of the entry. So the chain shows a changed, deleted, reordered or
inserted entry, and someone who can write to the database but does not know the key cannot
forge an entry that verifies. Entries written before the chain was keyed (migration 0009)
carry a plain SHA-256 and still verify, but only as the beginning of the log.

Appends are serialised so the chain never forks: an advisory lock on PostgreSQL, the
database's single write lock (``BEGIN IMMEDIATE``) on SQLite. Both are held until the
transaction that writes the entry commits, so entries commit in chain order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.timeutil import utcnow

GENESIS = "0" * 64
#: Advisory-lock key that serialises appends on PostgreSQL so the chain never forks.
_CHAIN_LOCK = 0x4C4D5341
#: What the audit key is derived from a secret with (changing it would break every seal).
_KEY_LABEL = b"madrasa-lms audit chain v1"
#: Columns read when walking the chain (plain rows: no ORM identity map for a long log).
_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.details,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


# --- keys ---------------------------------------------------------------------------------


def derive_key(secret: str | bytes) -> bytes:
    """The HMAC key for the chain, from a secret (the secret key or ``LMS_AUDIT_KEY``)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()


def _secrets(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value if part]


def chain_keys() -> list[bytes]:
    """Every key the chain may be sealed with, oldest first; the last one seals new entries.

    ``AUDIT_KEY`` (default: ``SECRET_KEY``) is the current secret; ``AUDIT_PREVIOUS_KEYS``
    (comma-separated) lists the secrets used before it, oldest first, so the log still
    verifies after the secret key is changed.
    """
    config = current_app.config
    current = config.get("AUDIT_KEY") or config["SECRET_KEY"]
    return [derive_key(s) for s in _secrets(config.get("AUDIT_PREVIOUS_KEYS"))] + [
        derive_key(current)
    ]


# --- hashing ------------------------------------------------------------------------------


def _canonical(prev_hash: str, entry: Any) -> bytes:
    """The bytes an entry's hash covers: the previous hash and the entry, as canonical JSON."""
    return json.dumps(
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
    ).encode()


def entry_hash(prev_hash: str, entry: Any, key: bytes | None = None) -> str:
    """The seal of ``entry`` after ``prev_hash``: HMAC-SHA256 under ``key`` (default: the
    installation's current audit key)."""
    key = key if key is not None else chain_keys()[-1]
    return hmac.new(key, _canonical(prev_hash, entry), hashlib.sha256).hexdigest()


def plain_hash(prev_hash: str, entry: Any) -> str:
    """The unkeyed SHA-256 that entries had before migration 0009."""
    return hashlib.sha256(_canonical(prev_hash, entry)).hexdigest()


# --- appending ----------------------------------------------------------------------------


def _lock_chain(session: Session) -> None:
    """Take the chain's lock in the caller's transaction; it is held until commit.

    The caller's pending changes are written first, so the audit lock is always the last
    lock a transaction takes (no lock-order deadlock with the rows it changes).
    """
    session.flush()
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    elif dialect == "sqlite":
        # pysqlite opens a transaction only before a write; reads before it ran outside any
        # transaction. A transaction that is open has written, so it holds the write lock;
        # otherwise take the write lock now, before reading the chain's end (another writer
        # then waits for our commit instead of chaining onto the same entry).
        raw = connection.connection.driver_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _chain_end(session: Session) -> str:
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS


def record(
    action: str,
    object_type: str,
    object_id: object,
    *,
    actor_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits with the change it records)."""
    (entry,) = record_many(
        action, object_type, [(object_id, details or {})], actor_id=actor_id, at=utcnow()
    )
    return entry


def record_many(
    action: str,
    object_type: str,
    entries: Sequence[tuple[object, dict[str, Any]]],
    *,
    actor_id: int | None,
    at: Any = None,
) -> list[AuditEntry]:
    """Append one entry per (object id, details), chained, in one read of the chain's end.

    For batch changes (a cohort's certificates issued at once): one entry per object, as
    for single changes, without a lock and a query per entry.
    """
    if not entries:
        return []
    session = db.session
    _lock_chain(session)
    prev = _chain_end(session)
    key = chain_keys()[-1]
    now = at or utcnow()
    made: list[AuditEntry] = []
    for object_id, details in entries:
        entry = AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            details=details,
        )
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(prev, entry, key)
        made.append(entry)
    session.add_all(made)
    return made


# --- checking -----------------------------------------------------------------------------


@dataclass
class ChainReport:
    """What walking the chain found. ``ok`` when ``problems`` is empty."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)
    head_id: int | None = None
    head_hash: str | None = None
    #: Entries from before the chain was keyed (plain SHA-256), at its beginning.
    legacy: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(after_id: int | None = None, batch: int = 1000) -> Iterator[Any]:
    """Every entry (after ``after_id``) in chain order, a batch at a time (the log is long)."""
    last_id = after_id
    while True:
        query = select(*_COLUMNS).order_by(AuditEntry.id).limit(batch)
        if last_id is not None:
            query = query.where(AuditEntry.id > last_id)
        rows = db.session.execute(query).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def _seal(row: Any, keys: Sequence[bytes], floor: int) -> int | None:
    """The index of the key that sealed ``row`` (not older than ``floor``), or None."""
    body = _canonical(row.prev_hash, row)
    for index in range(floor, len(keys)):
        if hmac.compare_digest(hmac.new(keys[index], body, hashlib.sha256).hexdigest(), row.hash):
            return index
    return None


def verify(
    anchor: tuple[int, str] | None = None,
    *,
    start: str = GENESIS,
    keys: Sequence[bytes] | None = None,
) -> ChainReport:
    """Walk the chain from its first entry and report every problem.

    Finds an entry whose content was changed (its seal no longer matches), an entry deleted
    or moved (the next one no longer follows the one before it), an entry inserted without
    the key (no valid seal), and, with ``anchor`` (an entry id and hash noted earlier, e.g.
    printed by a previous ``lms audit verify``), entries removed from the end back to it.
    ``start`` is what the first entry follows: the genesis, or after old entries were
    archived and deleted, the hash of the last archived entry.
    """
    keys = list(keys) if keys is not None else chain_keys()
    report = ChainReport()
    prev = start
    prev_id: int | None = None
    floor = 0  # keys are used oldest to newest: a later entry never has an older key
    keyed = False
    anchor_seen = False
    for row in _rows():
        report.entries += 1
        if row.prev_hash != prev:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            report.problems.append(
                f"entry {row.id}: does not follow {after} (an entry was deleted, inserted or moved)"
            )
        sealed = _seal(row, keys, floor)
        if sealed is not None:
            floor, keyed = sealed, True
        elif _seal(row, keys[:floor], 0) is not None:
            report.problems.append(
                f"entry {row.id}: sealed with a retired audit key after newer entries (forged)"
            )
        elif plain_hash(row.prev_hash, row) == row.hash:
            if keyed:
                report.problems.append(
                    f"entry {row.id}: has no valid seal, only a plain hash, after sealed "
                    "entries (written outside the application: forged)"
                )
            else:
                report.legacy += 1
        else:
            report.problems.append(
                f"entry {row.id}: its content does not match its seal (changed, forged, or "
                "sealed with a key this installation does not have)"
            )
        if anchor is not None and row.id == anchor[0]:
            anchor_seen = True
            if not hmac.compare_digest(row.hash, anchor[1]):
                report.problems.append(
                    f"entry {row.id}: its hash is not the one noted at the anchor "
                    "(the log was rewritten up to here)"
                )
        prev, prev_id = row.hash, row.id
        report.head_id, report.head_hash = row.id, row.hash
    if anchor is not None and not anchor_seen:
        report.problems.append(
            f"entry {anchor[0]} (the anchor) is missing: entries were deleted"
            + (" from the end of the log" if (report.head_id or 0) < anchor[0] else "")
        )
    return report


def verify_chain() -> list[str]:
    """Problems found walking the chain from the first entry; an empty list means intact."""
    return verify().problems


def export_rows(since_id: int = 0) -> Iterable[dict[str, Any]]:
    """Entries after ``since_id`` as plain dicts (JSON Lines export, e.g. to a log archive)."""
    for row in _rows(since_id):
        yield {
            "id": row.id,
            "at": row.at.isoformat(timespec="microseconds"),
            "actor_id": row.actor_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "details": row.details,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
