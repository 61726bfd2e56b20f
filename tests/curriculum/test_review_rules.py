"""The review rules of DESIGN §5, proved on the services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from curriculum import review, versions
from curriculum.content import Block
from curriculum.models import ModuleVersion, VersionIsFrozen
from lms.audit.models import AuditEntry
from lms.errors import Conflict, Invalid, NotAllowed
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers


def _refreshed(version: ModuleVersion) -> ModuleVersion:
    db.session.expire_all()
    return db.session.get(ModuleVersion, version.id)


def test_submitted_version_never_changes(app):
    version = helpers.submitted()
    version.title = "Something else"
    with pytest.raises(VersionIsFrozen):
        db.session.flush()


def test_every_seat_must_approve_under_the_unanimous_policy(app):
    theologian, doctor = helpers.panel()
    version = helpers.submitted(factories.user("editor"))
    review.decide(version, theologian, "approve")
    assert _refreshed(version).approved_at is None
    review.decide(version, doctor, "approve_with_reservation", "Add the WHO source.")
    assert _refreshed(version).approved_at is not None


def test_quorum_policy_counts_approvals_per_domain(app):
    reviewers = helpers.panel(("theology", "theology", "health"))
    panel = review.panel_for(helpers.manual().id, "en")
    review.set_policy(panel, "quorum", {"theology": 1, "health": 1}, actor_id=None)
    version = helpers.submitted()
    review.decide(version, reviewers[0], "approve")
    assert _refreshed(version).approved_at is None
    review.decide(version, reviewers[2], "approve")
    assert _refreshed(version).approved_at is not None


def test_author_cannot_approve_their_own_version(app):
    (theologian,) = helpers.panel(("theology",))
    version = helpers.submitted(author=theologian)
    with pytest.raises(NotAllowed):
        review.decide(version, theologian, "approve")
    review.decide(version, theologian, "request_changes", "A typo in paragraph 2.")


def test_only_panel_members_decide_and_only_on_submitted_versions(app):
    helpers.panel(("theology",))
    outsider = factories.user("reviewer", expertise="health")
    version = helpers.submitted()
    with pytest.raises(NotAllowed):
        review.decide(version, outsider, "approve")
    (theologian,) = [s.user for s in review.panel_for(helpers.manual().id, "en").seats]
    other = helpers.draft(language="ru")
    with pytest.raises((Conflict, NotAllowed)):
        review.decide(other, theologian, "approve")


def test_request_changes_blocks_until_the_same_reviewer_withdraws(app):
    theologian, doctor = helpers.panel()
    version = helpers.submitted()
    request = review.decide(version, theologian, "request_changes", "Paragraph 2 is unclear.")
    review.decide(version, doctor, "approve")
    assert _refreshed(version).approved_at is None
    with pytest.raises(NotAllowed):
        review.withdraw(request, doctor)
    review.withdraw(request, theologian)
    assert _refreshed(version).approved_at is None  # withdrawn is not approved
    review.decide(version, theologian, "approve")
    assert _refreshed(version).approved_at is not None


def test_admin_dismisses_a_request_only_with_a_logged_reason(app):
    theologian, _doctor = helpers.panel()
    admin = factories.user("admin")
    version = helpers.submitted()
    request = review.decide(version, theologian, "request_changes", "Wrong verse.")
    with pytest.raises(Invalid):
        review.dismiss(request, admin, "  ")
    review.dismiss(request, admin, "The reviewer left the panel; the verse was checked.")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.dismiss"))
    assert "verse was checked" in entry.details["reason"]


def test_a_new_hash_needs_new_approvals_an_identical_hash_keeps_them(app):
    theologian, doctor = helpers.panel()
    first = helpers.submitted()
    review.decide(first, theologian, "approve")
    review.decide(first, doctor, "approve")
    assert _refreshed(first).approved_at is not None

    changed = list(helpers.BLOCKS)
    changed[1] = Block("p-bbbbbb", "Wash your hands with soap and water before eating.")
    second = helpers.submitted(blocks=changed, change_summary="Water too", based_on=first)
    assert _refreshed(second).approved_at is None
    assert review.approval_status(second).approvals == []

    third = helpers.submitted(blocks=helpers.BLOCKS, change_summary="Back", based_on=second)
    assert third.content_hash == first.content_hash
    assert _refreshed(third).approved_at is not None  # identical text keeps its approvals


def test_first_version_approvals_do_not_count_after_a_requested_change(app):
    """The issue's story: one reviewer requests changes, the editor makes version 2."""
    theologian, doctor = helpers.panel()
    editor = factories.user("editor")
    first = helpers.submitted(editor)
    review.decide(first, doctor, "approve")
    review.decide(first, theologian, "request_changes", "Cite the hadith correctly.")
    second = versions.new_draft_from(_refreshed(first), author_id=editor.id)
    text = versions.file_text(second).replace("before eating", "before eating and praying")
    versions.save_draft(
        second,
        text,
        expected_lock_version=second.lock_version,
        change_summary="Hadith cited",
        actor_id=editor.id,
    )
    versions.submit(second, actor_id=editor.id)
    assert review.approval_status(second).approvals == []
    review.decide(second, theologian, "approve")
    assert _refreshed(second).approved_at is None  # the doctor's v1 approval does not count
    review.decide(second, doctor, "approve")
    assert _refreshed(second).approved_at is not None
    assert _refreshed(first).approved_at is None


