"""Answers remembered for a page view are dropped when the database session changes."""

from __future__ import annotations

from flask import Flask

from curriculum.services import create_manual, get_manual, list_manuals
from lms.extensions import db


def test_a_manual_read_in_an_ended_session_is_read_again(app: Flask) -> None:
    create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    db.session.commit()
    with app.test_request_context("/curriculum/"):
        assert [m.slug for m in list_manuals()] == ["health-basics"]
        db.session.remove()  # a script ending one unit of work inside the same request
        found = get_manual("health-basics")
        assert found is not None and found.slug == "health-basics"
        assert found in db.session  # from the session in use, not the ended one


def test_within_one_session_the_manuals_are_read_once(app: Flask) -> None:
    from tests.reports import count_statements

    create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    db.session.commit()
    with app.test_request_context("/curriculum/"):
        with count_statements(app) as statements:
            get_manual("health-basics")
            get_manual("health-basics")
            list_manuals()
        assert len(statements) == 1
