"""The quizzes plugin's question-bank page."""

from __future__ import annotations

from sqlalchemy import select

from curriculum.services import create_manual
from lms.extensions import db
from quizzes.models import QuestionBank
from tests import factories


def test_trainer_creates_a_bank_for_a_manual(app, client):
    create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    response = client.post("/quizzes/", data={"name": "Pre-test", "manual_slug": "health-basics"})
    assert response.status_code == 302
    page = client.get("/quizzes/").get_data(as_text=True)
    assert "Pre-test" in page and "Health Basics" in page
    again = client.post("/quizzes/", data={"name": "Pre-test", "manual_slug": "health-basics"})
    assert "already has a bank with this name" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(QuestionBank)).all()) == 1


def test_without_manuals_the_page_says_why_it_cannot_create(app, client):
    teacher = factories.user("teacher")
    db.session.commit()
    factories.login(client, teacher)
    page = client.get("/quizzes/").get_data(as_text=True)
    assert "there are no manuals yet" in page
    response = client.post("/quizzes/", data={"name": "X", "manual_slug": "nothing"})
    assert response.status_code == 200
    assert db.session.scalars(select(QuestionBank)).all() == []
