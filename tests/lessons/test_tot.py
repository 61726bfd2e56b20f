"""A ToT from the template: the cohort and its sessions per day and stage, validation that
creates nothing, the pages and their permissions, and stage IV recommendations that arrive
in the curriculum team's feedback inbox."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from curriculum import editions, review, versions
from curriculum.models import Feedback, ModuleVersion
from lessons import tot
from lessons.models import TeachingSession
from lms.accounts.roles import PARTICIPANT, TRAINER
from lms.audit.models import AuditEntry
from lms.cohorts.models import Cohort, Membership
from lms.errors import Invalid, NotAllowed
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

START = date(2026, 10, 5)


def published_edition(extra: tuple[str, ...] = ("nutrition", "clean-water")) -> list[ModuleVersion]:
    """Health Basics published in English with hand hygiene (45 min) and one module (60 min)
    per name in ``extra``; returns the versions in module order."""
    reviewers = helpers.panel()
    editor = factories.user("editor")
    published = [helpers.submitted(editor)]
    for position, slug in enumerate(extra, start=2):
        module = versions.get_or_create_module(helpers.manual(), slug, position)
        document = helpers.document(
            slug=slug, position=position, title=slug.replace("-", " ").title(), duration_minutes=60
        )
        version = versions.create_draft(module, document, author_id=editor.id)
        versions.submit(version, actor_id=editor.id)
        published.append(version)
    for version in published:
        for reviewer in reviewers:
            review.decide(version, reviewer, "approve")
    editions.publish(helpers.manual(), "en", actor_id=editor.id)
    db.session.flush()
    return published


def make_tot(trainer=None, **overrides):
    """A ToT created from the template by a (new) global trainer."""
    trainer = trainer or factories.user(TRAINER)
    values = {
        "name": "Osh ToT, October",
        "region_id": factories.region().id,
        "venue": "Osh State University",
        "starts_on": START,
        "manual_slug": "health-basics",
        "language": "en",
        **overrides,
    }
    return tot.create_tot_from_template(trainer, **values), trainer


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Cohort.id))),
        db.session.scalar(select(func.count(TeachingSession.id))),
    )


# --- the template -------------------------------------------------------------------------


def test_the_template_plans_three_days_over_the_editions_modules(app):
    hygiene, nutrition, water = published_edition()
    cohort, trainer = make_tot()
    db.session.commit()

    assert (cohort.kind, cohort.starts_on, cohort.ends_on) == ("tot", START, START + timedelta(2))
    assert (cohort.manual, cohort.venue) == ("health-basics", "Osh State University")
    assert (
        db.session.scalar(
            select(Membership.role).where(
                Membership.cohort_id == cohort.id, Membership.user_id == trainer.id
            )
        )
        == TRAINER
    )

    sessions = list(
        db.session.scalars(
            select(TeachingSession)
            .where(TeachingSession.cohort_id == cohort.id)
            .order_by(TeachingSession.day, TeachingSession.position)
        )
    )
    # 3 modules: master classes for modules 1–2 on day 1 and 3 on day 2, practice lessons
    # for 1–2 on day 2 and 3 on day 3; each module session is followed by its review.
    assert Counter((s.day, s.stage) for s in sessions) == {
        (1, "I"): 2,
        (1, "II"): 4,
        (2, "II"): 2,
        (2, "III"): 4,
        (3, "III"): 2,
        (3, "IV"): 1,
    }
    assert len(sessions) == 15
    for s in sessions:
        assert s.held_on == START + timedelta(days=s.day - 1)
    for day in (1, 2, 3):
        positions = [s.position for s in sessions if s.day == day]
        assert positions == list(range(1, len(positions) + 1))

    day1 = [(s.title, s.duration_minutes, s.module_version_id) for s in sessions if s.day == 1]
    assert day1 == [
        ("Basics of effective training", 90, None),
        ("Interactive methods", 90, None),
        ("Master class: Hand hygiene", 45, hygiene.id),
        ("Analysis of content and method", 30, hygiene.id),
        ("Master class: Nutrition", 60, nutrition.id),
        ("Analysis of content and method", 30, nutrition.id),
    ]
    assert [s.title for s in sessions if s.day == 3] == [
        "Practice lesson: Clean Water",
        "Group review of content and methodology",
        "Discussion and recommendations",
    ]
    assert sessions[-1].module_version_id is None and water.id in {
        s.module_version_id for s in sessions
    }
    actions = Counter(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "cohort", AuditEntry.object_id == str(cohort.id)
            )
        )
    )
    assert actions["cohort.create"] == 1 and actions["tot.create_from_template"] == 1
    assert actions["session.plan"] == 15


def test_a_single_module_edition_still_fills_three_days(app):
    published_edition(extra=())
    cohort, _trainer = make_tot()
    days = tot.tot_sessions(cohort)
    assert {day: {stage: len(s) for stage, s in by.items()} for day, by in days.items()} == {
        1: {"I": 2, "II": 2},
        2: {"III": 2},
        3: {"IV": 1},
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"starts_on": None}, "starts_on"),
        ({"region_id": None}, "region_id"),
        ({"manual_slug": ""}, "manual"),
        ({"manual_slug": "no-such-manual"}, "manual"),
        ({"language": "de"}, "language"),
    ],
)
def test_validation_errors_create_nothing(app, overrides, field):
    published_edition()
    with pytest.raises(Invalid) as raised:
        make_tot(**overrides)
    assert field in raised.value.field_errors
    db.session.commit()
    assert _counts() == (0, 0)
    assert db.session.scalar(select(func.count(Membership.id))) == 0
    ours = ("cohort.create", "membership.add", "session.plan", "tot.create_from_template")
    assert db.session.scalar(select(func.count()).where(AuditEntry.action.in_(ours))) == 0


def test_a_manual_without_an_edition_creates_nothing(app):
    helpers.submitted()  # a module in review, nothing published
    with pytest.raises(Invalid) as raised:
        make_tot()
    assert "manual" in raised.value.field_errors
    assert _counts() == (0, 0)


def test_errors_of_the_form_and_of_the_cohort_are_reported_together(app):
    published_edition()
    with pytest.raises(Invalid) as raised:
        make_tot(name="", language="xx")
    assert {"name", "language"} <= set(raised.value.field_errors)
    assert _counts() == (0, 0)


def test_a_trainer_cannot_create_a_tot_outside_their_rights(app):
    published_edition()
    other_cohort = factories.cohort()
    scoped = factories.user(TRAINER, scope=other_cohort)  # a trainer of one cohort only
    with pytest.raises(NotAllowed):
        make_tot(trainer=scoped)
    assert _counts() == (1, 0)  # only the factory's cohort


# --- the pages ----------------------------------------------------------------------------


def _form(**overrides) -> dict[str, str]:
    return {
        "name": "Batken ToT",
        "region_id": str(factories.region().id),
        "venue": "Madrasa hall",
        "starts_on": START.isoformat(),
        "manual": "health-basics",
        "language": "en",
        "action": "create",
        **overrides,
    }


def test_the_page_previews_then_creates_and_links_the_tot_pages(app, client):
    published_edition()
    trainer = factories.user(TRAINER)
    db.session.commit()
    factories.login(client, trainer)

    page = client.get("/lessons/tot/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="starts_on"' in text and "Preview the plan" in text
    assert "Master class: Hand hygiene" in text  # the only manual is chosen: its plan shows

    preview = client.post("/lessons/tot/new", data=_form(action="preview"))
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "Day 3" in text and "Practice lesson: Clean Water" in text
    assert "Stage IV: Discussion and recommendations" in text
    assert _counts() == (0, 0)

    response = client.post("/lessons/tot/new", data=_form())
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Batken ToT"))
    assert cohort is not None
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    assert _counts() == (1, 15)

    cohort_page = client.get(response.headers["Location"]).get_data(as_text=True)
    for endpoint in ("tot", "practice", "recommendations"):
        assert f'href="/lessons/cohorts/{cohort.id}/{endpoint}"' in cohort_page
    plan = client.get(f"/lessons/cohorts/{cohort.id}/tot")
    assert plan.status_code == 200
    assert "Interactive methods" in plan.get_data(as_text=True)


def test_the_page_shows_errors_and_creates_nothing(app, client):
    published_edition()
    trainer = factories.user(TRAINER)
    db.session.commit()
    factories.login(client, trainer)
    response = client.post("/lessons/tot/new", data=_form(name="", manual=""))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _counts() == (0, 0)


def test_who_may_use_the_tot_pages(app, client):
    published_edition()
    cohort, _trainer = make_tot()
    participant = factories.user()
    factories.member(cohort, participant, PARTICIPANT)
    stranger = factories.user(TRAINER, scope=factories.cohort())
    db.session.commit()

    anonymous = client.get("/lessons/tot/new")
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]

    factories.login(client, participant)
    assert client.get("/lessons/tot/new").status_code == 403
    assert client.get(f"/lessons/cohorts/{cohort.id}/tot").status_code == 200
    client.post("/account/logout")

    factories.login(client, stranger)
    assert client.get("/lessons/tot/new").status_code == 403  # no region to create in
    assert client.get(f"/lessons/cohorts/{cohort.id}/tot").status_code == 403
    assert client.get(f"/lessons/cohorts/{cohort.id}/recommendations").status_code == 403


def test_tot_pages_are_not_for_classes(app, client):
    klass = factories.cohort("class")
    admin = factories.user("admin")
    db.session.commit()
    factories.login(client, admin)
    assert client.get(f"/lessons/cohorts/{klass.id}/practice").status_code == 404


# --- stage IV: recommendations ------------------------------------------------------------


def test_a_recommendation_arrives_in_the_curriculum_inbox(app, client):
    hygiene, _nutrition, _water = published_edition()
    cohort, _trainer = make_tot()
    participant = factories.user(name="Nurlan Participant")
    factories.member(cohort, participant, PARTICIPANT)
    editor = factories.user("editor")
    db.session.commit()
    url = f"/lessons/cohorts/{cohort.id}/recommendations"

    factories.login(client, participant)
    step1 = client.get(url).get_data(as_text=True)
    assert 'name="module"' in step1 and "Hand hygiene" in step1 and 'name="body"' not in step1
    step2 = client.get(f"{url}?module={hygiene.id}").get_data(as_text=True)
    assert 'value="p-bbbbbb"' in step2 and "Wash your hands with soap before eating." in step2

    response = client.post(
        url,
        data={
            "module_version_id": str(hygiene.id),
            "paragraph_id": "p-bbbbbb",
            "body": "Add a picture of soap for children who cannot read yet.",
        },
    )
    assert response.status_code == 302
    (item,) = db.session.scalars(select(Feedback))
    assert (item.source, item.version_id, item.paragraph_id, item.author_id) == (
        "tot",
        hygiene.id,
        "p-bbbbbb",
        participant.id,
    )
    listed = client.get(url).get_data(as_text=True)
    assert "Add a picture of soap" in listed and "Nurlan Participant" in listed
    client.post("/account/logout")

    factories.login(client, editor)
    inbox = client.get("/curriculum/health-basics/feedback?source=tot")
    assert inbox.status_code == 200
    assert "Add a picture of soap for children who cannot read yet." in inbox.get_data(as_text=True)


def test_the_trainer_recommends_on_a_whole_module(app, client):
    _hygiene, nutrition, _water = published_edition()
    cohort, trainer = make_tot()
    db.session.commit()
    factories.login(client, trainer)
    response = client.post(
        f"/lessons/cohorts/{cohort.id}/recommendations",
        data={"module_version_id": str(nutrition.id), "paragraph_id": "", "body": "Shorter."},
    )
    assert response.status_code == 302
    (item,) = db.session.scalars(select(Feedback))
    assert (item.version_id, item.paragraph_id, item.source) == (nutrition.id, "", "tot")


def test_recommendations_are_checked_and_only_members_send_them(app, client):
    hygiene, _n, _w = published_edition()
    cohort, trainer = make_tot()
    monitor = factories.user("monitor")  # may view every cohort, is no member
    other_version = helpers.draft()  # not in the edition
    db.session.commit()
    url = f"/lessons/cohorts/{cohort.id}/recommendations"

    factories.login(client, trainer)
    empty = client.post(url, data={"module_version_id": str(hygiene.id), "body": " "})
    assert empty.status_code == 400
    wrong = client.post(
        url, data={"module_version_id": str(hygiene.id), "paragraph_id": "p-zzzzzz", "body": "x"}
    )
    assert wrong.status_code == 400
    outside = client.post(url, data={"module_version_id": str(other_version.id), "body": "x"})
    assert outside.status_code == 400
    client.post("/account/logout")

    factories.login(client, monitor)
    page = client.get(url)
    assert page.status_code == 200 and 'name="module"' not in page.get_data(as_text=True)
    sent = client.post(url, data={"module_version_id": str(hygiene.id), "body": "Hello"})
    assert sent.status_code == 403
    assert db.session.scalar(select(func.count(Feedback.id))) == 0
