"""The audit log is append-only and its keyed hash chain shows any tampering.

Tampering is done as an attacker who owns the database would: with raw SQL, after turning
off the triggers that refuse ``UPDATE`` and ``DELETE`` (only a table owner can). Then
``lms audit verify`` must name the entry. Each kind of change the issue lists is shown to
write its entry, and 20 writers appending at once leave one unbroken chain (both databases).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lms.audit import services as audit
from lms.audit.models import AuditEntry, AuditLogIsAppendOnly
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories

# --- helpers ------------------------------------------------------------------------------


def _entries(n: int = 3) -> list[int]:
    actor = factories.user("admin")
    made = [
        audit.record("test.action", "thing", i, actor_id=actor.id, details={"n": i})
        for i in range(n)
    ]
    db.session.commit()
    return [entry.id for entry in made]


def _as_owner(*statements: str, **params: object) -> None:
    """Run raw SQL on the audit table with its append-only triggers out of the way."""
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("ALTER TABLE lms_audit_entry DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER IF EXISTS lms_audit_entry_no_update"))
        db.session.execute(text("DROP TRIGGER IF EXISTS lms_audit_entry_no_delete"))
    for statement in statements:
        db.session.execute(text(statement), params)
    if postgres:
        db.session.execute(text("ALTER TABLE lms_audit_entry ENABLE TRIGGER USER"))
    db.session.commit()
    db.session.expire_all()


def _row(entry_id: int) -> dict[str, object]:
    return dict(
        db.session.execute(text("SELECT * FROM lms_audit_entry WHERE id = :id"), {"id": entry_id})
        .mappings()
        .one()
    )


def _forge(entry_id: int, prev_hash: str, seal) -> None:  # type: ignore[no-untyped-def]
    """Insert an entry chained after ``prev_hash`` and sealed by ``seal(prev, entry)``."""

    class Forged:
        at = utcnow().replace(microsecond=123456)
        actor_id = None
        action = "role.grant"
        object_type = "user"
        object_id = "1"
        details = {"role": "admin", "scope": "", "scope_id": 0, "expertise": None}

    _as_owner(
        "INSERT INTO lms_audit_entry (id, at, actor_id, action, object_type, object_id, "
        "details, prev_hash, hash) VALUES (:id, :at, NULL, :action, :object_type, :object_id, "
        ":details, :prev, :hash)",
        id=entry_id,
        at=Forged.at,
        action=Forged.action,
        object_type=Forged.object_type,
        object_id=Forged.object_id,
        details=json.dumps(Forged.details),
        prev=prev_hash,
        hash=seal(prev_hash, Forged),
    )


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- the chain ----------------------------------------------------------------------------


def test_chain_of_untouched_entries_verifies(app):
    _entries()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert audit.verify_chain() == []
    report = audit.verify()
    assert report.ok and report.entries == 3 and report.head_id == entries[-1].id


def test_the_seal_is_keyed_by_a_secret_not_in_the_database(app):
    _entries(1)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.hash != audit.plain_hash(entry.prev_hash, entry)
    assert entry.hash == audit.entry_hash(entry.prev_hash, entry)
    other_key = audit.derive_key("another installation's secret key")
    assert audit.entry_hash(entry.prev_hash, entry, other_key) != entry.hash
    assert not audit.verify(keys=[other_key]).ok


def test_orm_refuses_to_change_an_entry(app):
    _entries()
    entry = db.session.scalars(select(AuditEntry)).first()
    entry.action = "something.else"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE lms_audit_entry SET object_id = '99' WHERE id = 2", "DELETE FROM lms_audit_entry"],
)
def test_the_database_refuses_raw_updates_and_deletes(app, statement):
    _entries()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 3
    assert audit.verify_chain() == []


def test_changed_entry_is_detected(app):
    ids = _entries()
    _as_owner(f"UPDATE lms_audit_entry SET object_id = '99' WHERE id = {ids[1]}")
    problems = audit.verify_chain()
    assert len(problems) == 1 and problems[0].startswith(f"entry {ids[1]}: its content")


def test_changed_details_and_time_are_detected(app):
    ids = _entries()
    _as_owner(
        f"UPDATE lms_audit_entry SET details = '{{\"n\": 7}}' WHERE id = {ids[0]}",
        f"UPDATE lms_audit_entry SET at = :at WHERE id = {ids[2]}",
        at=utcnow() - timedelta(days=3),
    )
    problems = audit.verify_chain()
    assert [p.split(":")[0] for p in problems] == [f"entry {ids[0]}", f"entry {ids[2]}"]


def test_deleted_entry_is_detected(app):
    ids = _entries()
    _as_owner(f"DELETE FROM lms_audit_entry WHERE id = {ids[1]}")
    problems = audit.verify_chain()
    assert problems == [
        f"entry {ids[2]}: does not follow entry {ids[0]} (an entry was deleted, inserted or moved)"
    ]


def test_deleted_first_entry_is_detected(app):
    ids = _entries()
    _as_owner(f"DELETE FROM lms_audit_entry WHERE id = {ids[0]}")
    assert audit.verify_chain()[0].startswith(f"entry {ids[1]}: does not follow the start")


def test_entries_deleted_from_the_end_are_detected_against_an_anchor(app):
    ids = _entries()
    head = audit.verify()
    anchor = (head.head_id, head.head_hash)
    assert audit.verify(anchor).ok
    _as_owner(f"DELETE FROM lms_audit_entry WHERE id = {ids[2]}")
    assert audit.verify_chain() == []  # a chain cut short is still a chain...
    problems = audit.verify(anchor).problems  # ...but the noted head is gone
    assert problems == [
        f"entry {ids[2]} (the anchor) is missing: entries were deleted from the end of the log"
    ]


def test_reordered_entries_are_detected(app):
    """Swap everything but the ids of two rows: the chain order no longer holds."""
    ids = _entries(4)
    second, third = _row(ids[1]), _row(ids[2])
    columns = [c for c in second if c != "id"]
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    swap = f"UPDATE lms_audit_entry SET {assignments} WHERE id = :target"
    _as_owner(  # hashes are unique: move them out of the way first
        f"UPDATE lms_audit_entry SET hash = 'moving-a' WHERE id = {ids[1]}",
        f"UPDATE lms_audit_entry SET hash = 'moving-b' WHERE id = {ids[2]}",
    )
    _as_owner(swap, **{c: _json(second[c]) for c in columns}, target=ids[2])
    _as_owner(swap, **{c: _json(third[c]) for c in columns}, target=ids[1])
    problems = audit.verify_chain()
    assert [p.split(":")[0] for p in problems] == [
        f"entry {ids[1]}",
        f"entry {ids[2]}",
        f"entry {ids[3]}",
    ]
    assert all("does not follow" in p for p in problems)


def test_swapped_contents_under_the_same_hashes_are_detected(app):
    ids = _entries()
    first, second = _row(ids[0]), _row(ids[1])
    content = ["at", "actor_id", "action", "object_type", "object_id", "details"]
    swap = "UPDATE lms_audit_entry SET " + ", ".join(f"{c} = :{c}" for c in content)
    _as_owner(swap + " WHERE id = :target", **{c: _json(second[c]) for c in content}, target=ids[0])
    _as_owner(swap + " WHERE id = :target", **{c: _json(first[c]) for c in content}, target=ids[1])
    problems = audit.verify_chain()
    assert [p.split(":")[0] for p in problems] == [f"entry {ids[0]}", f"entry {ids[1]}"]
    assert all("does not match its seal" in p for p in problems)


def _json(value: object) -> object:
    return json.dumps(value) if isinstance(value, dict) else value


def test_an_entry_forged_without_the_key_is_detected(app):
    """Appended at the end, correctly chained, hashed the only way an outsider can."""
    ids = _entries()
    head = audit.verify()
    _forge(ids[-1] + 1, head.head_hash, audit.plain_hash)
    problems = audit.verify_chain()
    assert len(problems) == 1 and problems[0].startswith(f"entry {ids[-1] + 1}: has no valid seal")


def test_an_entry_forged_with_a_guessed_key_is_detected(app):
    ids = _entries()
    head = audit.verify()
    wrong = audit.derive_key("x" * 32)
    _forge(ids[-1] + 1, head.head_hash, lambda prev, entry: audit.entry_hash(prev, entry, wrong))
    problems = audit.verify_chain()
    assert len(problems) == 1 and "does not match its seal" in problems[0]


def test_an_entry_inserted_in_the_middle_is_detected(app):
    ids = _entries()
    _as_owner(f"UPDATE lms_audit_entry SET id = {ids[2] + 10} WHERE id = {ids[2]}")
    second = _row(ids[1])
    _forge(ids[2], str(second["hash"]), audit.plain_hash)
    problems = audit.verify_chain()
    assert [p.split(":")[0] for p in problems] == [f"entry {ids[2]}", f"entry {ids[2] + 10}"]
    assert "no valid seal" in problems[0] and "does not follow" in problems[1]


def test_entries_from_before_the_key_verify_at_the_start_only(app):
    """Plain SHA-256 entries (before migration 0009) are accepted as the log's beginning."""
    _forge(0, audit.GENESIS, audit.plain_hash)  # a plain entry from before the key...
    audit.record("after.the.key", "thing", 1, actor_id=None)
    db.session.commit()
    report = audit.verify()
    assert report.ok and report.legacy == 1 and report.entries == 2, report


