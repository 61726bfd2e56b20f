"""The lessons JSON API: the schedule, a session's attendance, recording it, and progress."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from lessons import sessions
from lessons.models import HELD, PLANNED, Attendance, TeachingSession
from lms.accounts.roles import STUDENT
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories
from tests.lessons.test_session_pages import make_class, planned, published_module

API = "/api/v1/lessons"


def _marks(students, absent=()) -> dict[str, str]:
    return {str(s.id): "absent" if s in absent else "present" for s in students}


def test_visitors_get_401_json(app, client):
    klass, _teacher, _students = make_class(2)
    lesson = planned(klass)
    db.session.commit()
    for url in (
        f"{API}/cohorts/{klass.id}/sessions",
        f"{API}/sessions/{lesson.id}",
        f"{API}/sessions/{lesson.id}/attendance",
        f"{API}/cohorts/{klass.id}/progress",
    ):
        response = client.get(url)
        assert response.status_code == 401 and response.json["error"]["status"] == 401
    response = client.post(f"{API}/sessions/{lesson.id}/attendance", json={"attendance": {}})
    assert response.status_code == 401


def test_round_trip_record_read_and_progress(app, client):
    version_id = published_module()
    klass, teacher, students = make_class(5)
    lesson = sessions.plan_session(
        klass, held_on=date(2026, 10, 5), module_version_id=version_id, actor_id=None
    )
    free = planned(klass, "Revision", date(2026, 10, 12))
    db.session.commit()
    factories.login(client, teacher)

    listing = client.get(f"{API}/cohorts/{klass.id}/sessions")
    assert listing.status_code == 200 and listing.headers["X-CSRFToken"]
    assert [s["title"] for s in listing.json["sessions"]] == ["Hand hygiene", "Revision"]
    assert listing.json["sessions"][0]["module"]["version_id"] == version_id
    assert listing.json["sessions"][1]["module"] is None
    assert listing.json["sessions"][0]["status"] == PLANNED

    response = client.post(
        f"{API}/sessions/{lesson.id}/attendance",
        json={
            "attendance": _marks(students, absent=students[:2]),
            "held_on": "2026-10-06",
            "duration_minutes": 40,
            "notes": "Good questions.",
        },
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == HELD and body["held_on"] == "2026-10-06"
    assert body["duration_minutes"] == 40 and body["notes"] == "Good questions."
    assert body["summary"] == {"present": 3, "absent": 2, "excused": 0, "marked": 5}
    assert len(body["attendance"]) == 5 and body["can_record"] is True

    detail = client.get(f"{API}/sessions/{lesson.id}").json
    assert {m["user_id"]: m["status"] for m in detail["attendance"]} == {
        int(k): v for k, v in _marks(students, absent=students[:2]).items()
    }
    marks = client.get(f"{API}/sessions/{lesson.id}/attendance").json
    assert marks["session"] == lesson.id and len(marks["attendance"]) == 5

    sessions.record_session(
        db.session.get(TeachingSession, free.id),
        actor=teacher,
        attendance={s.id: "present" for s in students},
    )
    db.session.commit()
    report = client.get(f"{API}/cohorts/{klass.id}/progress")
    assert report.status_code == 200
    assert report.json["sessions_held"] == 2
    rows = {row["user_id"]: row for row in report.json["learners"]}
    assert rows[students[0].id]["sessions_held"] == 2
    assert rows[students[0].id]["attended"] == 1
    assert rows[students[0].id]["attendance_percent"] == 50.0
    assert rows[students[4].id]["attendance_percent"] == 100.0
    assert set(rows[students[4].id]["completion"]) == {"completed", "missing"}


def test_learners_see_only_their_own_mark_and_may_not_record(app, client):
    klass, teacher, students = make_class(3)
    me = students[0]
    lesson = planned(klass)
    sessions.record_session(
        lesson,
        actor=teacher,
        attendance={s.id: "absent" if s is me else "present" for s in students},
        notes="Private note",
    )
    db.session.commit()
    factories.login(client, me)

    body = client.get(f"{API}/sessions/{lesson.id}").json
    assert body["attendance"] is None and body["my_attendance"] == "absent"
    assert body["notes"] is None and body["can_record"] is False
    assert client.get(f"{API}/sessions/{lesson.id}/attendance").json["attendance"] is None
    assert client.get(f"{API}/cohorts/{klass.id}/sessions").status_code == 200
    assert client.get(f"{API}/cohorts/{klass.id}/progress").status_code == 403
    refused = client.post(
        f"{API}/sessions/{lesson.id}/attendance", json={"attendance": _marks(students)}
    )
    assert refused.status_code == 403 and refused.json["error"]["status"] == 403


def test_a_teacher_of_another_class_gets_403(app, client):
    klass, _teacher, students = make_class(2)
    lesson = planned(klass)
    _other, other_teacher, _ = make_class(1)
    db.session.commit()
    factories.login(client, other_teacher)
    for url in (
        f"{API}/cohorts/{klass.id}/sessions",
        f"{API}/sessions/{lesson.id}",
        f"{API}/cohorts/{klass.id}/progress",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        f"{API}/sessions/{lesson.id}/attendance", json={"attendance": _marks(students)}
    )
    assert response.status_code == 403
    assert client.get(f"{API}/sessions/999999").status_code == 404


def test_invalid_bodies_save_nothing_and_name_the_fields(app, client):
    klass, teacher, students = make_class(3)
    outsider = factories.user()
    factories.member(factories.cohort(), outsider, STUDENT)
    lesson = planned(klass)
    db.session.commit()
    factories.login(client, teacher)
    url = f"{API}/sessions/{lesson.id}/attendance"

    missing = client.post(url, json={"attendance": _marks(students[:2])})
    assert missing.status_code == 400
    assert "attendance" in missing.json["error"]["fields"]
    stranger = client.post(
        url, json={"attendance": {**_marks(students), str(outsider.id): "present"}}
    )
    assert stranger.status_code == 400
    wrong = client.post(
        url,
        json={"attendance": {**_marks(students), str(students[0].id): "late"}, "held_on": "5/10"},
    )
    assert wrong.status_code == 400
    assert set(wrong.json["error"]["fields"]) == {"held_on"}
    wrong = client.post(url, json={"attendance": {**_marks(students), str(students[0].id): "late"}})
    assert set(wrong.json["error"]["fields"]) == {"attendance"}
    assert client.post(url, json={"attendance": _marks(students), "duration_minutes": 0}).json[
        "error"
    ]["fields"] == {"duration_minutes": ["Give the length in minutes (1 to 600)."]}
    assert client.post(url, data="not json").status_code == 400
    db.session.expire_all()
    assert db.session.get(TeachingSession, lesson.id).status == PLANNED
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_corrections_after_the_window_are_refused(app, client):
    klass, teacher, students = make_class(2)
    lesson = planned(klass)
    sessions.record_session(lesson, actor=teacher, attendance={s.id: "present" for s in students})
    lesson.recorded_at = utcnow() - timedelta(days=30)
    db.session.commit()
    factories.login(client, teacher)
    assert client.get(f"{API}/sessions/{lesson.id}").json["can_record"] is False
    response = client.post(
        f"{API}/sessions/{lesson.id}/attendance",
        json={"attendance": _marks(students, absent=students[:1])},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert set(db.session.scalars(select(Attendance.status))) == {"present"}


def test_a_post_needs_the_csrf_header(make_app):
    app = make_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        klass, teacher, students = make_class(2)
        lesson = planned(klass)
        db.session.commit()
        lesson_id, username = lesson.id, teacher.username
        body = {"attendance": _marks(students)}
    client = app.test_client()
    login_page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    logged_in = client.post(
        "/account/login",
        data={"username": username, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert logged_in.status_code == 302

    url = f"{API}/sessions/{lesson_id}/attendance"
    refused = client.post(url, json=body)
    assert refused.status_code == 400 and refused.json["error"]["status"] == 400
    refused = client.post(url, json=body, headers={"X-CSRFToken": "forged"})
    assert refused.status_code == 400
    api_token = client.get(f"{API}/sessions/{lesson_id}").headers["X-CSRFToken"]
    accepted = client.post(url, json=body, headers={"X-CSRFToken": api_token})
    assert accepted.status_code == 200 and accepted.json["status"] == HELD


def test_the_paths_are_documented(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert f"{API}/sessions/{{session_id}}/attendance" in document["paths"]
    post = document["paths"][f"{API}/sessions/{{session_id}}/attendance"]["post"]
    assert "X-CSRFToken" in post["description"]
    assert any(p["name"] == "X-CSRFToken" and p["in"] == "header" for p in post["parameters"])
