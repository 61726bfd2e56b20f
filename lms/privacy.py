"""A person's data: everything the system holds about them as JSON, and anonymisation.

**Export** finds the person's rows the way the database does, through foreign keys to
``lms_user``, so it covers the host and every plugin (a third party's tables too) without
the host importing any plugin:

- rows *about* the person (``user_id``, ``recipient_id``, ``participant_id``…: account,
  roles, places in cohorts, the progress ledger, attendance, quiz attempts, certificates,
  review seats…), with the rows that belong to them (answers of an attempt, scores of a
  practice lesson, decisions of a review seat);
- rows the person *wrote* (``author_id``: feedback, comments, module and question versions);
- how many rows the person *recorded* about others (``*_by_id``, ``scorer_id``,
  ``officer_id``), counted, not copied: those rows are other people's data;
- audit entries by them or about them.

Nobody else's data is in it: a reference to another person reads "another person".
Binary columns (certificate PDFs) are left out; password hashes and internal keys too.

**Anonymisation** removes what identifies the person from their account (name becomes a
pseudonym, user name replaced, e-mail, phone and last log-in cleared, password unusable,
account disabled and logged out) and keeps every row that figures are computed from
(memberships, attendance, attempts, the ledger, sex). Report figures stay the same. Issued
certificates are frozen documents and keep the name they print (see docs/security.md,
"Privacy"). Both actions write an audit entry; neither writes the person's name into it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import LargeBinary, String, Table, cast, or_, select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.db import begin_write
from lms.errors import Conflict, Invalid
from lms.extensions import db
from lms.timeutil import utcnow

FORMAT = "madrasa-lms personal data export"
FORMAT_VERSION = 1
USER_TABLE = "lms_user"
ANONYMISE_ACTION = "privacy.anonymise"
EXPORT_ACTION = "privacy.export"
#: What stands in for a reference to someone else in an export.
ANOTHER_PERSON = "another person"
MAX_REASON_LENGTH = 500

#: Columns naming who recorded or decided something about someone else: counted only.
_RECORDER = re.compile(r"(_by_id|^scorer_id|^officer_id)$")
#: Columns naming who wrote a row: the row is the person's own writing, exported whole.
_AUTHOR_COLUMNS = {"author_id"}
#: Account columns in the export (never the password hash or the session version).
_ACCOUNT_FIELDS = (
    "id",
    "username",
    "name",
    "sex",
    "email",
    "phone",
    "preferred_language",
    "active",
    "created_at",
    "last_login_at",
)
#: Columns that are secrets or internal machinery, whatever table they are in.
_LEFT_OUT = {"password_hash", "session_version", "idempotency_key", "private_seed"}
#: Audit-entry detail keys that refer to a person (masked when it is someone else).
_PERSON_KEYS = {"user_id", "recipient", "username"}


# --- finding the person's rows ------------------------------------------------------------


def _user_references(table: Table) -> list[str]:
    """Columns of ``table`` that are foreign keys to ``lms_user.id``."""
    return [
        column.name
        for column in table.columns
        if any(fk.column.table.name == USER_TABLE for fk in column.foreign_keys)
    ]


def _kind(column: str) -> str:
    if column in _AUTHOR_COLUMNS:
        return "written"
    if _RECORDER.search(column):
        return "recorded"
    return "about"


def _tables() -> list[Table]:
    skip = {USER_TABLE, AuditEntry.__tablename__}
    return [t for t in db.metadata.sorted_tables if t.name not in skip]


def _descriptions() -> dict[str, str]:
    """Each table's meaning, from the first line of its model's docstring."""
    found: dict[str, str] = {}
    for mapper in db.Model.registry.mappers:
        table = getattr(mapper, "local_table", None)
        doc = (mapper.class_.__doc__ or "").strip()
        if table is not None and doc and table.name not in found:
            found[table.name] = " ".join(doc.split("\n\n", 1)[0].split())
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _columns(table: Table) -> list[Any]:
    return [
        c for c in table.columns if c.name not in _LEFT_OUT and not isinstance(c.type, LargeBinary)
    ]


def _row_dict(table: Table, row: Any, person_id: int) -> dict[str, Any]:
    """A row as JSON-ready values, references to other people masked."""
    references = set(_user_references(table))
    values: dict[str, Any] = {}
    for column in _columns(table):
        value = getattr(row, column.name)
        if column.name in references and value is not None and value != person_id:
            value = ANOTHER_PERSON
        values[column.name] = _plain(value)
    return values


def _children(parent: Table) -> list[tuple[Table, str]]:
    """Tables with a foreign key to ``parent``'s primary key: (child, column)."""
    found = []
    for table in _tables():
        for column in table.columns:
            if any(fk.column.table is parent for fk in column.foreign_keys):
                found.append((table, column.name))
    return found


