"""Monitoring visits: recording one, findings for the curriculum team, scopes, lists,
follow-ups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from curriculum import editions, review
from curriculum.models import Feedback
from lessons import monitoring
from lessons.models import MonitoringVisit
from lms.accounts.roles import STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.errors import Invalid, NotAllowed
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

YESTERDAY = date.today() - timedelta(days=1)


def _published_module():
    """Health Basics, edition en/1, with the one module "Hand hygiene"; its version."""
    reviewers = helpers.panel()
    version = helpers.submitted()
    for reviewer in reviewers:
        review.decide(version, reviewer, "approve")
    db.session.flush()
    editions.publish(helpers.manual(), "en", actor_id=None)
    return version


@pytest.fixture
def world(app):
    """A class in an Osh madrasa studying Health Basics, a madrasa in Chui, three officers."""
    version = _published_module()
    osh = factories.madrasa("Nur", region_code="osh-region")
    chui = factories.madrasa("Iman", region_code="chuy")
    klass = factories.cohort(CLASS, name="Grade 5", place=osh, manual="health-basics")
    other_class = factories.cohort(CLASS, name="Grade 6", place=chui, manual="health-basics")
    world = {
        "version": version,
        "osh": osh,
        "chuy": chui,
        "klass": klass,
        "other_class": other_class,
        "national": factories.user("monitor", name="Nargiza National"),
        "regional": factories.user("monitor", name="Osh Officer", scope=factories.region()),
        "local": factories.user("monitor", name="Iman Officer", scope=chui),
    }
    db.session.commit()
    return world


def _form(klass=None, version=None, **extra):
    data = {
        "visited_on": YESTERDAY.isoformat(),
        "visitors": "Dr. Asel Bekova, public health specialist",
        "cohort_id": str(klass.id) if klass else "",
        "module_version_id": str(version.id) if version else "",
        "score_lesson_plan": "4",
        "score_uses_manual": "3",
        "score_interactive_methods": "2",
        "score_students_participate": "3",
        "score_gender_balance": "",
        "score_materials": "1",
        "score_safe_environment": "4",
        "findings": "Lively lesson; girls sat at the back.",
        "follow_ups": "Rearrange the seating by the next visit.",
    }
    data.update(extra)
    return data


def test_an_officer_records_a_visit(world, client):
    osh, klass, version = world["osh"], world["klass"], world["version"]
    factories.login(client, world["regional"])
    page = client.get(f"/lessons/visits/new?madrasa={osh.id}").get_data(as_text=True)
    assert "Grade 5" in page and "1. Hand hygiene" in page and "Grade 6" not in page

    response = client.post(f"/lessons/visits/new?madrasa={osh.id}", data=_form(klass, version))
    assert response.status_code == 302
    visit = db.session.scalar(select(MonitoringVisit))
    assert response.headers["Location"].endswith(f"/lessons/visits/{visit.id}")
    assert visit.madrasa_id == osh.id and visit.officer_id == world["regional"].id
    assert visit.cohort_id == klass.id and visit.module_version_id == version.id
    assert visit.checklist == {
        "lesson_plan": 4,
        "uses_manual": 3,
        "interactive_methods": 2,
        "students_participate": 3,
        "materials": 1,
        "safe_environment": 4,
    }  # "not observed" is left out, so it does not pull the average down
    assert visit.visitors.startswith("Dr. Asel Bekova") and not visit.follow_ups_done
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.record"))
    assert entry.actor_id == world["regional"].id and entry.details["madrasa_id"] == osh.id

    shown = client.get(f"/lessons/visits/{visit.id}").get_data(as_text=True)
    assert "2.8 / 4" in shown and "Hand hygiene" in shown and "Rearrange the seating" in shown


def test_a_finding_about_the_manual_reaches_the_curriculum_inbox(world, client):
    osh, version = world["osh"], world["version"]
    factories.login(client, world["regional"])
    data = _form(
        world["klass"],
        finding_text="The hand-washing steps are hard to follow without pictures.",
        finding_module_id=str(version.id),
        finding_paragraph="2",
    )
    response = client.post(f"/lessons/visits/new?madrasa={osh.id}", data=data)
    assert response.status_code == 302
    feedback = db.session.scalar(select(Feedback))
    assert feedback.source == "monitoring" and feedback.version_id == version.id
    assert feedback.paragraph_id == "p-bbbbbb"  # the second paragraph of the module
    assert feedback.author_id == world["regional"].id
    assert feedback.body.startswith("The hand-washing steps") and "Nur" in feedback.body
    visit = db.session.scalar(select(MonitoringVisit))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.record"))
    assert entry.object_id == str(visit.id) and entry.details["feedback_id"] == feedback.id
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"feedback no. {feedback.id}" in shown


def test_a_finding_needs_text_and_a_module_of_the_madrasa(world, client):
    factories.login(client, world["regional"])
    data = _form(world["klass"], finding_paragraph="9", finding_module_id=str(world["version"].id))
    page = client.post(f"/lessons/visits/new?madrasa={world['osh'].id}", data=data)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Write what you found about the manual." in text
    assert db.session.scalar(select(func.count(MonitoringVisit.id))) == 0
    assert db.session.scalar(select(func.count(Feedback.id))) == 0


def test_a_scoped_officer_cannot_record_a_visit_out_of_scope(world, client):
    local, osh, chui = world["local"], world["osh"], world["chuy"]
    factories.login(client, local)
    chooser = client.get("/lessons/visits/new").get_data(as_text=True)
    # Only one madrasa in scope: it is chosen straight away.
    assert "Visit to Iman" in chooser and "Nur" not in chooser
    assert client.get(f"/lessons/visits/new?madrasa={osh.id}").status_code == 403
    response = client.post(f"/lessons/visits/new?madrasa={osh.id}", data=_form())
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(MonitoringVisit.id))) == 0
    with pytest.raises(NotAllowed):
        monitoring.record_visit(
            local, osh, monitoring.VisitFields(visited_on=YESTERDAY, findings="x"), language="en"
        )
    # In scope, it works.
    response = client.post(f"/lessons/visits/new?madrasa={chui.id}", data=_form())
    assert response.status_code == 302


def test_the_class_and_module_must_belong_to_the_madrasa(world, client):
    factories.login(client, world["national"])
    osh = world["osh"]
    page = client.post(
        f"/lessons/visits/new?madrasa={osh.id}",
        data=_form(world["other_class"], world["version"]),
    )
    assert "Not a valid choice" in page.get_data(as_text=True)
    fields = monitoring.VisitFields(
        visited_on=YESTERDAY,
        cohort_id=world["other_class"].id,
        module_version_id=world["version"].id,
        checklist={"lesson_plan": 3},
    )
    with pytest.raises(Invalid) as caught:
        monitoring.record_visit(world["national"], osh, fields, language="en")
    assert set(caught.value.field_errors) == {"cohort_id", "module_version_id"}
    future = monitoring.VisitFields(visited_on=date.today() + timedelta(days=3), findings="x")
    with pytest.raises(Invalid) as caught:
        monitoring.record_visit(world["national"], osh, future, language="en")
    assert "visited_on" in caught.value.field_errors
    nothing = monitoring.VisitFields(visited_on=YESTERDAY, checklist={"lesson_plan": None})
    with pytest.raises(Invalid) as caught:
        monitoring.record_visit(world["national"], osh, nothing, language="en")
    assert "findings" in caught.value.field_errors


def _visit(officer, madrasa, *, on=YESTERDAY, follow_ups="", scores=None):
    visit, _ = monitoring.record_visit(
        officer,
        madrasa,
        monitoring.VisitFields(
            visited_on=on,
            checklist=scores or {"lesson_plan": 2, "materials": 3},
            findings="Seen.",
            follow_ups=follow_ups,
        ),
        language="en",
    )
    return visit


def test_lists_per_region_and_madrasa(world, client):
    osh, chui = world["osh"], world["chuy"]
    _visit(world["national"], osh, on=date(2026, 3, 2), follow_ups="Order manuals.")
    _visit(world["national"], chui, on=date(2026, 3, 5))
    db.session.commit()

    factories.login(client, world["national"])
    everything = client.get("/lessons/visits").get_data(as_text=True)
    assert "Nur" in everything and "Iman" in everything and "Nargiza National" in everything
    assert "2.5 / 4" in everything and "open" in everything
    region = factories.region("chuy")
    by_region = client.get(f"/lessons/visits?region={region.id}").get_data(as_text=True)
    assert "Iman" in by_region and f"/lessons/madrasas/{osh.id}/visits" not in by_region
    by_madrasa = client.get(f"/lessons/visits?madrasa={osh.id}").get_data(as_text=True)
    assert f"/lessons/madrasas/{chui.id}/visits" not in by_madrasa
    assert f"/lessons/madrasas/{osh.id}/visits" in by_madrasa
    open_only = client.get("/lessons/visits?open=y").get_data(as_text=True)
    assert "2 visits" not in open_only and "1 visit" in open_only
    one = client.get(f"/lessons/madrasas/{chui.id}/visits").get_data(as_text=True)
    assert "Monitoring visits to Iman" in one and "1 visit" in one

    client.post("/account/logout")
    factories.login(client, world["regional"])  # Osh region only
    mine = client.get("/lessons/visits").get_data(as_text=True)
    assert f"/lessons/madrasas/{osh.id}/visits" in mine
    assert f"/lessons/madrasas/{chui.id}/visits" not in mine
    assert client.get(f"/lessons/madrasas/{chui.id}/visits").status_code == 403
    chui_visit = db.session.scalar(
        select(MonitoringVisit).where(MonitoringVisit.madrasa_id == chui.id)
    )
    assert client.get(f"/lessons/visits/{chui_visit.id}").status_code == 403


def test_follow_ups_are_marked_done_and_audited(world, client):
    visit = _visit(world["regional"], world["osh"], follow_ups="Order 20 manuals.")
    quiet = _visit(world["regional"], world["osh"])
    db.session.commit()
    factories.login(client, world["regional"])
    assert "Mark the follow-up actions done" in client.get(f"/lessons/visits/{visit.id}").get_data(
        as_text=True
    )
    response = client.post(f"/lessons/visits/{visit.id}", data={"done": "1"})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert visit.follow_ups_done
    assert db.session.scalar(
        select(AuditEntry.actor_id).where(AuditEntry.action == "visit.follow_ups_done")
    ) == (world["regional"].id)
    assert "1 visit" not in client.get("/lessons/visits?open=y").get_data(as_text=True)

    client.post(f"/lessons/visits/{visit.id}", data={"done": "0"})
    db.session.refresh(visit)
    assert not visit.follow_ups_done
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "visit.follow_ups_reopened")
    )
    page = client.post(f"/lessons/visits/{quiet.id}", data={"done": "1"}, follow_redirects=True)
    assert "This visit has no follow-up actions." in page.get_data(as_text=True)


def test_only_monitoring_officers_see_visits(world, client):
    teacher = factories.user()
    factories.member(world["klass"], teacher, TEACHER)
    factories.member(world["klass"], factories.user(), STUDENT)
    db.session.commit()
    factories.login(client, teacher)
    assert client.get("/lessons/visits").status_code == 403
    assert client.get("/lessons/visits/new").status_code == 403
    assert "Monitoring visits" not in client.get("/").get_data(as_text=True)


def test_officers_find_visits_in_the_navigation(world, client):
    factories.login(client, world["local"])
    assert "/lessons/visits" in client.get("/").get_data(as_text=True)


def test_checklist_average_ignores_items_not_observed():
    assert monitoring.checklist_average({"a": 4, "b": 1}) == 2.5
    assert monitoring.checklist_average({}) is None
