"""The lessons plugin's "My teaching" page."""

from __future__ import annotations

from lms.accounts.roles import STUDENT, TEACHER
from lms.cohorts.models import CLASS
from lms.extensions import db
from tests import factories


def test_teacher_sees_their_classes_with_learners_by_sex(app, client):
    teacher = factories.user("teacher")
    mine = factories.cohort(CLASS, name="Group A")
    other = factories.cohort(CLASS, name="Group B")
    factories.member(mine, teacher, TEACHER)
    for sex in ("female", "female", "male"):
        factories.member(mine, factories.user(sex=sex), STUDENT)
    factories.member(other, factories.user(), STUDENT)
    db.session.commit()
    factories.login(client, teacher)
    page = client.get("/lessons/").get_data(as_text=True)
    assert "Group A" in page and "Group B" not in page
    assert "<td>3</td><td>2</td><td>1</td>" in page.replace("\n", "").replace(" ", "")


def test_teacher_without_classes_is_told_how_to_start(app, client):
    teacher = factories.user("teacher")
    db.session.commit()
    factories.login(client, teacher)
    assert "You do not teach a class" in client.get("/lessons/").get_data(as_text=True)
