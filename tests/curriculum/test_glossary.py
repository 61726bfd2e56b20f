"""The glossary of agreed terms: read by everyone on the manual, kept by editors and reviewers."""

from __future__ import annotations

from sqlalchemy import select

from curriculum import translations
from curriculum.models import GlossaryTerm
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

PAGE = "/curriculum/health-basics/glossary/ky"


def _login(client, role: str, **kwargs):
    helpers.manual()
    person = factories.user(role, **kwargs)
    db.session.commit()
    factories.login(client, person)
    return person


def _terms() -> list[GlossaryTerm]:
    db.session.expire_all()
    return list(db.session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.source_term)))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_editor_adds_changes_and_deletes_a_term(app, client):
    _login(client, "editor")
    response = client.post(
        PAGE, data={"source_term": "hand hygiene", "term": "кол тазалыгы", "note": ""}
    )
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "hand hygiene" in page and "кол тазалыгы" in page

    (entry,) = _terms()
    change = client.get(f"{PAGE}?term={entry.id}").get_data(as_text=True)
    assert 'value="кол тазалыгы"' in change  # the form is filled in to change it

    client.post(
        PAGE,
        data={"source_term": " hand hygiene ", "term": "колдун гигиенасы", "note": "Not «таза»."},
    )
    (entry,) = _terms()  # the same English term changed its entry, no second one
    assert (entry.term, entry.note) == ("колдун гигиенасы", "Not «таза».")

    delete_url = f"{PAGE}/{entry.id}/delete"
    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    assert "колдун гигиенасы" in confirm.get_data(as_text=True)
    assert len(_terms()) == 1, "the confirmation page deletes nothing"
    assert client.post(delete_url).status_code == 302
    assert _terms() == []
    assert _actions().count("glossary.save") == 2 and "glossary.delete" in _actions()


def test_empty_fields_are_field_errors_and_nothing_is_saved(app, client):
    _login(client, "reviewer", expertise="theology")
    response = client.post(PAGE, data={"source_term": "  ", "term": "", "note": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the term in English." in page
    assert "Enter the agreed translation." in page
    assert 'aria-invalid="true"' in page
    assert _terms() == []


def test_readers_see_the_glossary_but_cannot_change_it(app, client):
    entry = translations.save_term(helpers.manual(), "ky", "germ", "микроб", "", actor_id=None)
    _login(client, "teacher")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "микроб" in page.get_data(as_text=True)
    assert 'name="source_term"' not in page.get_data(as_text=True)
    assert client.post(PAGE, data={"source_term": "x", "term": "y"}).status_code == 403
    assert client.get(f"{PAGE}/{entry.id}/delete").status_code == 403
    assert client.post(f"{PAGE}/{entry.id}/delete").status_code == 403
    assert len(_terms()) == 1


def test_unknown_languages_and_terms_are_not_found(app, client):
    _login(client, "editor")
    assert client.get("/curriculum/health-basics/glossary/en").status_code == 404
    assert client.get("/curriculum/health-basics/glossary/xx").status_code == 404
    assert client.get(f"{PAGE}/999/delete").status_code == 404


def test_students_cannot_read_the_glossary(app, client):
    _login(client, "student")
    assert client.get(PAGE).status_code == 403
