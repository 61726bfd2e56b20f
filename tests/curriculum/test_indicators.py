"""The curriculum's indicators: editions in use in madrasa classes, and field feedback."""

from __future__ import annotations

from datetime import date

import pytest

from curriculum import editions, feedback, review
from curriculum.indicators import EDITIONS_ID, FEEDBACK_ID
from lms.accounts.roles import TEACHER
from lms.cohorts.models import CLASS
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories
from tests.curriculum import helpers
from tests.reports import by_label, cells, drill, row, tables

EDITION_1 = "Health Basics: edition 1, English"
NOT_PINNED = "Health Basics: latest edition (not pinned)"


@pytest.fixture
def world(app):
    """Health Basics en/1 published; three classes, two pinned to it; three pieces of feedback.

    class   madrasa      pinned   teacher
    One     Nur (Osh)    en/1     Zarina (F)
    Two     Nur (Osh)    —        Erlan (M)
    Three   Iman (Chuy)  en/1     Zarina (F)
    Feedback on "Hand hygiene": from a ToT (accepted, resolved by a version), from a
    monitoring visit (rejected), from a classroom (new).
    """
    reviewers = helpers.panel()
    version = helpers.submitted()
    for reviewer in reviewers:
        review.decide(version, reviewer, "approve")
    db.session.flush()
    edition = editions.publish(helpers.manual(), "en", actor_id=None)
    nur = factories.madrasa("Nur", region_code="osh-region")
    iman = factories.madrasa("Iman", region_code="chuy")
    zarina = factories.user(name="Zarina", sex="female")
    erlan = factories.user(name="Erlan", sex="male")
    when = {"starts_on": date(2025, 9, 1), "ends_on": date(2026, 5, 31)}
    classes = {}
    for name, place, teacher, pinned in (
        ("One", nur, zarina, True),
        ("Two", nur, erlan, False),
        ("Three", iman, zarina, True),
    ):
        group = factories.cohort(CLASS, name=name, place=place, manual="health-basics", **when)
        factories.member(group, teacher, TEACHER)
        if pinned:
            editions.assign_to_cohort(group.id, edition, actor_id=None)
        classes[name] = group
    editor = factories.user("editor")
    items = {
        source: feedback.add_feedback(version, author_id=None, source=source, body=f"From {source}")
        for source in ("tot", "monitoring", "classroom")
    }
    feedback.triage(items["tot"], "accepted", actor_id=editor.id, resolved_by=version)
    feedback.triage(items["monitoring"], "rejected", actor_id=editor.id)
    admin = factories.user("admin")
    db.session.commit()
    return {
        "admin": admin,
        "nur": nur,
        "classes": classes,
        "teachers": {"Zarina": zarina, "Erlan": erlan},
        "when": when,
    }


def test_editions_in_use_counted_by_hand(world):
    found = tables(EDITIONS_ID, world["admin"])
    assert list(by_label(found["by_edition"])) == [EDITION_1, NOT_PINNED, "Total"]
    assert row(found["by_edition"], EDITION_1) == {
        "madrasas": 2,
        "classes": 2,
        "t_female": 1,
        "t_male": 0,
        "t_total": 1,
    }
    assert row(found["by_edition"], NOT_PINNED)["t_male"] == 1
    total = {"madrasas": 2, "classes": 3, "t_female": 1, "t_male": 1, "t_total": 2}
    assert row(found["by_edition"], "Total") == total
    assert row(found["by_manual"], "Health Basics") == total
    osh = tables(EDITIONS_ID, world["admin"], region=factories.region().id)
    assert row(osh["by_edition"], EDITION_1) == {
        "madrasas": 1,
        "classes": 1,
        "t_female": 1,
        "t_male": 0,
        "t_total": 1,
    }
    assert (
        tables(EDITIONS_ID, world["admin"], year=2024)["by_edition"].rows[-1].values["classes"] == 0
    )


