"""The kept students-reached figures give the report exactly the figures the memberships
give, and stay so as classes, memberships, madrasas and people change
(``lms.cohorts.totals``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text

from lms.accounts.models import User
from lms.accounts.roles import STUDENT
from lms.cohorts.models import CLASS, ClassStudentOverlap, Membership
from lms.extensions import db
from lms.reports import host
from lms.reports.host import STUDENTS_ID
from tests import factories
from tests.reports import build_world, row, sexes, tables

PERIODS = ({"year": 2024}, {"year": 2025}, {"year": 2026}, {})


@pytest.fixture
def world(app) -> dict[str, Any]:
    return build_world()


def _from_memberships(monkeypatch: pytest.MonkeyPatch, user: Any, **args: Any) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(host, "_students_from_kept", lambda _filters: None)
        return tables(STUDENTS_ID, user, **args)


def _agree(monkeypatch: pytest.MonkeyPatch, user: Any, **args: Any) -> Any:
    kept = tables(STUDENTS_ID, user, **args)
    assert kept == _from_memberships(monkeypatch, user, **args), args
    return kept


def _check_all(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    admin, places = world["admin"], world["places"]
    officer = db.session.scalar(select(User).where(User.username == "osh-officer"))
    if officer is None:
        officer = factories.user("monitor", username="osh-officer", scope=world["osh"])
        db.session.commit()
    for period in PERIODS:
        _agree(monkeypatch, admin, **period)
        _agree(monkeypatch, admin, region=world["osh"].id, **period)
        _agree(monkeypatch, admin, madrasa=places["Nur"].id, **period)
        _agree(monkeypatch, admin, manual="health-basics", **period)
        _agree(monkeypatch, officer, **period)


def _reads_kept(world: dict[str, Any], **args: Any) -> bool:
    from tests.reports import filters_for

    return host._students_from_kept(filters_for(world["admin"], **args)) is not None


def test_the_kept_figures_give_the_figures_of_the_memberships(world, monkeypatch):
    _check_all(world, monkeypatch)
    assert all(_reads_kept(world, **period) for period in PERIODS)
    # Kanykei is in Nur and Ilim in 2025: the kept rows count her twice, the overlap once.
    found = tables(STUDENTS_ID, world["admin"], year=2025)
    assert sexes(row(found["by_region"], "Osh Region")) == (2, 2, 4)
    assert sexes(row(found["by_region"], "Total")) == (3, 3, 6)
    assert db.session.scalar(
        select(ClassStudentOverlap.students).where(
            ClassStudentOverlap.year == 2025,
            ClassStudentOverlap.manual == "*",
            ClassStudentOverlap.madrasa_id == world["places"]["Nur"].id,
        )
    )


def test_the_figures_follow_members_joining_and_leaving(world, monkeypatch):
    people, cohorts = world["people"], world["cohorts"]
    # Olga also joins a class in Osh: a student in two regions.
    factories.member(cohorts["Nur class"], people["Olga"], STUDENT)
    db.session.commit()
    _check_all(world, monkeypatch)
    found = tables(STUDENTS_ID, world["admin"], year=2026)
    assert sexes(row(found["by_region"], "Total")) == (3, 2, 5)
    # Kanykei leaves Nur: no longer in two madrasas.
    leaving = db.session.scalar(
        select(Membership).where(
            Membership.cohort_id == cohorts["Nur class"].id,
            Membership.user_id == people["Kanykei"].id,
        )
    )
    db.session.delete(leaving)
    db.session.commit()
    _check_all(world, monkeypatch)
    # A teacher becomes a student, and a student's membership becomes a teacher's.
    teacher = db.session.scalar(
        select(Membership).where(
            Membership.cohort_id == cohorts["Iman class"].id, Membership.role != STUDENT
        )
    )
    teacher.role = STUDENT
    db.session.commit()
    _check_all(world, monkeypatch)


def test_the_figures_follow_classes_moved_redated_and_renamed(world, monkeypatch):
    cohorts, places = world["cohorts"], world["places"]
    ilim = cohorts["Ilim class"]
    ilim.ends_on = date(2026, 12, 31)  # now runs into 2026 too
    db.session.commit()
    _check_all(world, monkeypatch)
    ilim.madrasa = places["Iman"]  # moved to another madrasa, in another region
    db.session.commit()
    _check_all(world, monkeypatch)
    cohorts["Nur class"].manual = "health-basics"
    db.session.commit()
    _check_all(world, monkeypatch)
    cohorts["Nur class"].region = world["chuy"]  # a class given a region of its own
    db.session.commit()
    _check_all(world, monkeypatch)
    db.session.delete(cohorts["Iman class"])
    db.session.commit()
    _check_all(world, monkeypatch)


def test_the_figures_follow_a_madrasa_moved_and_a_change_of_sex(world, monkeypatch):
    world["places"]["Ilim"].region = world["chuy"]
    db.session.commit()
    _check_all(world, monkeypatch)
    world["people"]["Kanykei"].sex = "male"
    db.session.commit()
    _check_all(world, monkeypatch)
    found = tables(STUDENTS_ID, world["admin"])
    assert sexes(row(found["by_region"], "Total")) == (2, 4, 6)  # Kanykei now male


def test_a_class_without_a_start_date_is_counted_from_the_memberships(world, monkeypatch):
    """Such a class runs in every year before its end, which no year's row holds."""
    undated = factories.cohort(
        CLASS, name="Open class", place=world["places"]["Iman"], starts_on=None, ends_on=None
    )
    factories.member(undated, world["people"]["Marat"], STUDENT)
    db.session.commit()
    assert not _reads_kept(world, year=2024)
    assert _reads_kept(world)  # all time: the rows of all time hold it
    _check_all(world, monkeypatch)


def test_rebuild_totals_after_writes_made_around_the_application(app, world, monkeypatch):
    extra = factories.user(name="Zarina", sex="female")
    db.session.commit()
    db.session.execute(
        text(
            "INSERT INTO lms_membership (cohort_id, user_id, role, joined_at)"
            " VALUES (:cohort, :user, 'student', CURRENT_TIMESTAMP)"
        ),
        {"cohort": world["cohorts"]["Iman class"].id, "user": extra.id},
    )
    db.session.commit()
    kept = tables(STUDENTS_ID, world["admin"], year=2026)
    assert kept != _from_memberships(monkeypatch, world["admin"], year=2026)  # not seen
    result = app.test_cli_runner().invoke(args=["cohorts", "rebuild-totals"])
    assert result.exit_code == 0, result.output
    assert "Students-reached figures made again for 3 madrasas." in result.output
    db.session.expire_all()
    _check_all(world, monkeypatch)


def test_the_migration_makes_the_figures_of_memberships_recorded_before_it(app, world):
    """An installation upgraded to 0012 gets the figures the listener would have kept."""
    from flask_migrate import downgrade, upgrade

    tables_kept = ("lms_class_students", "lms_class_student_mover", "lms_class_student_overlap")

    def snapshot() -> list[list[Any]]:
        return [
            list(db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4, 5, 6")))
            for table in tables_kept
        ]

    kept = snapshot()
    assert kept[0] and kept[1] and kept[2]
    db.session.remove()
    try:
        downgrade(revision="0011")
    finally:
        upgrade()
    assert snapshot() == kept
