"""The audit log is append-only and its hash chain shows any tampering."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from lms.audit import services as audit
from lms.audit.models import AuditEntry, AuditLogIsAppendOnly
from lms.extensions import db
from tests import factories


def _three_entries():
    actor = factories.user("admin")
    for n in range(3):
        audit.record("test.action", "thing", n, actor_id=actor.id, details={"n": n})
    db.session.commit()


def test_chain_of_untouched_entries_verifies(app):
    _three_entries()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert audit.verify_chain() == []


def test_orm_refuses_to_change_an_entry(app):
    _three_entries()
    entry = db.session.scalars(select(AuditEntry)).first()
    entry.action = "something.else"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()


def test_changed_entry_is_detected(app):
    _three_entries()
    db.session.execute(text("UPDATE lms_audit_entry SET object_id = '99' WHERE id = 2"))
    db.session.commit()
    assert any("entry 2" in problem for problem in audit.verify_chain())


def test_deleted_entry_is_detected(app):
    _three_entries()
    db.session.execute(text("DELETE FROM lms_audit_entry WHERE id = 2"))
    db.session.commit()
    assert any("entry 3" in problem for problem in audit.verify_chain())


def test_role_grant_writes_an_audit_entry_in_the_same_transaction(app):
    from lms.accounts import services

    person = factories.user()
    db.session.commit()
    services.grant_role(person, "trainer", actor_id=None)
    db.session.rollback()
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "role.grant")).all() == []
    )
    services.grant_role(person, "trainer", actor_id=None)
    db.session.commit()
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "role.grant"))


def test_a_batch_of_entries_continues_the_chain(app):
    audit.record("before", "thing", 1, actor_id=None)
    audit.record_many(
        "certificate.issued",
        "certificate",
        [(10, {"serial": "A"}), (11, {"serial": "B"}), (12, {"serial": "C"})],
        actor_id=None,
    )
    audit.record("after", "thing", 2, actor_id=None)
    db.session.commit()
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["before", *["certificate.issued"] * 3, "after"]
    assert audit.verify_chain() == []
