"""The kept attendance totals give the report exactly the figures the marks give, and stay
so as marks, sessions and people change (``lessons.totals``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text

from lessons import sessions
from lessons.indicators import SESSIONS_ID
from lessons.models import TeachingSession
from lms.accounts.roles import STUDENT
from lms.extensions import db
from lms.reports.indicators import ReportFilters
from tests import factories
from tests.lessons.test_indicators import _python_attendance, world  # noqa: F401  (fixture)
from tests.reports import tables

PERIODS = (
    {"year": 2025},
    {"year": 2026},
    {},  # all time: the kept all-time rows
    {"start": "2025-01-01", "end": "2026-12-31"},  # two whole years
    {"start": "2026-01-01"},  # from a year on
)


def _from_marks(monkeypatch: pytest.MonkeyPatch, user: Any, **args: Any) -> dict[str, Any]:
    """The tables computed from the marks themselves, whatever the period."""
    with monkeypatch.context() as patch:
        patch.setattr(ReportFilters, "whole_years", lambda _filters: None)
        return tables(SESSIONS_ID, user, **args)


def _agree(monkeypatch: pytest.MonkeyPatch, user: Any, **args: Any) -> dict[str, Any]:
    kept = tables(SESSIONS_ID, user, **args)
    assert kept == _from_marks(monkeypatch, user, **args), args
    return kept


@pytest.mark.parametrize(
    "period", PERIODS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items())
)
def test_the_kept_totals_give_the_figures_of_the_marks(world, monkeypatch, period):  # noqa: F811
    _agree(monkeypatch, world["admin"], **period)
    _agree(monkeypatch, world["admin"], region=world["osh"].id, **period)
    _agree(monkeypatch, world["admin"], manual="health-basics", **period)


def _class_a_lessons(world: dict[str, Any]) -> list[TeachingSession]:  # noqa: F811
    return list(
        db.session.scalars(
            select(TeachingSession)
            .where(TeachingSession.cohort_id == world["class_a"].id)
            .order_by(TeachingSession.held_on)
        )
    )


def _check_all(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    for period in PERIODS:
        _agree(monkeypatch, world["admin"], **period)
    for year in (2025, 2026):
        total = _agree(monkeypatch, world["admin"], year=year)["by_region"].rows[-1].values
        assert (total["sessions"], total["att_total"], total["ppl_total"]) == _python_attendance(
            {"year": year}
        )


def test_the_totals_follow_corrected_marks_moved_and_deleted_sessions(world, monkeypatch):  # noqa: F811
    people = world["people"]
    october, february, _planned = _class_a_lessons(world)
    teacher = db.session.get(type(people["Aida"]), october.recorded_by_id)
    # A correction: Aida was absent after all, Chyngyz present.
    sessions.record_session(
        october,
        actor=teacher,
        attendance={
            people["Aida"].id: "absent",
            people["Bermet"].id: "present",
            people["Chyngyz"].id: "present",
        },
    )
    db.session.commit()
    _check_all(world, monkeypatch)
    # The February lesson was really held in December 2025: it moves to the other year.
    sessions.record_session(
        february,
        actor=teacher,
        held_on=date(2025, 12, 15),
        attendance={a.user_id: a.status for a in february.attendance},
    )
    db.session.commit()
    assert (
        tables(SESSIONS_ID, world["admin"], year=2026)["by_region"].rows[-1].values["att_total"]
        == 0
    )
    _check_all(world, monkeypatch)
    # A lesson recorded by mistake is deleted, marks and all.
    db.session.delete(october)
    db.session.commit()
    _check_all(world, monkeypatch)


def test_a_learner_in_two_cohorts_in_one_year_counts_once(world, monkeypatch):  # noqa: F811
    """Aida also joins Class B and attends its lesson: the totals count her in both
    cohorts; the report counts her once per region, kind and in the total."""
    people, aida = world["people"], world["people"]["Aida"]
    class_b_lesson = db.session.scalar(
        select(TeachingSession).where(TeachingSession.title == "Rights")
    )
    factories.member(class_b_lesson.cohort, aida, STUDENT)
    teacher = db.session.get(type(aida), class_b_lesson.recorded_by_id)
    sessions.record_session(
        class_b_lesson,
        actor=teacher,
        attendance={
            people["Elmira"].id: "present",
            people["Farid"].id: "present",
            aida.id: "present",
        },
    )
    db.session.commit()
    kept = _agree(monkeypatch, world["admin"], year=2025)
    total = kept["by_region"].rows[-1].values
    assert total["ppl_female"] == 4  # Aida, Bermet, Elmira, Gulnara: Aida once
    _check_all(world, monkeypatch)


def test_the_totals_follow_a_change_of_sex(world, monkeypatch):  # noqa: F811
    chyngyz = world["people"]["Chyngyz"]
    chyngyz.sex = "female"  # corrected in the person's record
    db.session.commit()
    _check_all(world, monkeypatch)


def test_rebuild_totals_after_writes_made_around_the_application(app, world, monkeypatch):  # noqa: F811
    _planned = _class_a_lessons(world)[2]
    db.session.execute(
        text("UPDATE lessons_session SET status = 'held' WHERE id = :id"), {"id": _planned.id}
    )
    db.session.execute(
        text(
            "INSERT INTO lessons_attendance (session_id, user_id, status, recorded_at)"
            " VALUES (:session, :user, 'present', CURRENT_TIMESTAMP)"
        ),
        {"session": _planned.id, "user": world["people"]["Chyngyz"].id},
    )
    db.session.commit()
    kept = tables(SESSIONS_ID, world["admin"], year=2026)
    assert kept != _from_marks(monkeypatch, world["admin"], year=2026)  # plain SQL: not seen
    result = app.test_cli_runner().invoke(args=["lessons", "rebuild-totals"])
    assert result.exit_code == 0, result.output
    assert "Attendance totals made again for 3 cohorts." in result.output
    db.session.expire_all()
    _check_all(world, monkeypatch)


def test_the_migration_makes_the_totals_of_attendance_recorded_before_it(app, world):  # noqa: F811
    """An installation upgraded to 0011 gets the totals the listener would have kept."""
    from flask_migrate import downgrade, upgrade

    def snapshot() -> tuple[list[Any], list[Any]]:
        learners = db.session.execute(
            text(
                "SELECT cohort_id, user_id, year, marks, sex, year_rows"
                " FROM lessons_learner_year ORDER BY 1, 2, 3"
            )
        ).all()
        cohorts = db.session.execute(text("SELECT * FROM lessons_cohort_year ORDER BY 1, 2")).all()
        return learners, cohorts

    kept = snapshot()
    assert kept[0] and kept[1]
    db.session.remove()
    try:
        downgrade(revision="0010")
    finally:
        upgrade()
    assert snapshot() == kept