def test_a_previous_secret_key_still_verifies_older_entries(app):
    _entries(2)
    app.config["AUDIT_PREVIOUS_KEYS"] = app.config["SECRET_KEY"]
    app.config["AUDIT_KEY"] = "the new secret key, after rotation, " + "y" * 16
    assert not audit.verify(keys=[audit.derive_key(app.config["AUDIT_KEY"])]).ok
    audit.record("after.rotation", "thing", 1, actor_id=None)
    db.session.commit()
    assert audit.verify_chain() == []
    # Someone holding only the retired key cannot append after the new one.
    head = audit.verify()
    old = audit.derive_key(app.config["AUDIT_PREVIOUS_KEYS"])
    _forge(head.head_id + 1, head.head_hash, lambda p, e: audit.entry_hash(p, e, old))
    assert "retired audit key" in audit.verify_chain()[0]


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
    assert _actions() == ["before", *["certificate.issued"] * 3, "after"]
    assert audit.verify_chain() == []


# --- concurrent writers (both databases) --------------------------------------------------


def test_twenty_writers_at_once_leave_one_chain_of_twenty(app):
    """Twenty threads released together, each appending in its own transaction; half of
    them also change a row first (their transaction already holds a write)."""
    people = [factories.user() for _ in range(10)]
    db.session.commit()
    person_ids = [p.id for p in people]
    db.session.remove()
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        from lms.accounts.models import User

        with app.app_context():
            try:
                barrier.wait(timeout=10)
                if n < 10:
                    db.session.get(User, person_ids[n]).phone = f"+996 555 00{n:02d}"
                audit.record("test.concurrent", "thing", n, actor_id=None, details={"n": n})
                db.session.commit()
            except BaseException as error:  # reported to the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = db.session.execute(
        select(AuditEntry.prev_hash, AuditEntry.hash, AuditEntry.details).order_by(AuditEntry.id)
    ).all()
    assert len(rows) == 20
    assert sorted(r.details["n"] for r in rows) == list(range(20))
    assert len({r.prev_hash for r in rows}) == 20  # no fork: no two entries follow one
    assert audit.verify_chain() == []


