"""The lessons plugin's indicators against a data set recorded through its services:
sessions and attendance, practice-lesson averages, monitoring visits."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from lessons import monitoring, practice, sessions
from lessons.indicators import PRACTICE_ID, SESSIONS_ID, VISITS_ID
from lessons.models import HELD, PRESENT, Attendance, TeachingSession
from lms.accounts.roles import PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.cohorts.models import CLASS, TOT
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers
from tests.lessons.test_tot import published_edition
from tests.reports import cells, drill, row, sexes, tables

CONTENT = ("objectives", "accuracy", "faithful", "examples")
METHODOLOGY = ("interactive", "timing", "involves_all", "understanding")


def _scores(content: int, methodology: int) -> dict[str, int]:
    return {**dict.fromkeys(CONTENT, content), **dict.fromkeys(METHODOLOGY, methodology)}


@pytest.fixture
def world(app) -> dict[str, Any]:
    """Two classes and a ToT, their lessons, practice lessons and visits.

    Class A (Nur, Osh, Health Basics): Aida, Bermet (F), Chyngyz (M)
      2025-10-06 hygiene 45 min    Aida present, Bermet present, Chyngyz absent
      2026-02-02 nutrition 60 min  Aida present, Bermet excused, Chyngyz present
      2026-03-02 planned only
    Class B (Iman, Chuy, Civic Education): Elmira (F), Farid (M)
      2025-11-10 "Rights" 45 min   both present
    ToT (Osh, Health Basics): Daniyar (M), Gulnara (F)
      2025-10-20 "Basics of training" 90 min  both present
      practice lessons: Daniyar 2025-10-21 — trainer content 4 methodology 3, Gulnara 5/5
                        → content 4.5, methodology 4.0, overall 68/16 = 4.25
                        Gulnara 2026-01-15 — trainer 2/4 → content 2, methodology 4, overall 3
    Visits: Nur 2025-10-15 (follow-up open, observed class A), Nur 2026-01-20 (none),
            Iman 2025-11-20 (follow-up done)
    """
    hygiene, nutrition, _water = published_edition()
    helpers.manual("civic-education")
    nur = factories.madrasa("Nur", region_code="osh-region")
    iman = factories.madrasa("Iman", region_code="chuy")
    people = {
        name: factories.user(name=name, sex=sex)
        for name, sex in (
            ("Aida", "female"),
            ("Bermet", "female"),
            ("Chyngyz", "male"),
            ("Elmira", "female"),
            ("Farid", "male"),
            ("Daniyar", "male"),
            ("Gulnara", "female"),
        )
    }
    teacher, trainer = factories.user(TEACHER), factories.user(TRAINER)
    class_a = factories.cohort(
        CLASS,
        name="Class A",
        place=nur,
        starts_on=date(2025, 9, 1),
        ends_on=date(2026, 5, 31),
        manual="health-basics",
    )
    class_b = factories.cohort(
        CLASS,
        name="Class B",
        place=iman,
        starts_on=date(2025, 9, 1),
        ends_on=date(2026, 5, 31),
        manual="civic-education",
    )
    tot = factories.cohort(
        TOT,
        name="Osh ToT",
        starts_on=date(2025, 10, 20),
        ends_on=date(2025, 10, 22),
        manual="health-basics",
    )
    factories.member(class_a, teacher, TEACHER)
    factories.member(class_b, teacher, TEACHER)
    factories.member(tot, trainer, TRAINER)
    for name in ("Aida", "Bermet", "Chyngyz"):
        factories.member(class_a, people[name], STUDENT)
    for name in ("Elmira", "Farid"):
        factories.member(class_b, people[name], STUDENT)
    for name in ("Daniyar", "Gulnara"):
        factories.member(tot, people[name], PARTICIPANT)

    def lesson(group, day, marks, leader, version=None, title="", minutes=45):
        planned = sessions.plan_session(
            group,
            held_on=day,
            module_version_id=version.id if version else None,
            title=title,
            duration_minutes=minutes,
            actor_id=leader.id,
        )
        if marks is not None:
            sessions.record_session(
                planned,
                actor=leader,
                attendance={people[name].id: status for name, status in marks.items()},
            )

    a_marks = {"Aida": "present", "Bermet": "present", "Chyngyz": "absent"}
    lesson(class_a, date(2025, 10, 6), a_marks, teacher, hygiene)
    a_marks = {"Aida": "present", "Bermet": "excused", "Chyngyz": "present"}
    lesson(class_a, date(2026, 2, 2), a_marks, teacher, nutrition, minutes=60)
    lesson(class_a, date(2026, 3, 2), None, teacher, hygiene)
    b_marks = {"Elmira": "present", "Farid": "present"}
    lesson(class_b, date(2025, 11, 10), b_marks, teacher, title="Rights")
    t_marks = {"Daniyar": "present", "Gulnara": "present"}
    lesson(tot, date(2025, 10, 20), t_marks, trainer, title="Basics of training", minutes=90)

    modules = [hygiene.id, nutrition.id]
    first = practice.add_practice(
        tot,
        participant_id=people["Daniyar"].id,
        module_version_id=hygiene.id,
        taught_on=date(2025, 10, 21),
        module_ids=modules,
        actor_id=trainer.id,
    )
    practice.submit_score(first, trainer, _scores(4, 3))
    practice.submit_score(first, people["Gulnara"], _scores(5, 5))
    second = practice.add_practice(
        tot,
        participant_id=people["Gulnara"].id,
        module_version_id=nutrition.id,
        taught_on=date(2026, 1, 15),
        module_ids=modules,
        actor_id=trainer.id,
    )
    practice.submit_score(second, trainer, _scores(2, 4))

    officer = factories.user("monitor", name="Officer")
    db.session.flush()
    visits = {}
    for key, place, day, follow_ups, cohort in (
        ("nur-open", nur, date(2025, 10, 15), "Seat the girls in front.", class_a),
        ("nur-none", nur, date(2026, 1, 20), "", None),
        ("iman-done", iman, date(2025, 11, 20), "Order more manuals.", None),
    ):
        visits[key], _ = monitoring.record_visit(
            officer,
            place,
            monitoring.VisitFields(
                visited_on=day,
                cohort_id=cohort.id if cohort else None,
                findings="Seen.",
                follow_ups=follow_ups,
            ),
            language="en",
        )
    db.session.flush()
    monitoring.set_follow_ups_done(visits["iman-done"], True, actor=officer)
    admin = factories.user("admin")
    db.session.commit()
    return {
        "people": people,
        "admin": admin,
        "nur": nur,
        "iman": iman,
        "class_a": class_a,
        "tot": tot,
        "osh": factories.region("osh-region"),
    }


# --- sessions and attendance -----------------------------------------------------------------


def test_sessions_and_attendance_counted_by_hand(world):
    found = tables(SESSIONS_ID, world["admin"])
    osh = row(found["by_region"], "Osh Region")
    assert (osh["sessions"], osh["hours"]) == (3, 3.25)
    assert sexes(osh, "att_") == (4, 2, 6)  # Aida ×2, Bermet, Gulnara; Chyngyz, Daniyar
    assert sexes(osh, "ppl_") == (3, 2, 5)
    chuy = row(found["by_region"], "Chuy Region")
    assert (chuy["sessions"], chuy["hours"], sexes(chuy, "att_")) == (1, 0.75, (1, 1, 2))
    total = row(found["by_region"], "Total")
    assert (total["sessions"], total["hours"]) == (4, 4.0)
    assert sexes(total, "att_") == (5, 3, 8) and sexes(total, "ppl_") == (4, 3, 7)
    classes = row(found["by_kind"], "Madrasa classes")
    assert (classes["sessions"], sexes(classes, "att_"), sexes(classes, "ppl_")) == (
        3,
        (4, 2, 6),
        (3, 2, 5),
    )
    assert sexes(row(found["by_kind"], "ToT cohorts"), "att_") == (1, 1, 2)
    health = row(found["by_manual"], "Health Basics")
    assert (health["sessions"], sexes(health, "ppl_")) == (3, (3, 2, 5))


def _python_attendance(args: dict[str, Any]) -> tuple[int, int, int]:
    """Present marks at held sessions matching ``args``, in plain Python over the records."""
    marks = 0
    learners = set()
    sessions_held = 0
    for session in db.session.scalars(select(TeachingSession)):
        cohort = session.cohort
        region = cohort.region_id or cohort.madrasa.region_id
        if session.status != HELD:
            continue
        if "year" in args and session.held_on.year != args["year"]:
            continue
        if "region" in args and region != args["region"]:
            continue
        if "madrasa" in args and cohort.madrasa_id != args["madrasa"]:
            continue
        if "manual" in args and cohort.manual != args["manual"]:
            continue
        if "cohort" in args and cohort.id != args["cohort"]:
            continue
        sessions_held += 1
        for mark in db.session.scalars(
            select(Attendance).where(Attendance.session_id == session.id)
        ):
            if mark.status == PRESENT:
                marks += 1
                learners.add(mark.user_id)
    return sessions_held, marks, len(learners)


@pytest.mark.parametrize(
    "args",
    [
        {"year": 2025},
        {"year": 2026},
        {"region": "osh"},
        {"madrasa": "nur"},
        {"manual": "civic-education"},
        {"cohort": "tot"},
    ],
    ids=lambda a: ",".join(a),
)
def test_each_filter_changes_sessions_as_the_records_say(world, args):
    places = ("region", "madrasa", "cohort")
    resolved = {k: world[v].id if k in places else v for k, v in args.items()}
    total = row(tables(SESSIONS_ID, world["admin"], **resolved)["by_region"], "Total")
    assert (total["sessions"], total["att_total"], total["ppl_total"]) == _python_attendance(
        resolved
    )


def test_drilling_into_attendance_lists_the_marks_and_learners(world):
    osh = world["osh"].id
    marks = drill(SESSIONS_ID, "by_region", f"region:{osh},sex:female,what:attendances")
    assert marks.total == 4
    assert sorted(cells(marks, 1)) == ["Aida", "Aida", "Bermet", "Gulnara"]
    learners = drill(SESSIONS_ID, "by_region", f"region:{osh},what:learners")
    assert cells(learners, 0) == ["Aida", "Bermet", "Chyngyz", "Daniyar", "Gulnara"]
    held = drill(SESSIONS_ID, "by_kind", "kind:class,what:sessions", year=2025)
    assert cells(held, 2) == ["Rights", "Hand hygiene"]


# --- practice lessons ------------------------------------------------------------------------


def test_practice_lesson_averages_counted_by_hand(world):
    found = tables(PRACTICE_ID, world["admin"])
    osh_tot = row(found["by_cohort"], "Osh ToT")
    assert (osh_tot["lessons"], osh_tot["scored"]) == (2, 2)
    assert osh_tot["overall"] == pytest.approx((4.25 + 3.0) / 2, abs=0.005)
    assert osh_tot["content"] == pytest.approx((4.5 + 2.0) / 2)
    assert osh_tot["methodology"] == pytest.approx(4.0)
    male = row(found["by_sex"], "Male")
    assert (male["lessons"], male["overall"], male["content"]) == (1, 4.25, 4.5)
    female = row(found["by_sex"], "Female")
    assert (female["overall"], female["methodology"]) == (3.0, 4.0)
    in_2025 = row(tables(PRACTICE_ID, world["admin"], year=2025)["by_region"], "Osh Region")
    assert (in_2025["lessons"], in_2025["overall"]) == (1, 4.25)
    scored = drill(PRACTICE_ID, "by_cohort", f"cohort:{world['tot'].id},scored:1")
    assert cells(scored, 1) == ["Gulnara", "Daniyar"] and cells(scored, 4) == [3.0, 4.25]


# --- monitoring visits -----------------------------------------------------------------------


def test_visits_and_open_follow_ups_counted_by_hand(world):
    found = tables(VISITS_ID, world["admin"])
    assert row(found["by_region"], "Osh Region") == {
        "visits": 2,
        "madrasas": 1,
        "follow_ups": 1,
        "open": 1,
    }
    assert row(found["by_region"], "Chuy Region") == {
        "visits": 1,
        "madrasas": 1,
        "follow_ups": 1,
        "open": 0,
    }
    assert row(found["by_madrasa"], "Total")["madrasas"] == 2
    in_2026 = tables(VISITS_ID, world["admin"], year=2026)
    assert row(in_2026["by_region"], "Total")["visits"] == 1
    observed = tables(VISITS_ID, world["admin"], manual="health-basics")
    assert row(observed["by_region"], "Total") == {
        "visits": 1,
        "madrasas": 1,
        "follow_ups": 1,
        "open": 1,
    }
    still_open = drill(VISITS_ID, "by_region", "open:1")
    assert still_open.total == 1 and cells(still_open, 1) == ["Nur"]


def test_an_osh_officer_sees_no_chuy_lessons_or_visits(world):
    officer = factories.user("monitor", scope=world["osh"])
    db.session.commit()
    for indicator in (SESSIONS_ID, VISITS_ID):
        found = tables(indicator, officer)
        labels = [r.label for table in found.values() for r in table.rows]
        assert not [label for label in labels if "Chuy" in label or "Iman" in label]
    total = row(tables(SESSIONS_ID, officer)["by_region"], "Total")
    assert sexes(total, "att_") == (4, 2, 6)
    everyone = drill(SESSIONS_ID, "by_region", "what:learners", officer)
    assert "Elmira" not in cells(everyone, 0) and "Farid" not in cells(everyone, 0)
