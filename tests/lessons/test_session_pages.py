"""The schedule, the attendance page and the session page, as teachers and students use them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from curriculum import editions, review
from lessons import sessions
from lessons.models import CANCELLED, HELD, PLANNED, Attendance, TeachingSession
from lms.accounts.roles import STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories
from tests.curriculum import helpers

CLASS_SIZE = 25


def published_module() -> int:
    """A published English edition of Health Basics with one module; its version id."""
    reviewers = helpers.panel()
    version = helpers.submitted()
    for reviewer in reviewers:
        review.decide(version, reviewer, "approve")
    editions.publish(helpers.manual(), "en", actor_id=None)
    db.session.flush()
    return version.id


def make_class(n: int = CLASS_SIZE) -> tuple[Any, Any, list[Any]]:
    """A class studying Health Basics; its teacher holds no role beyond this class."""
    klass = factories.cohort(CLASS, manual="health-basics")
    teacher = factories.user()
    factories.member(klass, teacher, TEACHER)
    students = [factories.user(name=f"Student {i:02d}") for i in range(n)]
    for student in students:
        factories.member(klass, student, STUDENT)
    return klass, teacher, students


def marks_form(students: list[Any], absent: tuple[Any, ...] = (), **fields: Any) -> dict[str, Any]:
    data = {f"mark_{s.id}": "absent" if s in absent else "present" for s in students}
    return {"held_on": "2026-10-05", "duration_minutes": "45", "notes": "", **data, **fields}


def planned(klass: Any, title: str = "Hygiene", on: date = date(2026, 10, 5)) -> TeachingSession:
    return sessions.plan_session(
        klass, held_on=on, module_version_id=None, title=title, actor_id=None
    )


def test_a_teacher_records_three_lessons_and_the_schedule_shows_them(app, client):
    version_id = published_module()
    klass, teacher, students = make_class()
    db.session.commit()
    factories.login(client, teacher)

    page = client.get(f"/lessons/cohorts/{klass.id}/sessions")
    assert page.status_code == 200
    assert f'<option value="{version_id}">1. Hand hygiene</option>' in page.get_data(as_text=True)

    for n in range(3):
        response = client.post(
            f"/lessons/cohorts/{klass.id}/sessions/now", data={"now-module_version_id": version_id}
        )
        assert response.status_code == 302
        record_url = response.headers["Location"]
        assert re.search(r"/lessons/sessions/\d+/record$", record_url)
        assert client.get(record_url).status_code == 200
        saved = client.post(
            record_url,
            data=marks_form(students, absent=tuple(students[:n]), held_on=f"2026-10-0{5 + n}"),
        )
        assert saved.status_code == 302 and "/record" not in saved.headers["Location"]

    client.post(
        f"/lessons/cohorts/{klass.id}/sessions",
        data={"plan-held_on": "2026-10-20", "plan-title": "Revision", "plan-duration_minutes": ""},
    )
    text = client.get(f"/lessons/cohorts/{klass.id}/sessions").get_data(as_text=True)
    assert text.count(">Hand hygiene</a>") == 3
    # A module's title carries the language of the edition it was taught from; a typed
    # title does not (it is in whatever language the teacher typed).
    assert text.count(' lang="en">Hand hygiene</a>') == 3
    assert re.search(r'<a href="/lessons/sessions/\d+">Revision</a>', text)
    summaries = re.findall(r"(\d+) of 25 present", text)
    assert summaries == ["25", "24", "23"]  # in date order
    assert "Revision" in text and "planned" in text

    held = db.session.scalars(select(TeachingSession).where(TeachingSession.status == HELD)).all()
    assert len(held) == 3 and {s.module_version_id for s in held} == {version_id}
    assert all(s.duration_minutes == 45 and s.taught_by_id == teacher.id for s in held)
    revision = db.session.scalar(select(TeachingSession).where(TeachingSession.title == "Revision"))
    assert revision.status == PLANNED and revision.duration_minutes == 45
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "session.record")
        )
        == 3
    )


def test_the_attendance_page_has_a_fieldset_per_learner_with_present_preselected(app, client):
    klass, teacher, _students = make_class()
    lesson = planned(klass)
    db.session.commit()
    factories.login(client, teacher)
    text = client.get(f"/lessons/sessions/{lesson.id}/record").get_data(as_text=True)
    assert text.count('<fieldset class="mark"') == CLASS_SIZE
    assert text.count("<legend>Student ") == CLASS_SIZE
    radios = re.findall(r"<input[^>]*type=\"radio\"[^>]*>", text)
    assert len(radios) == 3 * CLASS_SIZE
    checked = [r for r in radios if "checked" in r]
    assert len(checked) == CLASS_SIZE and all('value="present"' in r for r in checked)


def test_missing_marks_are_shown_in_place_and_nothing_is_saved(app, client):
    klass, teacher, students = make_class()
    lesson = planned(klass)
    db.session.commit()
    factories.login(client, teacher)
    data = marks_form(students)
    del data[f"mark_{students[3].id}"], data[f"mark_{students[7].id}"]
    response = client.post(f"/lessons/sessions/{lesson.id}/record", data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "2 learners are not marked." in text
    assert f'aria-describedby="mark_{students[3].id}-errors"' in text
    assert text.count("Mark present, absent or excused.") == 2
    db.session.expire_all()
    assert db.session.get(TeachingSession, lesson.id).status == PLANNED
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_a_teacher_of_another_class_is_refused(app, client):
    klass, _teacher, students = make_class(3)
    lesson = planned(klass)
    other_class, other_teacher, _ = make_class(2)
    db.session.commit()
    factories.login(client, other_teacher)
    assert client.get(f"/lessons/cohorts/{klass.id}/sessions").status_code == 403
    assert client.get(f"/lessons/sessions/{lesson.id}").status_code == 403
    assert client.get(f"/lessons/sessions/{lesson.id}/record").status_code == 403
    assert (
        client.post(f"/lessons/sessions/{lesson.id}/record", data=marks_form(students)).status_code
        == 403
    )
    assert client.post(f"/lessons/cohorts/{klass.id}/sessions/now", data={}).status_code == 403
    assert client.post(f"/lessons/sessions/{lesson.id}/cancel").status_code == 403
    assert client.get(f"/lessons/cohorts/{other_class.id}/sessions").status_code == 200
    db.session.expire_all()
    assert db.session.get(TeachingSession, lesson.id).status == PLANNED


def test_a_student_sees_the_schedule_and_only_their_own_mark(app, client):
    klass, teacher, students = make_class(3)
    me, classmate, _ = students
    lesson = planned(klass)
    sessions.record_session(
        lesson,
        actor=teacher,
        attendance={me.id: "absent", classmate.id: "present", students[2].id: "excused"},
        notes="Talked to the parents of the absent.",
    )
    db.session.commit()
    factories.login(client, me)

    schedule = client.get(f"/lessons/cohorts/{klass.id}/sessions").get_data(as_text=True)
    assert "Hygiene" in schedule and "Plan a session" not in schedule
    assert "Record a lesson now" not in schedule
    text = client.get(f"/lessons/sessions/{lesson.id}").get_data(as_text=True)
    assert "Your attendance:" in text and "Absent" in text
    assert classmate.name not in text and "Talked to the parents" not in text
    assert client.get(f"/lessons/sessions/{lesson.id}/record").status_code == 403

    other = client.application.test_client()
    factories.login(other, teacher)
    text = other.get(f"/lessons/sessions/{lesson.id}").get_data(as_text=True)
    assert me.name in text and classmate.name in text and "Talked to the parents" in text
    assert "1 of 3 present" in text


def test_a_correction_is_allowed_in_the_window_and_refused_after_it(app, client):
    klass, teacher, students = make_class(3)
    lesson = planned(klass)
    sessions.record_session(lesson, actor=teacher, attendance={s.id: "present" for s in students})
    db.session.commit()
    factories.login(client, teacher)

    page = client.get(f"/lessons/sessions/{lesson.id}/record").get_data(as_text=True)
    assert "Correct a lesson" in page and "Save corrections" in page
    response = client.post(
        f"/lessons/sessions/{lesson.id}/record", data=marks_form(students, absent=(students[0],))
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "session.correct")
        )
        == 1
    )

    db.session.expire_all()
    db.session.get(TeachingSession, lesson.id).recorded_at = utcnow() - timedelta(days=30)
    db.session.commit()
    page = client.get(f"/lessons/sessions/{lesson.id}/record")
    assert page.status_code == 200
    assert "This lesson is closed" in page.get_data(as_text=True)
    assert '<fieldset class="mark"' not in page.get_data(as_text=True)
    refused = client.post(f"/lessons/sessions/{lesson.id}/record", data=marks_form(students))
    assert refused.status_code == 403
    db.session.expire_all()
    marks = dict(db.session.execute(select(Attendance.user_id, Attendance.status)).all())
    assert marks[students[0].id] == "absent"


def test_planning_errors_and_cancelling(app, client):
    klass, teacher, students = make_class(2)
    lesson = planned(klass)
    held = planned(klass, "Held one", date(2026, 10, 6))
    sessions.record_session(held, actor=teacher, attendance={s.id: "present" for s in students})
    db.session.commit()
    factories.login(client, teacher)

    response = client.post(
        f"/lessons/cohorts/{klass.id}/sessions",
        data={"plan-held_on": "2026-10-20", "plan-title": "", "plan-duration_minutes": "45"},
    )
    assert response.status_code == 400
    assert "Choose a module or give the session a title." in response.get_data(as_text=True)

    assert client.post(f"/lessons/sessions/{lesson.id}/cancel").status_code == 302
    assert client.post(f"/lessons/sessions/{held.id}/cancel").status_code == 409
    db.session.expire_all()
    assert db.session.get(TeachingSession, lesson.id).status == CANCELLED
    assert db.session.get(TeachingSession, held.id).status == HELD
    page = client.get(f"/lessons/sessions/{lesson.id}/record")
    assert "This session was cancelled" in page.get_data(as_text=True)
    assert (
        client.post(f"/lessons/sessions/{lesson.id}/record", data=marks_form(students)).status_code
        == 409
    )


def test_record_now_offers_the_next_module_whichever_language_the_last_was_taught_in(app, client):
    from curriculum import versions

    reviewers = {language: helpers.panel(language=language) for language in ("en", "ky")}

    def approved(slug: str, position: int, language: str, title: str) -> int:
        module = versions.get_or_create_module(helpers.manual(), slug, position)
        document = helpers.document(
            language, helpers.BLOCKS, slug=slug, position=position, title=title
        )
        version = versions.create_draft(module, document, author_id=None)
        versions.submit(version, actor_id=None)
        for reviewer in reviewers[language]:
            review.decide(version, reviewer, "approve")
        return version.id

    approved("hand-hygiene", 1, "en", "Hand hygiene")
    nutrition = approved("nutrition", 2, "en", "Nutrition")
    kyrgyz_hygiene = approved("hand-hygiene", 1, "ky", "Колдун тазалыгы")
    editions.publish(helpers.manual(), "en", actor_id=None)
    editions.publish(helpers.manual(), "ky", actor_id=None)
    klass, teacher, students = make_class(2)
    lesson = sessions.plan_session(
        klass, held_on=date(2026, 10, 5), module_version_id=kyrgyz_hygiene, title="", actor_id=None
    )
    sessions.record_session(lesson, actor=teacher, attendance={s.id: "present" for s in students})
    db.session.commit()
    factories.login(client, teacher)  # reads English: the form lists the English edition

    page = client.get(f"/lessons/cohorts/{klass.id}/sessions").get_data(as_text=True)
    assert f'<option selected value="{nutrition}">2. Nutrition</option>' in page
    assert ' lang="ky">Колдун тазалыгы</a>' in page