# --- the command ---------------------------------------------------------------------------


def test_lms_audit_verify_prints_ok_and_the_head(app):
    ids = _entries()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 3 entries" in result.output
    head = audit.verify()
    assert f"{head.head_id}:{head.head_hash}" in result.output
    anchored = app.test_cli_runner().invoke(
        args=["audit", "verify", "--anchor", f"{ids[-1]}:{head.head_hash}"]
    )
    assert anchored.exit_code == 0, anchored.output


def test_lms_audit_verify_prints_each_problem_and_fails(app):
    ids = _entries(4)
    _as_owner(
        f"UPDATE lms_audit_entry SET action = 'nothing' WHERE id = {ids[0]}",
        f"DELETE FROM lms_audit_entry WHERE id = {ids[2]}",
    )
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("PROBLEM")]
    assert lines == [
        f"PROBLEM entry {ids[0]}: its content does not match its seal (changed, forged, or "
        "sealed with a key this installation does not have)",
        f"PROBLEM entry {ids[3]}: does not follow entry {ids[1]} (an entry was deleted, "
        "inserted or moved)",
    ]


def test_lms_audit_verify_refuses_a_malformed_anchor(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", "3:abc"])
    assert result.exit_code == 2 and "ID:HASH" in result.output


def test_lms_audit_export_writes_json_lines(app):
    ids = _entries()
    result = app.test_cli_runner().invoke(args=["audit", "export", "--since-id", str(ids[0])])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["id"] for row in rows] == ids[1:]
    assert rows[0]["prev_hash"] == _row(ids[0])["hash"] and rows[0]["details"] == {"n": 1}


