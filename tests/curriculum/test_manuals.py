"""The curriculum plugin's manuals page."""

from __future__ import annotations

from sqlalchemy import select

from curriculum.models import Manual
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests import factories


def _editor_client(client):
    editor = factories.user("editor")
    db.session.commit()
    factories.login(client, editor)
    return editor


def test_editor_creates_a_manual_with_titles_in_three_languages(app, client):
    _editor_client(client)
    response = client.post(
        "/curriculum/manuals/new",
        data={
            "slug": "health-basics",
            "title_en": "Health Basics",
            "title_ru": "Основы здоровья",
            "title_ky": "Ден соолуктун негиздери",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/curriculum/health-basics")
    client.post("/language", data={"lang": "ky"})
    assert "Ден соолуктун негиздери" in client.get("/curriculum/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "manual.create"))


def test_bad_and_duplicate_short_names_are_field_errors(app, client):
    _editor_client(client)
    page = client.post("/curriculum/manuals/new", data={"slug": "Bad Name!", "title_en": "X"})
    assert page.status_code == 200
    assert "lower-case Latin letters" in page.get_data(as_text=True)
    client.post("/curriculum/manuals/new", data={"slug": "civics", "title_en": "Civics"})
    page = client.post("/curriculum/manuals/new", data={"slug": "civics", "title_en": "Again"})
    assert "A manual with this short name exists." in page.get_data(as_text=True)
    assert len(db.session.scalars(select(Manual)).all()) == 1


def test_teachers_read_but_cannot_create_manuals(app, client):
    teacher = factories.user("teacher")
    db.session.commit()
    factories.login(client, teacher)
    assert client.get("/curriculum/").status_code == 200
    assert client.get("/curriculum/manuals/new").status_code == 403
    assert client.get("/curriculum/no-such-manual").status_code == 404
