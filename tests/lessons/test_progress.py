"""Class progress: the grid, the attendance completion rule, a learner's page, summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import event

from curriculum import editions, review, versions
from curriculum.models import ModuleVersion
from lessons import progress as lesson_progress
from lessons import sessions
from lms import hookimpl
from lms.accounts.models import User
from lms.accounts.roles import STUDENT, TEACHER
from lms.cohorts.models import CLASS, Cohort
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.plugins import ProgressItem
from lms.progress.api import evaluate_completion
from lms.progress.api import record as progress_record
from tests import factories
from tests.curriculum import helpers

MODULES = (("hand-hygiene", "Hand hygiene"), ("nutrition", "Nutrition"), ("clean-water", "Water"))
P, A, E = "present", "absent", "excused"


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _published_modules() -> dict[str, ModuleVersion]:
    """Health Basics en/1 with three approved modules; slug → version."""
    reviewers = helpers.panel()
    found: dict[str, ModuleVersion] = {}
    for position, (slug, title) in enumerate(MODULES, start=1):
        module = versions.get_or_create_module(helpers.manual(), slug, position)
        version = versions.create_draft(
            module,
            helpers.document(slug=slug, position=position, title=title),
            author_id=None,
        )
        versions.submit(version, actor_id=None)
        for reviewer in reviewers:
            review.decide(version, reviewer, "approve")
        found[slug] = version
    db.session.flush()
    editions.publish(helpers.manual(), "en", actor_id=None)
    return found


def _class(
    learners: list[tuple[str, str]], *, place: Madrasa | None = None, **fields: Any
) -> tuple[Cohort, User, list[User]]:
    fields.setdefault("completion_rule", "lessons.attendance")
    klass = factories.cohort(CLASS, manual="health-basics", place=place, **fields)
    teacher = factories.user()
    factories.member(klass, teacher, TEACHER)
    people = [factories.user(name=name, sex=sex) for name, sex in learners]
    for person in people:
        factories.member(klass, person, STUDENT)
    return klass, teacher, people


def _hold(
    klass: Cohort, teacher: User, version: ModuleVersion | None, marks: dict[int, str], day: int
) -> None:
    lesson = sessions.plan_session(
        klass,
        held_on=date(2026, 10, 1) + timedelta(days=day),
        module_version_id=version.id if version else None,
        title="" if version else "Opening",
        actor_id=teacher.id,
    )
    sessions.record_session(lesson, actor=teacher, attendance=marks)


@dataclass
class World:
    klass: Cohort
    teacher: User
    aida: User  # 5 of 5
    bakyt: User  # 4 of 5
    cholpon: User  # 3 of 5
    modules: dict[str, ModuleVersion]


def _world(**fields: Any) -> World:
    """A class of three with five lessons held: two of hygiene, two of nutrition, one
    opening session without a module; water is not taught yet."""
    modules = _published_modules()
    klass, teacher, (aida, bakyt, cholpon) = _class(
        [("Aida", "female"), ("Bakyt", "male"), ("Cholpon", "female")], **fields
    )
    a, b, c = aida.id, bakyt.id, cholpon.id
    hygiene, nutrition = modules["hand-hygiene"], modules["nutrition"]
    _hold(klass, teacher, hygiene, {a: P, b: P, c: P}, 0)
    _hold(klass, teacher, hygiene, {a: P, b: A, c: P}, 1)
    _hold(klass, teacher, nutrition, {a: P, b: P, c: E}, 2)
    _hold(klass, teacher, nutrition, {a: P, b: P, c: A}, 3)
    _hold(klass, teacher, None, {a: P, b: P, c: P}, 4)
    db.session.commit()
    return World(klass, teacher, aida, bakyt, cholpon, modules)


# --- progress items and the completion rule ------------------------------------------------


def test_every_held_session_is_a_required_item(app):
    world = _world()
    sessions.plan_session(
        world.klass, held_on=date(2026, 11, 1), module_version_id=None, title="Later", actor_id=None
    )
    items = lesson_progress.session_items(world.klass)
    assert len(items) == 5  # the planned session is not an item yet
    assert [item.label for item in items] == [
        "Hand hygiene",
        "Hand hygiene",
        "Nutrition",
        "Nutrition",
        "Opening",
    ]
    assert all(item.required and item.passing_outcomes == {"attended"} for item in items)


def test_attendance_rule_needs_eighty_percent_by_default(app):
    world = _world()
    results = evaluate_completion(world.klass)
    assert results[world.aida.id].completed
    assert results[world.bakyt.id].completed  # 4 of 5
    assert not results[world.cholpon.id].completed  # 3 of 5
    assert [str(m) for m in results[world.cholpon.id].missing] == ["attendance 60% (80% needed)"]


def test_attendance_rule_takes_its_threshold_from_the_cohort(app):
    world = _world(completion_params={"min_attendance": 60})
    assert all(result.completed for result in evaluate_completion(world.klass).values())
    world.klass.completion_params = {"min_attendance": 100}
    results = evaluate_completion(world.klass)
    assert [results[p.id].completed for p in (world.aida, world.bakyt, world.cholpon)] == [
        True,
        False,
        False,
    ]


def test_nobody_completes_before_a_lesson_is_held(app):
    _published_modules()
    klass, _teacher, people = _class([("Dana", "female")])
    db.session.commit()
    result = evaluate_completion(klass)[people[0].id]
    assert not result.completed
    assert [str(m) for m in result.missing] == ["No lesson has been held yet."]


class _Garden:
    """Another plugin declaring one required item in every cohort."""

    PLUGIN_NAME = "fake_garden_progress"

    @staticmethod
    @hookimpl
    def register_progress_items(cohort):
        return [ProgressItem("quizzes.quiz", "7", "Hygiene quiz")]


def test_another_plugins_failing_item_blocks_completion(make_app):
    app = make_app(plugins=(_Garden,))
    client = app.test_client()
    with app.app_context():
        world = _world()
        for person, outcome in [(world.aida, "failed"), (world.bakyt, "passed")]:
            progress_record(
                user_id=person.id,
                cohort_id=world.klass.id,
                item_type="quizzes.quiz",
                item_id="7",
                outcome=outcome,
                source="test",
            )
        db.session.commit()
        results = evaluate_completion(world.klass)
        assert not results[world.aida.id].completed
        assert [str(m) for m in results[world.aida.id].missing] == ["Hygiene quiz"]
        assert results[world.bakyt.id].completed
        assert [str(m) for m in results[world.cholpon.id].missing] == [
            "attendance 60% (80% needed)",
            "Hygiene quiz",
        ]
        factories.login(client, world.teacher)
        page = _text(client.get(f"/lessons/cohorts/{world.klass.id}/progress"))
    assert "Hygiene quiz" in page
    assert '<span class="badge off">failed</span>' in page
    assert '<span class="badge ok">passed</span>' in page


# --- the grid ----------------------------------------------------------------------------------


def test_grid_shows_modules_attendance_and_completion(app):
    world = _world()
    grid = lesson_progress.cohort_grid(world.klass, "en")
    assert [(m.slug, m.title, m.held, m.present) for m in grid.modules] == [
        ("hand-hygiene", "Hand hygiene", 2, 3),
        ("nutrition", "Nutrition", 2, 2),
        ("clean-water", "Water", 0, 0),
    ]
    rows = {row.learner.name: row for row in grid.rows}
    assert list(rows) == ["Aida", "Bakyt", "Cholpon"]
    assert rows["Cholpon"].modules == {
        "hand-hygiene": "attended",
        "nutrition": "excused",
        "clean-water": None,
    }
    assert rows["Bakyt"].modules["hand-hygiene"] == "attended"  # one of the two lessons
    assert [r.percent for r in rows.values()] == [100, 80, 60]
    assert [r.completion.completed for r in rows.values()] == [True, True, False]
    assert (grid.held, grid.other_sessions, grid.other_attended) == (5, 1, 3)
    assert grid.mean_attendance == 80
    assert grid.learners_by_sex == {"female": 2, "male": 1}
    assert grid.completed_by_sex == {"female": 1, "male": 1}


def test_grid_page_for_the_teacher(app, client):
    world = _world()
    factories.login(client, world.teacher)
    response = client.get(f"/lessons/cohorts/{world.klass.id}/progress")
    assert response.status_code == 200
    page = _text(response)
    for text in ("Hand hygiene", "Nutrition", "Water", "Aida", "Cholpon", "60%", "80%"):
        assert text in page
    assert "Missing: attendance 60% (80% needed)" in page
    assert page.count('<span class="badge ok">completed</span>') == 2
    # the teacher's list links each class to its grid (and schedule), the cohort page too
    index = _text(client.get("/lessons/"))
    assert f"/lessons/cohorts/{world.klass.id}/progress" in index
    if "lessons.schedule" in app.view_functions:
        assert url_for("lessons.schedule", cohort_id=world.klass.id, _external=False) in index
    assert f"/lessons/cohorts/{world.klass.id}/progress" in _text(
        client.get(f"/cohorts/{world.klass.id}")
    )


def _statements(client: Any, url: str) -> int:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_grid_issues_a_bounded_number_of_statements(app, client):
    modules = _published_modules()
    monitor = factories.user("monitor")
    urls = []
    for size in (5, 40):
        klass, teacher, people = _class(
            [(f"Learner {n}", "male" if n % 2 else "female") for n in range(size)]
        )
        for day, version in enumerate([*modules.values(), None]):
            marks = {p.id: (P if (n + day) % 3 else A) for n, p in enumerate(people)}
            _hold(klass, teacher, version, marks, day)
        urls.append(f"/lessons/cohorts/{klass.id}/progress")
    db.session.commit()
    factories.login(client, monitor)
    small, large = (_statements(client, url) for url in urls)
    assert small == large
    assert small < 40


# --- access ------------------------------------------------------------------------------------


def test_students_see_their_own_page_not_the_grid(app, client):
    world = _world()
    factories.login(client, world.cholpon)
    assert client.get(f"/lessons/cohorts/{world.klass.id}/progress").status_code == 403
    assert client.get(f"/lessons/madrasas/{world.klass.madrasa_id}").status_code == 403
    page = _text(client.get("/lessons/me"))
    assert world.klass.name in page
    assert "60%" in page and "attendance 60% (80% needed)" in page
    home = _text(client.get("/"))
    assert "3 of 5 lessons attended (60%)" in home
    assert f"/lessons/cohorts/{world.klass.id}/progress" not in _text(
        client.get(f"/cohorts/{world.klass.id}")
    )


def test_teachers_of_another_madrasa_are_refused(app, client):
    world = _world()
    stranger = factories.user("teacher", scope=factories.madrasa())
    db.session.commit()
    factories.login(client, stranger)
    assert client.get(f"/lessons/cohorts/{world.klass.id}/progress").status_code == 403
    assert client.get(f"/lessons/madrasas/{world.klass.madrasa_id}").status_code == 403
    assert "You are not a learner in any cohort." in _text(client.get("/lessons/me"))
    assert client.get("/lessons/cohorts/999999/progress").status_code == 404


def test_my_page_needs_a_login(app, client):
    assert client.get("/lessons/me").status_code == 302


# --- the madrasa summary -----------------------------------------------------------------------


def test_madrasa_summary_figures(app, client):
    world = _world()
    place = world.klass.madrasa
    quiet, _teacher, _people = _class(
        [("Ermek", "male"), ("Fatima", "female")], place=place, name="Quiet class"
    )
    elsewhere, *_ = _class([("Gulnara", "female")])  # another madrasa: not counted
    monitor = factories.user("monitor", scope=place)
    db.session.commit()

    summary = lesson_progress.madrasa_summary(place)
    by_class = {s.cohort.id: s for s in summary.classes}
    assert set(by_class) == {world.klass.id, quiet.id}
    busy = by_class[world.klass.id]
    assert (busy.learners_by_sex, busy.held, busy.mean_attendance) == (
        {"female": 2, "male": 1},
        5,
        80,
    )
    assert busy.completed_by_sex == {"female": 1, "male": 1}
    idle = by_class[quiet.id]
    assert (idle.learners, idle.held, idle.mean_attendance, idle.completed) == (2, 0, None, 0)
    assert summary.learners_by_sex == {"female": 3, "male": 2}
    assert summary.completed_by_sex == {"female": 1, "male": 1}
    assert (summary.held, summary.mean_attendance) == (5, 80)

    factories.login(client, monitor)
    response = client.get(f"/lessons/madrasas/{place.id}")
    assert response.status_code == 200
    page = _text(response)
    assert world.klass.name in page and "Quiet class" in page
    assert elsewhere.name not in page
    assert client.get(f"/lessons/cohorts/{world.klass.id}/progress").status_code == 200