# --- what is logged: one test per kind ------------------------------------------------------


def _only(action: str) -> AuditEntry:
    found = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
    assert len(found) == 1, (action, _actions())
    return found[0]


def test_log_ins_and_failures_are_logged(app, client):
    person = factories.user()
    db.session.commit()
    factories.login(client, person, "wrong password")
    factories.login(client, person)
    failure, success = _only("login.failure"), _only("login.success")
    assert failure.object_id == person.username and failure.actor_id is None
    assert success.actor_id == person.id and success.object_id == str(person.id)
    assert "wrong password" not in json.dumps(failure.details)
    assert audit.verify_chain() == []


def test_denied_access_is_logged_with_user_endpoint_and_object(app, client):
    intruder, victim = factories.user("teacher"), factories.user()
    db.session.commit()
    factories.login(client, intruder)
    assert client.get(f"/admin/users/{victim.id}").status_code == 403
    entry = _only("access.denied")
    assert entry.actor_id == intruder.id
    assert (entry.object_type, entry.object_id) == ("user", str(victim.id))
    assert entry.details == {
        "endpoint": "admin.user",
        "method": "GET",
        "args": {"user_id": str(victim.id)},
    }
    assert audit.verify_chain() == []


def test_denied_access_through_the_api_is_logged(app, client):
    intruder, cohort = factories.user(), factories.cohort()
    db.session.commit()
    factories.login(client, intruder)
    response = client.get(f"/api/v1/lessons/cohorts/{cohort.id}/sessions")
    assert response.status_code == 403 and response.is_json
    entry = _only("access.denied")
    assert entry.actor_id == intruder.id
    assert (entry.object_type, entry.object_id) == ("cohort", str(cohort.id))


def test_denied_access_does_not_commit_what_the_view_left_pending(app, client):
    """The 403 entry is written after a rollback: nothing the refusing view changed leaks."""
    from lms.audit import denied

    intruder = factories.user()
    db.session.commit()
    with app.test_request_context(f"/admin/users/{intruder.id}"):
        db.session.get(type(intruder), intruder.id).name = "Changed By A Refused View"
        assert denied.record_denied(app)
    db.session.expire_all()
    assert db.session.get(type(intruder), intruder.id).name != "Changed By A Refused View"