def test_editions_count_distinct_classes_madrasas_and_teachers_per_row(world):
    """Each row counts distinct classes, madrasas and teachers: a class with two teachers
    is one class, a class with no teacher still counts, a teacher of a pinned and an
    unpinned class is one teacher of the manual, and a madrasa with classes of two manuals
    is one madrasa in all (not the sums of the rows above). The drill-downs list as many
    records as the figures say."""
    zarina = world["teachers"]["Zarina"]
    aibek = factories.user(name="Aibek", sex="male")
    four = factories.cohort(
        CLASS, name="Four", place=world["nur"], manual="health-basics", **world["when"]
    )
    factories.member(four, zarina, TEACHER)
    factories.member(four, aibek, TEACHER)
    ala = factories.madrasa("Ala", region_code="chuy")
    factories.cohort(CLASS, name="Five", place=ala, manual="health-basics", **world["when"])
    factories.cohort(CLASS, name="Six", place=ala, **world["when"])  # no manual
    db.session.commit()
    found = tables(EDITIONS_ID, world["admin"])
    assert row(found["by_edition"], EDITION_1) == {
        "madrasas": 2,
        "classes": 2,
        "t_female": 1,
        "t_male": 0,
        "t_total": 1,
    }
    unpinned = {"madrasas": 2, "classes": 3, "t_female": 1, "t_male": 2, "t_total": 3}
    assert row(found["by_edition"], NOT_PINNED) == unpinned
    health = {"madrasas": 3, "classes": 5, "t_female": 1, "t_male": 2, "t_total": 3}
    assert row(found["by_manual"], "Health Basics") == health
    assert row(found["by_manual"], "No manual") == {
        "madrasas": 1,
        "classes": 1,
        "t_female": 0,
        "t_male": 0,
        "t_total": 0,
    }
    total = {"madrasas": 3, "classes": 6, "t_female": 1, "t_male": 2, "t_total": 3}
    assert row(found["by_edition"], "Total") == row(found["by_manual"], "Total") == total
    key = "manual:health-basics,edition:none"
    classes = drill(EDITIONS_ID, "by_edition", f"{key},what:classes")
    assert cells(classes, 0) == ["Five", "Four", "Two"] and classes.total == 3
    assert drill(EDITIONS_ID, "by_edition", f"{key},what:madrasas").total == 2
    teachers = drill(EDITIONS_ID, "by_edition", f"{key},what:teachers")
    assert cells(teachers, 0) == ["Aibek", "Erlan", "Zarina"] and teachers.total == 3
    women = drill(EDITIONS_ID, "by_edition", f"{key},what:teachers,sex:female")
    assert cells(women, 0) == ["Zarina"]
    everyone = drill(EDITIONS_ID, "by_manual", "manual:health-basics,what:teachers")
    assert everyone.total == 3
    assert drill(EDITIONS_ID, "by_manual", "what:madrasas").total == 3


def test_drilling_into_editions_lists_classes_madrasas_and_teachers(world):
    edition_key = next(
        r.key
        for r in tables(EDITIONS_ID, world["admin"])["by_edition"].rows
        if r.label == EDITION_1
    )
    key = ",".join(f"{k}:{v}" for k, v in edition_key.items())
    assert cells(drill(EDITIONS_ID, "by_edition", f"{key},what:classes"), 0) == ["One", "Three"]
    assert cells(drill(EDITIONS_ID, "by_edition", f"{key},what:madrasas"), 0) == ["Nur", "Iman"]
    teachers = drill(EDITIONS_ID, "by_edition", "what:teachers")
    assert cells(teachers, 0) == ["Erlan", "Zarina"] and cells(teachers, 2) == [1, 2]
    unpinned = drill(EDITIONS_ID, "by_edition", "manual:health-basics,edition:none,what:classes")
    assert cells(unpinned, 0) == ["Two"]


def test_feedback_received_and_resolved_counted_by_hand(world):
    found = tables(FEEDBACK_ID, world["admin"], year=utcnow().year)
    assert row(found["by_module"], "Health Basics: Hand hygiene") == {
        "received": 3,
        "src_tot": 1,
        "src_monitoring": 1,
        "src_classroom": 1,
        "triaged": 2,
        "accepted": 1,
        "resolved": 1,
    }
    assert row(found["by_manual"], "Total")["received"] == 3
    assert tables(FEEDBACK_ID, world["admin"], year=2020)["by_module"].rows[-1].values == {
        "received": 0,
        "src_tot": 0,
        "src_monitoring": 0,
        "src_classroom": 0,
        "triaged": 0,
        "accepted": 0,
        "resolved": 0,
    }
    resolved = drill(FEEDBACK_ID, "by_module", "resolved:1")
    assert resolved.total == 1 and cells(resolved, 2) == ["Training of Trainers"]


def test_feedback_is_shown_only_for_the_whole_country(world):
    by_region = tables(FEEDBACK_ID, world["admin"], region=factories.region().id)["by_module"]
    assert by_region.rows == () and "whole country" in str(by_region.note)
    officer = factories.user("monitor", scope=world["nur"])
    db.session.commit()
    assert tables(FEEDBACK_ID, officer)["by_module"].rows == ()
    assert drill(FEEDBACK_ID, "by_module", "", officer).total == 0