def test_per_paragraph_approvals_follow_the_text(app):
    theologian, doctor = helpers.panel()
    first = helpers.submitted()
    review.decide(first, theologian, "approve")
    review.decide(first, doctor, "approve")
    changed = list(helpers.BLOCKS)
    changed[2] = Block("p-cccccc", "Germs spread from hands to food and water.")
    second = helpers.submitted(blocks=changed, change_summary="water", based_on=first)
    approvals = review.paragraph_approvals(second)
    assert {s.user_id for s in approvals["p-bbbbbb"]} == {theologian.id, doctor.id}
    assert "p-cccccc" not in approvals


def test_comments_become_outdated_or_resolved_but_are_never_lost(app):
    (theologian,) = helpers.panel(("theology",))
    first = helpers.submitted()
    on_b = review.add_comment(first, theologian, "p-bbbbbb", "Mention water.")
    on_c = review.add_comment(first, theologian, "p-cccccc", "Which germs?")
    review.add_comment(first, theologian, "p-aaaaaa", "Good title.")
    review.add_comment(first, theologian, "", "A reply", parent_id=on_b.id)
    changed = [helpers.BLOCKS[0], Block("p-bbbbbb", "Wash with soap and water.")]
    second = helpers.submitted(blocks=changed, change_summary="edit", based_on=first)
    threads = review.comment_threads(second)
    states = {t.comment.id: t.state for ts in threads.values() for t in ts}
    assert states[on_b.id] == "outdated"
    assert states[on_c.id] == "resolved"  # its paragraph is gone
    assert sum(len(ts) for ts in threads.values()) == 3
    assert threads["p-bbbbbb"][0].replies[0].body == "A reply"


def test_draft_saving_refuses_a_stale_copy(app):
    editor = factories.user("editor")
    version = helpers.draft(editor)
    text = versions.file_text(version)
    loaded = version.lock_version
    versions.save_draft(
        version,
        text.replace("Germs", "Microbes"),
        expected_lock_version=loaded,
        change_summary="",
        actor_id=editor.id,
    )
    with pytest.raises(Conflict):
        versions.save_draft(
            version, text, expected_lock_version=loaded, change_summary="", actor_id=editor.id
        )


def test_draft_with_bad_text_is_refused_with_line_numbers(app):
    version = helpers.draft()
    bad = versions.file_text(version).replace("duration_minutes: 45", "duration_minutes: lots")
    with pytest.raises(Invalid) as caught:
        versions.save_draft(
            version,
            bad,
            expected_lock_version=version.lock_version,
            change_summary="",
            actor_id=None,
        )
    assert any("duration_minutes" in str(m) for m in caught.value.field_errors["text"])
    assert ":" in str(caught.value.field_errors["text"][0])  # line number given


def test_submission_happens_once(app):
    version = helpers.draft()
    versions.submit(version, actor_id=None)
    with pytest.raises(Conflict):
        versions.submit(version, actor_id=None)


def test_every_decision_and_submission_is_audited(app):
    theologian, _doctor = helpers.panel()
    version = helpers.submitted()
    review.decide(version, theologian, "approve")
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"module.draft", "module.submit", "review.decide"} <= actions