def test_repeated_denials_are_logged_once_per_window_and_capped(app, client):
    intruder = factories.user()
    others = [factories.user() for _ in range(6)]
    db.session.commit()
    app.config["AUDIT_DENIED_PER_HOUR"] = 4
    factories.login(client, intruder)
    for _ in range(5):  # a bot retrying one page: one entry
        assert client.get(f"/admin/users/{others[0].id}").status_code == 403
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "access.denied")) == 1
    for person in others[1:]:  # walking through objects: capped per hour
        assert client.get(f"/admin/users/{person.id}").status_code == 403
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "access.denied")) == 4


def test_denied_access_logging_can_be_turned_off(app, client):
    intruder = factories.user()
    db.session.commit()
    app.config["AUDIT_DENIED_ACCESS"] = False
    factories.login(client, intruder)
    assert client.get("/admin/users").status_code == 403
    assert "access.denied" not in _actions()


def test_review_decisions_are_logged(app):
    from curriculum import review
    from tests.curriculum import helpers

    theologian, _doctor = helpers.panel()
    version = helpers.submitted()
    review.decide(version, theologian, "request_changes", "Paragraph 2 is unclear.")
    db.session.commit()
    entry = _only("review.decide")
    assert entry.actor_id == theologian.id and entry.object_id == str(version.id)
    assert entry.details["decision"] == "request_changes"
    assert entry.details["hash"] == version.content_hash
    assert audit.verify_chain() == []


def test_publications_are_logged(app):
    from curriculum import editions, review
    from tests.curriculum import helpers

    theologian, doctor = helpers.panel()
    version = helpers.submitted()
    for person in (theologian, doctor):
        review.decide(version, person, "approve", "")
    db.session.commit()
    editor = factories.user("editor")
    edition = editions.publish(helpers.manual(), "en", actor_id=editor.id)
    db.session.commit()
    entry = _only("edition.publish")
    assert entry.actor_id == editor.id and entry.object_id == str(edition.id)
    assert _only("module.approved").object_id == str(version.id)
    assert audit.verify_chain() == []


def test_issuance_revocation_and_reissue_are_logged(app):
    from certificates import issuance
    from tests.certificates import helpers

    admin = factories.user("admin")
    cohort, (first, second), _trainer = helpers.completed_cohort()
    made = helpers.issue(cohort, admin)
    issued = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.issued")
    ).all()
    assert sorted(e.details["recipient"] for e in issued) == sorted([first.id, second.id])
    assert all(e.actor_id == admin.id for e in issued)
    issuance.revoke(made[0], reason="Issued by mistake", actor=admin)
    issuance.reissue(made[1], name="Бакыт Осмонов уулу", reason="Spelling", actor=admin)
    db.session.commit()
    revoked = _only("certificate.revoked")
    assert revoked.object_id == str(made[0].id) and revoked.details["reason"] == "Issued by mistake"
    assert _only("certificate.replaced").object_id == str(made[1].id)
    assert _actions().count("certificate.issued") == 3  # the replacement is an issuance too
    assert audit.verify_chain() == []


def test_role_changes_are_logged(app):
    from lms.accounts import services

    admin, person = factories.user("admin"), factories.user()
    grant = services.grant_role(person, "trainer", actor_id=admin.id)
    db.session.commit()
    services.revoke_role(grant.id, actor_id=admin.id)
    db.session.commit()
    granted, revoked = _only("role.grant"), _only("role.revoke")
    assert granted.actor_id == revoked.actor_id == admin.id
    assert granted.object_id == revoked.object_id == str(person.id)
    assert granted.details["role"] == revoked.details["role"] == "trainer"
    assert audit.verify_chain() == []


def test_role_grant_writes_an_audit_entry_in_the_same_transaction(app):
    from lms.accounts import services

    person = factories.user()
    db.session.commit()
    services.grant_role(person, "trainer", actor_id=None)
    db.session.rollback()
    assert "role.grant" not in _actions()
    services.grant_role(person, "trainer", actor_id=None)
    db.session.commit()
    assert "role.grant" in _actions()
