"""Recording lessons: attendance, the progress ledger, corrections within a window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lessons import sessions
from lessons.models import HELD
from lms.accounts.roles import STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS
from lms.errors import Invalid, NotAllowed
from lms.extensions import db
from lms.progress import api as progress
from lms.timeutil import utcnow
from tests import factories


def _class(n: int = 3):
    klass = factories.cohort(CLASS)
    teacher = factories.user("teacher")
    factories.member(klass, teacher, TEACHER)
    students = [factories.user() for _ in range(n)]
    for student in students:
        factories.member(klass, student, STUDENT)
    return klass, teacher, students


def test_recording_a_lesson_writes_attendance_and_the_ledger(app):
    klass, teacher, (a, b, c) = _class()
    lesson = sessions.plan_session(
        klass,
        held_on=date(2026, 10, 5),
        module_version_id=None,
        title="Hygiene",
        duration_minutes=45,
        actor_id=teacher.id,
    )
    sessions.record_session(
        lesson, actor=teacher, attendance={a.id: "present", b.id: "absent", c.id: "excused"}
    )
    db.session.commit()
    assert lesson.status == HELD and lesson.taught_by_id == teacher.id
    latest = progress.latest_for_cohort(klass.id)
    outcomes = {
        uid: latest[(uid, "lessons.session", str(lesson.id))].outcome for uid in (a.id, b.id, c.id)
    }
    assert outcomes == {a.id: "attended", b.id: "absent", c.id: "excused"}
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "session.record"))


def test_every_learner_must_be_marked(app):
    klass, teacher, (a, b, _c) = _class()
    lesson = sessions.plan_session(
        klass, held_on=date(2026, 10, 5), module_version_id=None, title="Hygiene", actor_id=None
    )
    with pytest.raises(Invalid):
        sessions.record_session(
            lesson, actor=teacher, attendance={a.id: "present", b.id: "present"}
        )


def test_a_correction_appends_to_the_ledger_and_is_audited(app):
    klass, teacher, (a, b, c) = _class()
    lesson = sessions.plan_session(
        klass, held_on=date(2026, 10, 5), module_version_id=None, title="Hygiene", actor_id=None
    )
    marks = {a.id: "present", b.id: "absent", c.id: "present"}
    sessions.record_session(lesson, actor=teacher, attendance=marks)
    sessions.record_session(lesson, actor=teacher, attendance={**marks, b.id: "present"})
    db.session.commit()
    records = progress.records_for_learner(b.id, klass.id)
    assert [r.outcome for r in records] == ["attended", "absent"]  # newest first, nothing edited
    assert db.session.scalar(
        select(AuditEntry.action).where(AuditEntry.action == "session.correct")
    )


def test_corrections_close_after_the_window_except_for_admins(app):
    klass, teacher, (a, b, c) = _class()
    lesson = sessions.plan_session(
        klass, held_on=date(2026, 10, 5), module_version_id=None, title="Hygiene", actor_id=None
    )
    marks = {a.id: "present", b.id: "present", c.id: "present"}
    sessions.record_session(lesson, actor=teacher, attendance=marks)
    lesson.recorded_at = utcnow() - timedelta(days=30)
    with pytest.raises(NotAllowed):
        sessions.record_session(lesson, actor=teacher, attendance={**marks, a.id: "absent"})
    admin = factories.user("admin")
    sessions.record_session(lesson, actor=admin, attendance={**marks, a.id: "absent"})