def _audit_entries(person: User) -> list[AuditEntry]:
    """Entries by the person, about their account, or naming them in their details."""
    me = str(person.id)
    details = cast(AuditEntry.details, String)
    candidates = db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.actor_id == person.id,
                (AuditEntry.object_type == "user") & (AuditEntry.object_id == me),
                (AuditEntry.action == "login.failure") & (AuditEntry.object_id == person.username),
                details.like(f'%"user_id": {person.id},%'),
                details.like(f'%"user_id": {person.id}}}%'),
                details.like(f'%"recipient": {person.id},%'),
                details.like(f'%"recipient": {person.id}}}%'),
            )
        )
        .order_by(AuditEntry.id)
    )

    def names_me(entry: AuditEntry) -> bool:
        if entry.actor_id == person.id:
            return True
        if entry.object_type == "user" and entry.object_id == me:
            return True
        if entry.action == "login.failure" and entry.object_id == person.username:
            return True
        data = entry.details or {}
        return data.get("user_id") == person.id or data.get("recipient") == person.id

    return [entry for entry in candidates if names_me(entry)]


def _audit_dict(entry: AuditEntry, person: User) -> dict[str, Any]:
    def mask(key: str, value: Any) -> Any:
        if key in ("user_id", "recipient") and value not in (None, person.id):
            return ANOTHER_PERSON
        if key == "username" and value not in (None, person.username):
            return ANOTHER_PERSON
        return _plain(value)

    about_someone_else = entry.object_type == "user" and entry.object_id != str(person.id)
    return {
        "id": entry.id,
        "at": _plain(entry.at),
        "by": "you" if entry.actor_id == person.id else (entry.actor_id and ANOTHER_PERSON),
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": ANOTHER_PERSON if about_someone_else else entry.object_id,
        "details": {k: mask(k, v) for k, v in (entry.details or {}).items()},
    }


