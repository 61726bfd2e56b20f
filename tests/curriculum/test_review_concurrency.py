"""Two reviewers deciding at the same moment leave one consistent state (both databases)."""

from __future__ import annotations

import threading

from curriculum import review
from curriculum.models import ModuleVersion, Review
from lms.accounts.models import User
from lms.extensions import db
from tests.curriculum import helpers


def _decide_together(app, version_id: int, user_ids: list[int], decisions: list[str]):
    barrier = threading.Barrier(len(user_ids))
    errors: list[BaseException] = []

    def run(user_id: int, decision: str) -> None:
        with app.app_context():
            try:
                version = db.session.get(ModuleVersion, version_id)
                person = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                review.decide(version, person, decision, "" if decision == "approve" else "why")
                db.session.commit()
            except BaseException as error:  # reported to the test below
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(uid, decision))
        for uid, decision in zip(user_ids, decisions, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_two_approvals_at_once_approve_the_version(app):
    theologian, doctor = helpers.panel()
    version = helpers.submitted()
    db.session.commit()
    ids = (version.id, [theologian.id, doctor.id])
    db.session.remove()
    errors = _decide_together(app, ids[0], ids[1], ["approve", "approve"])
    assert errors == []
    version = db.session.get(ModuleVersion, ids[0])
    assert version.approved_at is not None
    assert len(db.session.query(Review).filter_by(version_id=version.id, active=True).all()) == 2


def test_approval_and_request_at_once_leave_the_version_unapproved(app):
    theologian, doctor = helpers.panel()
    version = helpers.submitted()
    db.session.commit()
    version_id, user_ids = version.id, [theologian.id, doctor.id]
    db.session.remove()
    for _ in range(3):  # a few rounds: whichever commits last, the state must agree
        errors = _decide_together(app, version_id, user_ids, ["approve", "request_changes"])
        assert errors == []
        version = db.session.get(ModuleVersion, version_id)
        assert version.approved_at is None
        status = review.approval_status(version)
        assert len(status.requests) == 1 and len(status.approvals) == 1
        db.session.remove()
