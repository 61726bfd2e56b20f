"""The reports page issues the same, bounded number of SQL statements whatever the data size.

Every indicator is one or two aggregate statements; completion, which each ToT cohort's rule
decides in Python, is read from the ledger's completion snapshots (kept current as records
are written), re-evaluating at most ``REPORTS_COMPLETION_COHORTS`` cohorts whose snapshot
fell behind. So a data set four times larger — more madrasas, classes, students, ToT
cohorts, lessons, attendance marks, practice lessons, tests, visits and feedback — costs no
more statements.
Rows are added directly (not through the services) to keep the test fast; the shapes are
those the services write.
"""

from __future__ import annotations

import uuid
from datetime import date

from curriculum.models import Feedback
from lessons.models import HELD, Attendance, MonitoringVisit, PracticeLesson, TeachingSession
from lms.accounts.roles import PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.cohorts.models import CLASS, TOT
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.rules import COHORT_ITEM_TYPE
from quizzes.models import GRADED, Attempt, Quiz
from tests import factories
from tests.curriculum import helpers
from tests.reports import count_statements

#: Statements for the page whatever the data: the user and their grants (3), names and
#: choices for the filters (3: regions with the madrasas in scope are one), and the nine
#: built-in indicators (13: field feedback counts with its latest titles in one; the ToT
#: participants are read once, with their sexes, for both the trained and the completed
#: figures), completion included (which snapshots fell behind, who completed).
FIXED = 19


def _unit(n: int, version) -> None:
    """One madrasa with a class, one ToT cohort, and everything that happens in them."""
    region = "osh-region" if n % 2 else "chuy"
    place = factories.madrasa(f"Madrasa {n}", region_code=region)
    klass = factories.cohort(
        CLASS,
        place=place,
        starts_on=date(2026, 1, 10),
        ends_on=date(2026, 5, 31),
        manual="health-basics",
    )
    factories.member(klass, factories.user(sex="male"), TEACHER)
    students = [factories.user(sex=sex) for sex in ("female", "male", "female")]
    for person in students:
        factories.member(klass, person, STUDENT)
    tot = factories.cohort(
        TOT,
        region=factories.region(region),
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 3),
        manual="health-basics",
        completion_rule="marked-complete",
    )
    factories.member(tot, factories.user(), TRAINER)
    participants = [factories.user(sex=sex) for sex in ("female", "male")]
    for person in participants:
        factories.member(tot, person, PARTICIPANT)
    progress.record(
        user_id=participants[0].id,
        cohort_id=tot.id,
        item_type=COHORT_ITEM_TYPE,
        item_id=tot.id,
        outcome="completed",
        source="test",
    )
    for group, learners in ((klass, students), (tot, participants)):
        for day in (2, 9):
            session = TeachingSession(
                cohort_id=group.id, held_on=date(2026, 3, day), status=HELD, title="Lesson"
            )
            db.session.add(session)
            db.session.flush()
            for person in learners:
                db.session.add(
                    Attendance(session_id=session.id, user_id=person.id, status="present")
                )
    practice = PracticeLesson(
        cohort_id=tot.id, participant_id=participants[1].id, taught_on=date(2026, 3, 3)
    )
    db.session.add(practice)
    db.session.flush()
    progress.record(
        user_id=participants[1].id,
        cohort_id=tot.id,
        item_type="lessons.practice",
        item_id=practice.id,
        outcome="scored",
        score=4.0,
        source="lessons",
        details={"content": 4.25, "methodology": 3.75},
    )
    for kind, percent in (("pre", 40.0), ("post", 80.0)):
        quiz = Quiz(cohort_id=klass.id, title=kind, kind=kind, published=True)
        db.session.add(quiz)
        db.session.flush()
        for person in students:
            db.session.add(
                Attempt(
                    quiz_id=quiz.id,
                    user_id=person.id,
                    idempotency_key=uuid.uuid4().hex,
                    status=GRADED,
                    percent=percent,
                )
            )
    db.session.add(
        MonitoringVisit(madrasa_id=place.id, visited_on=date(2026, 4, 1), follow_ups="Seating")
    )
    db.session.add(
        Feedback(module_id=version.module_id, version_id=version.id, source="tot", body="More")
    )
    db.session.flush()


def _page_statements(app, client) -> int:
    with count_statements(app) as statements:
        response = client.get("/reports/", query_string={"year": 2026})
    assert response.status_code == 200
    return len(statements)


def test_the_page_costs_the_same_statements_for_four_times_the_data(app, client):
    version = helpers.submitted()
    cap = 4
    for n in range(cap):
        _unit(n, version)
    officer = factories.user("monitor")
    db.session.commit()
    factories.login(client, officer)
    small = _page_statements(app, client)

    for n in range(cap, 4 * cap):
        _unit(n, version)
    db.session.commit()
    large = _page_statements(app, client)

    assert small == large == FIXED


def test_a_snapshot_that_fell_behind_costs_a_bounded_number_of_statements(app, client):
    """Re-evaluating cohorts whose snapshot fell behind is capped, whatever their number."""
    from lms.progress.models import CompletionState

    version = helpers.submitted()
    for n in range(12):
        _unit(n, version)
    officer = factories.user("monitor")
    db.session.commit()
    factories.login(client, officer)
    fresh = _page_statements(app, client)
    db.session.execute(CompletionState.__table__.delete())  # every snapshot is now behind
    db.session.commit()
    behind = _page_statements(app, client)
    cap = app.config["REPORTS_COMPLETION_COHORTS"]
    # marks (2), learners and records (2), items per cohort (2 each), writes (cap + 2),
    # and the date of the oldest snapshot left behind (1)
    assert behind == fresh + 4 + 2 * cap + cap + 2 + 1
