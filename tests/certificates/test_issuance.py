"""Issuing freezes a certificate: serial, code, signed credential, token and status slot."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from certificates import issuance, keys, rendering
from certificates.credentials import StatusBits, check_certificate_claims, verify, verify_compact
from certificates.models import REPLACED, REVOKED, VALID, Certificate, StatusList
from certificates.printed import PrintedCertificate
from certificates.verification import KeyRing
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.errors import Conflict, Invalid
from lms.extensions import db
from tests import factories
from tests.certificates import helpers


@pytest.fixture
def admin(app):
    person = factories.user("admin", name="Admin Person")
    db.session.flush()
    return person


def _keys() -> KeyRing:
    return KeyRing()


def test_everyone_who_completed_gets_one_certificate_with_a_readable_serial(app, admin):
    cohort, done, _trainer = helpers.completed_cohort(not_completed=1)
    made = helpers.issue(cohort, admin)
    assert sorted(c.recipient_id for c in made) == sorted(p.id for p in done)
    assert all(re.fullmatch(r"OSH-\d{4}-\d{6}", c.serial) for c in made)
    numbers = sorted(int(c.serial.rsplit("-", 1)[1]) for c in made)
    assert numbers == list(range(numbers[0], numbers[0] + len(made)))
    assert len({c.verification_id for c in made}) == len(made)
    assert all(re.fullmatch(r"[a-z2-7]{32}", c.verification_id) for c in made)
    assert all(c.status == VALID and c.basis == "completion" for c in made)
    # A second click issues nothing: everyone who completed has one already.
    assert issuance.issue_to_completers(cohort, actor=admin) == []


def test_issuing_writes_one_audit_entry_per_certificate(app, admin):
    cohort, _done, _ = helpers.completed_cohort(["A", "B", "C"])
    made = helpers.issue(cohort, admin)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.issued")
    ).all()
    assert sorted(int(e.object_id) for e in entries) == sorted(c.id for c in made)
    assert {e.details["serial"] for e in entries} == {c.serial for c in made}
    assert audit.verify_chain() == []


def test_the_credential_and_token_are_signed_and_name_what_is_printed(app, admin):
    cohort, (person, *_), _ = helpers.completed_cohort(["Айгүл Токтосунова"], manual="")
    (certificate,) = helpers.issue(cohort, admin)
    printed = PrintedCertificate.from_json(certificate.printed)
    assert printed.recipient_name == "Айгүл Токтосунова"
    credential = json.loads(certificate.credential)
    result = verify(credential, _keys().for_method)
    assert result.ok, result.reason
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["credentialSubject"]["identifier"][0]["identityHash"] == person.name
    assert credential["id"] == printed.verification_url + ".json"
    claims = check_certificate_claims(verify_compact(certificate.token, _keys().for_kid))
    assert claims["id"] == certificate.verification_id
    assert claims["n"] == person.name and claims["s"] == certificate.serial
    entry = credential["credentialStatus"]
    assert int(entry["statusListIndex"]) == certificate.status_index


def test_certificates_are_frozen_when_issued(app, admin):
    cohort, _done, _ = helpers.completed_cohort(["Nur Asanov"])
    (certificate,) = helpers.issue(cohort, admin)
    before = dict(certificate.printed)
    pdf = rendering.ensure_pdf(certificate)
    cohort.name = "Renamed afterwards"
    certificate.recipient.name = "Someone Else"
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Certificate, certificate.id)
    assert again.printed == before
    assert again.name_as_printed == "Nur Asanov"
    assert rendering.ensure_pdf(again) == pdf  # stored once, never rendered again


def test_a_learner_who_has_not_completed_gets_none(app, admin):
    cohort, _done, _ = helpers.completed_cohort([], not_completed=2)
    assert issuance.issue_to_completers(cohort, actor=admin) == []
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_issuing_by_hand_needs_a_reason_and_a_learner(app, admin):
    cohort, _done, trainer = helpers.completed_cohort([], not_completed=1)
    learner = db.session.scalars(
        select(issuance.Membership.user_id).where(
            issuance.Membership.cohort_id == cohort.id,
            issuance.Membership.role == "participant",
        )
    ).one()
    person = db.session.get(issuance.User, learner)
    with pytest.raises(Invalid) as missing:
        issuance.issue_manually(cohort, person, reason="  ", actor=admin)
    assert "reason" in missing.value.field_errors
    with pytest.raises(Invalid):
        issuance.issue_manually(cohort, trainer, reason="make-up session", actor=admin)
    certificate = issuance.issue_manually(cohort, person, reason="make-up session", actor=admin)
    db.session.commit()
    assert certificate.basis == "manual" and certificate.reason == "make-up session"
    with pytest.raises(Conflict):
        issuance.issue_manually(cohort, person, reason="again", actor=admin)


def test_revoking_sets_the_status_bit_and_re_signs_the_list(app, admin):
    cohort, _done, _ = helpers.completed_cohort(["A", "B"])
    first, second = helpers.issue(cohort, admin)
    issuance.revoke(first, reason="Issued by mistake", actor=admin)
    db.session.commit()
    assert first.status == REVOKED and first.revocation_reason == "Issued by mistake"
    status_list = db.session.get(StatusList, first.status_list_id)
    bits = StatusBits.from_bytes(status_list.bits)
    assert bits.get(first.status_index) and not bits.get(second.status_index)
    signed_list = json.loads(status_list.credential)
    assert verify(signed_list, _keys().for_method).ok
    assert StatusBits.decode(signed_list["credentialSubject"]["encodedList"]).get(
        first.status_index
    )
    with pytest.raises(Conflict):
        issuance.revoke(first, reason="again", actor=admin)
    with pytest.raises(Invalid):
        issuance.revoke(second, reason="   ", actor=admin)
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "certificate.revoked")
        )
        == 1
    )


def test_reissuing_replaces_the_old_certificate(app, admin):
    cohort, (person,), _ = helpers.completed_cohort(["Aibek Osmonv"])
    (old,) = helpers.issue(cohort, admin)
    new = issuance.reissue(old, name="Aibek Osmonov", reason="Typo in the name", actor=admin)
    db.session.commit()
    db.session.refresh(old)
    assert old.status == REPLACED
    assert new.replaces_id == old.id and new.status == VALID and new.basis == "reissue"
    assert new.name_as_printed == "Aibek Osmonov" and new.serial != old.serial
    assert new.recipient_id == person.id and new.design_id == old.design_id
    bits = StatusBits.from_bytes(db.session.get(StatusList, old.status_list_id).bits)
    assert bits.get(old.status_index) and not bits.get(new.status_index)
    with pytest.raises(Conflict):
        issuance.reissue(old, name="X", reason="again", actor=admin)


def test_production_refuses_to_issue_without_a_public_address(make_app):
    app = make_app({"ENV": "production", "PUBLIC_URL": ""})
    with app.app_context():
        admin = factories.user("admin")
        cohort, _done, _ = helpers.completed_cohort(["A"])
        with pytest.raises(Invalid) as refused:
            issuance.issue_to_completers(cohort, actor=admin)
        assert "LMS_PUBLIC_URL" in str(refused.value.message)


def test_a_new_key_signs_new_certificates_and_old_ones_still_verify(app, admin):
    cohort, _done, _ = helpers.completed_cohort(["A", "B"])
    old, _ = helpers.issue(cohort, admin)
    keys.create_key(actor_id=admin.id)
    db.session.commit()
    other, _o, _t = helpers.completed_cohort(["C"])
    (new,) = helpers.issue(other, admin)
    assert (old.key_id, new.key_id) == ("key-1", "key-2")
    ring = _keys()
    for certificate in (old, new):
        assert verify(json.loads(certificate.credential), ring.for_method).ok
        verify_compact(certificate.token, ring.for_kid)


def test_serials_count_per_region_and_year(app, admin):
    osh, _d, _t = helpers.completed_cohort(["A"])
    chuy, _d2, _t2 = helpers.completed_cohort(["B"], region=factories.region("chuy"))
    (first,) = helpers.issue(osh, admin)
    (second,) = helpers.issue(chuy, admin)
    assert first.serial.startswith("OSH-") and second.serial.startswith("CHU-")
    assert first.serial.endswith("-000001") and second.serial.endswith("-000001")
