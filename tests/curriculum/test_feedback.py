"""Feedback from the field on a version's paragraphs, and its triage by editors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from curriculum.content import Block
from curriculum.models import Feedback, ModuleVersion
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

EDITED = (
    helpers.BLOCKS[0],
    Block("p-bbbbbb", "Wash your hands with soap for 20 seconds before eating."),
    helpers.BLOCKS[2],
)


def _form_url(version: ModuleVersion, paragraph: str = "p-bbbbbb", **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"paragraph": paragraph, **args}.items())
    return f"/curriculum/versions/{version.id}/feedback?{query}"


def _feedback() -> list[Feedback]:
    db.session.expire_all()
    return list(db.session.scalars(select(Feedback).order_by(Feedback.id)))


def _login(client, person) -> None:
    db.session.commit()
    factories.login(client, person)


@pytest.mark.parametrize(
    ("role", "source"), [("trainer", "tot"), ("teacher", "classroom"), ("monitor", "monitoring")]
)
def test_field_staff_give_feedback_on_a_paragraph(app, client, role, source):
    version = helpers.submitted()
    person = factories.user(role)
    _login(client, person)

    form = client.get(_form_url(version, next="/lessons/7"))
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'data-block="p-bbbbbb"' in page  # the paragraph, rendered
    assert "Wash your hands with soap before eating." in page
    assert re.search(rf'<input checked [^>]*value="{source}"', page)  # chosen from the role

    response = client.post(
        f"/curriculum/versions/{version.id}/feedback",
        data={
            "paragraph_id": "p-bbbbbb",
            "source": source,
            "body": "The children had no soap; suggest ash.",
            "next": "/lessons/7",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/lessons/7"
    (item,) = _feedback()
    assert (item.source, item.paragraph_id, item.author_id, item.status) == (
        source,
        "p-bbbbbb",
        person.id,
        "new",
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feedback.add"))
    assert entry is not None and entry.object_id == str(item.id)


def test_a_foreign_next_goes_to_the_manual_page(app, client):
    version = helpers.submitted()
    _login(client, factories.user("trainer"))
    response = client.post(
        f"/curriculum/versions/{version.id}/feedback",
        data={"source": "tot", "body": "Too long for one session.", "next": "//evil.example/x"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/curriculum/health-basics")
    assert _feedback()[0].paragraph_id == ""  # on the whole module


def test_a_trainer_of_a_cohort_studying_the_manual_may_give_feedback(app, client):
    version = helpers.submitted()
    person = factories.user()
    factories.member(factories.cohort(manual="health-basics"), person, "trainer")
    other = factories.user()
    factories.member(factories.cohort(CLASS, manual="civic-education"), other, "teacher")
    _login(client, person)
    assert client.get(_form_url(version)).status_code == 200
    client.post("/account/logout")
    factories.login(client, other)
    assert client.get(_form_url(version)).status_code == 403


def test_students_may_not_give_feedback(app, client):
    version = helpers.submitted()
    _login(client, factories.user("student"))
    assert client.get(_form_url(version)).status_code == 403
    response = client.post(
        f"/curriculum/versions/{version.id}/feedback", data={"source": "tot", "body": "Hi"}
    )
    assert response.status_code == 403
    assert _feedback() == []


def test_bad_input_is_field_errors_and_saves_nothing(app, client):
    version = helpers.submitted()
    _login(client, factories.user("teacher"))
    url = f"/curriculum/versions/{version.id}/feedback"
    response = client.post(
        url, data={"paragraph_id": "p-zzzzzz", "source": "classroom", "body": "Good."}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That paragraph is not in this version." in page
    assert 'id="paragraph_id-errors"' in page
    response = client.post(url, data={"paragraph_id": "p-bbbbbb", "source": "", "body": " "})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose where the feedback comes from." in page and "Write the feedback." in page
    assert _feedback() == []
    # An unknown paragraph in the link is shown as the same error before anything is typed.
    assert "That paragraph is not in this version." in client.get(
        _form_url(version, "p-zzzzzz")
    ).get_data(as_text=True)


def test_drafts_take_no_feedback(app, client):
    version = helpers.draft()
    _login(client, factories.user("teacher"))
    assert client.get(_form_url(version)).status_code == 404


def _some_feedback():
    """Three pieces of feedback on v1, from the three sources; and an edited v2."""
    v1 = helpers.submitted()
    trainer, teacher = factories.user("trainer", name="Aibek"), factories.user("teacher")
    from curriculum import feedback

    items = [
        feedback.add_feedback(
            v1, author_id=trainer.id, source="tot", body="Add timing.", paragraph_id="p-bbbbbb"
        ),
        feedback.add_feedback(v1, author_id=teacher.id, source="classroom", body="Liked it."),
        feedback.add_feedback(
            v1, author_id=None, source="monitoring", body="Germs: unclear.", paragraph_id="p-cccccc"
        ),
    ]
    v2 = helpers.submitted(blocks=EDITED, based_on=v1, change_summary="20 seconds.")
    return v1, v2, items


def test_the_inbox_lists_and_filters_feedback(app, client):
    _v1, _v2, items = _some_feedback()
    _login(client, factories.user("editor"))
    page = client.get("/curriculum/health-basics/feedback").get_data(as_text=True)
    for item in items:
        assert f"/curriculum/feedback/{item.id}" in page
    assert "Wash your hands with soap before eating." in page  # the paragraph excerpt
    assert "Aibek" in page and "hand-hygiene" in page
    page = client.get("/curriculum/health-basics/feedback?source=tot").get_data(as_text=True)
    assert f"/curriculum/feedback/{items[0].id}" in page
    assert f"/curriculum/feedback/{items[1].id}" not in page
    page = client.get("/curriculum/health-basics/feedback?status=accepted").get_data(as_text=True)
    assert "No feedback matches." in page


def test_triage_links_the_resolving_version_which_then_names_the_feedback(app, client):
    v1, v2, items = _some_feedback()
    editor = factories.user("editor")
    _login(client, editor)
    item = items[0]
    page = client.get(f"/curriculum/feedback/{item.id}").get_data(as_text=True)
    assert "Wash your hands with soap before eating." in page and "Add timing." in page
    assert page.index(f'value="{v2.id}"') < page.index(f'value="{v1.id}"')  # newest first

    response = client.post(
        f"/curriculum/feedback/{item.id}",
        data={"status": "accepted", "note": "Done in v2.", "resolved_by": str(v2.id)},
    )
    assert response.status_code == 302
    (stored, *_rest) = _feedback()
    assert (stored.status, stored.resolved_by_version_id, stored.triaged_by_id) == (
        "accepted",
        v2.id,
        editor.id,
    )
    version_page = client.get(f"/curriculum/versions/{v2.id}").get_data(as_text=True)
    assert "Changed because of feedback:" in version_page and f"#{item.id}" in version_page
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"feedback.add", "feedback.triage"} <= actions
    page = client.get("/curriculum/health-basics/feedback?status=accepted").get_data(as_text=True)
    assert f"/curriculum/feedback/{item.id}" in page


def test_triage_input_is_checked(app, client):
    _v1, _v2, items = _some_feedback()
    module = helpers.versions.get_or_create_module(helpers.manual(), "nutrition", 2)
    foreign = helpers.versions.create_draft(
        module, helpers.document(slug="nutrition"), author_id=None
    )
    _login(client, factories.user("editor"))
    url = f"/curriculum/feedback/{items[0].id}"
    response = client.post(url, data={"status": "", "note": ""})
    assert response.status_code == 400
    assert "Choose accept, reject or defer." in response.get_data(as_text=True)
    response = client.post(url, data={"status": "accepted", "resolved_by": str(foreign.id)})
    assert response.status_code == 400
    assert "Choose a version of the same module." in response.get_data(as_text=True)
    assert _feedback()[0].status == "new"


def test_only_editors_triage(app, client):
    _v1, _v2, items = _some_feedback()
    _login(client, factories.user("trainer"))
    assert client.get("/curriculum/health-basics/feedback").status_code == 403
    assert client.get(f"/curriculum/feedback/{items[0].id}").status_code == 403
    assert (
        client.post(f"/curriculum/feedback/{items[0].id}", data={"status": "rejected"}).status_code
        == 403
    )
