"""Importing module files through the upload form on a manual's page: the same checks as
``lms curriculum import``, and only into the manual whose page it is."""

from __future__ import annotations

import io as bytes_io
from pathlib import Path

from sqlalchemy import func, select

from curriculum import io
from curriculum.models import ModuleVersion
from curriculum.services import create_manual, get_manual
from lms.extensions import db
from tests import factories

SAMPLE = Path(__file__).resolve().parents[2] / "curriculum" / "sample"
HAND_HYGIENE = SAMPLE / "health-basics" / "en" / "01-hand-hygiene.md"


def _manuals() -> None:
    create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    create_manual(slug="civic-education", title_en="Civic Education", actor_id=None)
    db.session.commit()


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ModuleVersion)) or 0


def _upload(client, slug: str, *files: tuple[str, str | bytes]):
    data = {
        "files": [
            (bytes_io.BytesIO(raw.encode() if isinstance(raw, str) else raw), name)
            for name, raw in files
        ]
    }
    return client.post(f"/curriculum/{slug}/import", data=data, content_type="multipart/form-data")


def test_a_changed_file_becomes_a_draft_and_the_editor_lands_on_it(app, client):
    _manuals()
    io.import_files([(HAND_HYGIENE.name, HAND_HYGIENE.read_bytes())], actor_id=None)
    db.session.commit()
    editor = factories.user("editor")
    db.session.commit()
    factories.login(client, editor)
    assert "Import module files" in client.get("/curriculum/health-basics").get_data(as_text=True)
    assert client.get("/curriculum/health-basics/import").status_code == 200

    text = HAND_HYGIENE.read_text(encoding="utf-8").replace("soap", "soap and water", 1)
    response = _upload(client, "health-basics", (HAND_HYGIENE.name, text))

    draft = db.session.scalars(select(ModuleVersion).order_by(ModuleVersion.id.desc())).first()
    assert draft is not None and draft.number == 2 and draft.is_draft
    assert draft.author_id == editor.id and draft.based_on.number == 1
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/curriculum/versions/{draft.id}")


def test_a_bad_file_is_listed_by_file_and_line_and_nothing_is_imported(app, client):
    _manuals()
    editor = factories.user("editor")
    db.session.commit()
    factories.login(client, editor)
    good = HAND_HYGIENE.read_text(encoding="utf-8")
    bad = good.replace("duration_minutes: ", "duration_minutes: x", 1)

    response = _upload(client, "health-basics", ("good.md", good), ("bad.md", bad))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in page and "bad.md:" in page and "duration_minutes" in page
    assert _versions() == 0


def test_only_markdown_files_are_taken(app, client):
    _manuals()
    editor = factories.user("editor")
    db.session.commit()
    factories.login(client, editor)

    response = _upload(client, "health-basics", ("notes.docx", b"PK\x03\x04"))

    assert response.status_code == 400
    assert "notes.docx" in response.get_data(as_text=True)
    assert _versions() == 0


def test_an_editor_of_one_manual_cannot_import_into_another(app, client):
    _manuals()
    editor = factories.user(username="health-editor")
    factories.grant(editor, "editor", scope=get_manual("health-basics"))
    db.session.commit()
    factories.login(client, editor)
    civic = SAMPLE / "civic-education" / "en" / "01-constitution-and-rights.md"

    # A file of the other manual, sent to the page of one's own: refused by name.
    response = _upload(client, "health-basics", (civic.name, civic.read_bytes()))
    assert response.status_code == 400
    assert "civic-education" in response.get_data(as_text=True)
    # The other manual's own page: not this editor's.
    assert client.get("/curriculum/civic-education/import").status_code == 403
    assert _versions() == 0