def export(person: User) -> dict[str, Any]:
    """Every personal datum the system holds about ``person``, as a JSON-ready dict."""
    about: dict[str, list[dict[str, Any]]] = {}
    written: dict[str, list[dict[str, Any]]] = {}
    recorded: dict[str, int] = {}
    seen: set[tuple[str, Any]] = set()
    cohort_ids: set[int] = set()

    def add(into: dict[str, list[dict[str, Any]]], table: Table, rows: Iterable[Any]) -> list:
        added = []
        key_columns = [c.name for c in table.primary_key.columns]
        for row in rows:
            key = (table.name, tuple(getattr(row, c) for c in key_columns))
            if key in seen:
                continue
            seen.add(key)
            values = _row_dict(table, row, person.id)
            if isinstance(values.get("cohort_id"), int):
                cohort_ids.add(values["cohort_id"])
            into.setdefault(table.name, []).append(values)
            added.append(row)
        return added

    for table in _tables():
        for column in _user_references(table):
            kind = _kind(column)
            if kind == "recorded":
                count = db.session.scalar(
                    select(db.func.count()).select_from(table).where(table.c[column] == person.id)
                )
                if count:
                    recorded[f"{table.name}.{column}"] = count
                continue
            rows = db.session.execute(
                select(*_columns(table)).where(table.c[column] == person.id)
            ).all()
            if kind == "written":
                add(written, table, rows)
                continue
            parents = add(about, table, rows)
            keys = [c.name for c in table.primary_key.columns]
            if not parents or len(keys) != 1:
                continue
            parent_ids = [getattr(row, keys[0]) for row in parents]
            for child, child_column in _children(table):
                for start in range(0, len(parent_ids), 500):
                    chunk = parent_ids[start : start + 500]
                    add(
                        about,
                        child,
                        db.session.execute(
                            select(*_columns(child)).where(child.c[child_column].in_(chunk))
                        ).all(),
                    )

    tables = db.metadata.tables
    cohorts = {}
    if cohort_ids and "lms_cohort" in tables:
        cohort = tables["lms_cohort"]
        for row in db.session.execute(
            select(cohort.c.id, cohort.c.kind, cohort.c.name, cohort.c.starts_on, cohort.c.ends_on)
            .where(cohort.c.id.in_(sorted(cohort_ids)))
            .order_by(cohort.c.id)
        ):
            cohorts[str(row.id)] = {
                "kind": row.kind,
                "name": row.name,
                "starts_on": _plain(row.starts_on),
                "ends_on": _plain(row.ends_on),
            }
    certificates = [
        {
            "serial": row.get("serial"),
            "status": row.get("status"),
            "issued_on": row.get("issued_on"),
            "name_as_printed": row.get("name_as_printed"),
            "verification_url": (row.get("printed") or {}).get("verification_url"),
        }
        for row in about.get("certificates_certificate", [])
        if row.get("recipient_id") == person.id
    ]
    descriptions = _descriptions()
    used = sorted(set(about) | set(written) | {key.split(".")[0] for key in recorded})
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _plain(utcnow()) + "Z",
        "account": {name: _plain(getattr(person, name)) for name in _ACCOUNT_FIELDS},
        "about_you": about,
        "written_by_you": written,
        "recorded_by_you": recorded,
        "cohorts": cohorts,
        "certificates": certificates,
        "audit_log": [_audit_dict(entry, person) for entry in _audit_entries(person)],
        "tables": {name: descriptions.get(name, "") for name in used},
        "notes": [
            "Times are in UTC.",
            f'"{ANOTHER_PERSON}" stands for someone else, whose data is not part of this export.',
            "recorded_by_you counts the records you made about other people (attendance, "
            "grades, scores, visits), which are their data, not yours.",
            "Certificate PDFs are not included; each certificate's verification address "
            "leads to it.",
        ],
    }


def record_export(person: User, *, actor_id: int | None, via: str) -> None:
    """Audit that someone exported the person's data (the caller commits)."""
    audit.record(EXPORT_ACTION, "user", person.id, actor_id=actor_id, details={"via": via})


# --- anonymising --------------------------------------------------------------------------


def is_anonymised(person: User) -> bool:
    return (
        db.session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.action == ANONYMISE_ACTION,
                AuditEntry.object_type == "user",
                AuditEntry.object_id == str(person.id),
            )
            .limit(1)
        )
        is not None
    )


def pseudonym() -> str:
    """'Learner 4821': what a report or list shows instead of the name."""
    return f"Learner {1000 + secrets.randbelow(9000)}"


def anonymise(person: User, *, reason: str, actor_id: int | None, via: str = "admin") -> str:
    """Remove what identifies ``person`` from their account; keep what figures count.

    Returns the pseudonym. Raises ``Invalid`` (no reason, or one's own account) or
    ``Conflict`` (already anonymised). Not committed: the caller commits.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(field_errors={"reason": [_l("Say why (for example: the person asked).")]})
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(field_errors={"reason": [_l("Use at most %(n)s characters.", n=500)]})
    if actor_id is not None and person.id == actor_id:
        raise Invalid(_l("You cannot anonymise your own account. Ask another administrator."))
    begin_write()
    # One anonymisation at a time per person (a row lock on PostgreSQL; SQLite has its
    # write lock from begin_write).
    db.session.execute(select(User.id).where(User.id == person.id).with_for_update())
    db.session.refresh(person)
    if is_anonymised(person):
        raise Conflict(_l("This account has already been anonymised."))
    name = pseudonym()
    person.name = name
    person.username = f"anonymised-{secrets.token_hex(8)}"
    person.email = None
    person.phone = None
    person.last_login_at = None
    # Not a hash argon2 can read: every password is refused, whatever is typed.
    person.password_hash = "!anonymised"  # nosec B105  # an unusable hash on purpose: no password matches it
    person.active = False
    person.session_version += 1
    audit.record(
        ANONYMISE_ACTION,
        "user",
        person.id,
        actor_id=actor_id,
        details={
            "reason": reason,
            "via": via,
            "cleared": ["name", "username", "email", "phone", "password", "last_login_at"],
        },
    )
    return name
