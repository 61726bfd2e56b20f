"""The review journey through the web pages, as an editor and a panel of experts use it."""

from __future__ import annotations

import re

from sqlalchemy import select

from curriculum import versions
from curriculum.models import ModuleVersion
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers


def _client(app, person):
    client = app.test_client()
    factories.login(client, person)
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


def _latest(module_slug: str = "hand-hygiene", language: str = "en") -> ModuleVersion:
    db.session.expire_all()
    return db.session.scalar(
        select(ModuleVersion)
        .where(ModuleVersion.language == language)
        .order_by(ModuleVersion.number.desc())
        .limit(1)
    )


def test_editor_submits_the_panel_decides_and_a_second_version_needs_new_approvals(app):
    editor = factories.user("editor", name="Bakyt Editor")
    theologian, doctor = helpers.panel()
    first = helpers.draft(editor)
    db.session.commit()
    as_editor = _client(app, editor)
    as_theologian = _client(app, theologian)
    as_doctor = _client(app, doctor)

    page = _text(as_editor.get(f"/curriculum/versions/{first.id}"))
    assert "Submit for review" in page
    as_editor.post(f"/curriculum/versions/{first.id}/submit")
    assert _latest().status == "submitted"

    queue = _text(as_theologian.get("/curriculum/review"))
    assert "Hand hygiene" in queue and "waiting for you" in queue

    as_doctor.post(f"/curriculum/versions/{first.id}/decide", data={"decision": "approve"})
    response = as_theologian.post(
        f"/curriculum/versions/{first.id}/decide",
        data={"decision": "request_changes", "reasons": "Name the source of the advice."},
    )
    assert response.status_code == 302
    page = _text(as_editor.get(f"/curriculum/versions/{first.id}"))
    assert "Name the source of the advice." in page and "Not approved yet." in page

    as_theologian.post(
        f"/curriculum/versions/{first.id}/comments",
        data={"paragraph_id": "p-bbbbbb", "body": "Which soap?"},
    )
    response = as_editor.post(f"/curriculum/versions/{first.id}/new-draft")
    second = _latest()
    assert second.number == 2 and response.headers["Location"].endswith(
        f"/versions/{second.id}/edit"
    )
    form = _text(as_editor.get(f"/curriculum/versions/{second.id}/edit"))
    text = re.search(r"<textarea[^>]*name=\"text\"[^>]*>\r?\n?(.*?)</textarea>", form, re.S).group(
        1
    )
    import html

    text = html.unescape(text).replace("with soap", "with soap and clean water")
    lock = re.search(r'name="lock_version" type="hidden" value="(\d+)"', form).group(1)
    saved = as_editor.post(
        f"/curriculum/versions/{second.id}/edit",
        data={"text": text, "change_summary": "Source named", "lock_version": lock},
    )
    assert saved.status_code == 302
    stale = as_editor.post(
        f"/curriculum/versions/{second.id}/edit",
        data={"text": text, "change_summary": "again", "lock_version": lock},
    )
    assert stale.status_code == 409 and "Someone else saved this draft" in _text(stale)
    as_editor.post(f"/curriculum/versions/{second.id}/submit")

    page = _text(as_doctor.get(f"/curriculum/versions/{second.id}"))
    assert "Not approved yet." in page  # the doctor's approval of v1 does not carry over
    assert "outdated: the paragraph changed" in page  # the comment on p-bbbbbb
    diff = _text(as_doctor.get(f"/curriculum/versions/{second.id}/diff?against={first.id}"))
    assert "<ins" in diff and "clean" in diff

    for client in (as_theologian, as_doctor):
        client.post(f"/curriculum/versions/{second.id}/decide", data={"decision": "approve"})
    assert _latest().approved_at is not None
    page = _text(as_editor.get(f"/curriculum/versions/{second.id}"))
    assert "Every required approval is on record" in page
    assert "Nothing awaits your review." in _text(as_theologian.get("/curriculum/review"))


def test_the_author_cannot_approve_through_the_page(app):
    (theologian,) = helpers.panel(("theology",))
    version = helpers.submitted(author=theologian)
    db.session.commit()
    client = _client(app, theologian)
    response = client.post(
        f"/curriculum/versions/{version.id}/decide",
        data={"decision": "approve"},
        follow_redirects=True,
    )
    assert "You wrote this version, so you cannot approve it." in _text(response)
    assert _latest().approved_at is None


def test_draft_with_a_mistake_shows_the_line_and_keeps_the_text(app):
    editor = factories.user("editor")
    version = helpers.draft(editor)
    db.session.commit()
    client = _client(app, editor)
    text = versions.file_text(version).replace("duration_minutes: 45", "duration_minutes: soon")
    response = client.post(
        f"/curriculum/versions/{version.id}/edit",
        data={"text": text, "change_summary": "", "lock_version": str(version.lock_version)},
    )
    page = _text(response)
    assert response.status_code == 400
    assert "duration_minutes must be a whole number" in page and "soon" in page


def test_admin_dismisses_a_request_with_a_reason(app):
    theologian, doctor = helpers.panel()
    admin = factories.user("admin")
    version = helpers.submitted()
    from curriculum import review

    request = review.decide(version, theologian, "request_changes", "Old wording.")
    review.decide(version, doctor, "approve")
    db.session.commit()
    client = _client(app, admin)
    empty = client.post(f"/curriculum/reviews/{request.id}/dismiss", data={"reason": ""})
    assert empty.status_code == 200 and _latest().approved_at is None
    client.post(
        f"/curriculum/reviews/{request.id}/dismiss", data={"reason": "Reviewer on leave; checked."}
    )
    # dismissing does not approve: the theologian's seat still has no approval
    assert _latest().approved_at is None


def test_reviewers_and_editors_only(app):
    helpers.panel(("theology",))
    version = helpers.submitted()
    teacher = factories.user("teacher")
    db.session.commit()
    client = _client(app, teacher)
    assert client.get(f"/curriculum/versions/{version.id}").status_code == 403
    assert client.get("/curriculum/review").status_code == 403
    assert (
        client.post(
            f"/curriculum/versions/{version.id}/decide", data={"decision": "approve"}
        ).status_code
        == 403
    )


def test_panel_page_adds_seats_and_sets_a_quorum(app):
    admin = factories.user("admin")
    expert = factories.user("reviewer", username="expert1")
    helpers.manual()
    db.session.commit()
    client = _client(app, admin)
    client.post(
        "/curriculum/health-basics/panel/ky",
        data={"action": "seat", "seat-username": "expert1", "seat-domain": "theology"},
    )
    page = _text(client.get("/curriculum/health-basics/panel/ky"))
    assert expert.name in page
    unknown = client.post(
        "/curriculum/health-basics/panel/ky",
        data={"action": "seat", "seat-username": "nobody", "seat-domain": "theology"},
    )
    assert "There is no user with this user name." in _text(unknown)
    client.post(
        "/curriculum/health-basics/panel/ky",
        data={"action": "policy", "policy-policy": "quorum", "policy-theology": "1"},
    )
    from curriculum import review

    panel = review.panel_for(helpers.manual().id, "ky")
    assert panel.policy == "quorum" and panel.quorum == {"theology": 1}
