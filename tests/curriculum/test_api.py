"""The curriculum JSON API: what each endpoint answers, to whom, and that editions stay frozen."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from curriculum import editions, review, versions
from curriculum.content import Block, parse_blocks
from curriculum.models import ModuleVersion
from curriculum.services import create_manual
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

API = "/api/v1/curriculum"
EDITED = (
    helpers.BLOCKS[0],
    Block("p-bbbbbb", "Wash your hands with soap and clean water before eating."),
    helpers.BLOCKS[2],
)


def _approve(version: ModuleVersion, reviewers) -> ModuleVersion:
    for reviewer in reviewers:
        review.decide(version, reviewer, "approve")
    db.session.flush()
    return version


def _approved_module(slug: str, position: int, reviewers, author) -> ModuleVersion:
    """A further module of Health Basics with an approved first version."""
    module = versions.get_or_create_module(helpers.manual(), slug, position)
    document = helpers.document(slug=slug, position=position, title=slug.title())
    version = versions.create_draft(module, document, author_id=author.id)
    versions.submit(version, actor_id=author.id)
    return _approve(version, reviewers)


@pytest.fixture
def world(app):
    """Health Basics with version 1 approved and published as edition en/1, then version 2
    (an edited paragraph) approved but not yet published, and a Russian translation of v1."""
    reviewers = helpers.panel()
    editor = factories.user("editor", name="Aida Editor")
    v1 = _approve(helpers.submitted(editor), reviewers)
    manual = helpers.manual()
    manual.title_ru, manual.description = "Основы здоровья", "Hygiene and nutrition."
    editions.publish(manual, "en", actor_id=editor.id)
    v2 = helpers.submitted(editor, blocks=EDITED, based_on=v1, change_summary="Clean water.")
    _approve(v2, reviewers)
    russian = helpers.draft(editor, language="ru", translates=v1)
    db.session.commit()
    return {"editor": editor, "reviewers": reviewers, "v1": v1, "v2": v2, "ru": russian}


def _as(client, person):
    factories.login(client, person)
    return client


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()["error"]
    assert body["status"] == status and body["title"] and body["message"]
    return body


# --- manuals and editions ----------------------------------------------------------------


def test_manuals_list_titles_in_three_languages(world, client):
    response = _as(client, world["editor"]).get(f"{API}/manuals")
    assert response.status_code == 200
    assert response.get_json() == {
        "manuals": [
            {
                "slug": "health-basics",
                "titles": {"en": "Health Basics", "ru": "Основы здоровья", "ky": ""},
                "description": "Hygiene and nutrition.",
            }
        ]
    }


def test_a_reader_scoped_to_one_manual_sees_only_that_one(world, client):
    civic = create_manual(slug="civic-education", title_en="Civic Education", actor_id=None)
    teacher = factories.user("teacher", scope=civic)
    db.session.commit()
    body = _as(client, teacher).get(f"{API}/manuals").get_json()
    assert [m["slug"] for m in body["manuals"]] == ["civic-education"]
    _error(client.get(f"{API}/manuals/health-basics/editions"), 403)


def test_editions_list_with_module_count_and_language_filter(world, client):
    _as(client, world["editor"])
    body = client.get(f"{API}/manuals/health-basics/editions").get_json()
    assert body["manual"] == "health-basics"
    [edition] = body["editions"]
    assert edition["language"] == "en" and edition["number"] == 1
    assert edition["module_count"] == 1
    assert edition["published_at"].endswith("+00:00")
    assert client.get(f"{API}/manuals/health-basics/editions?language=ky").get_json() == {
        "manual": "health-basics",
        "editions": [],
    }
    _error(client.get(f"{API}/manuals/health-basics/editions?language=xx"), 400)


def test_edition_gives_modules_in_order_with_blocks_and_signatories(world, client):
    body = _as(client, world["editor"]).get(f"{API}/manuals/health-basics/editions/en/1")
    body = body.get_json()
    assert (body["manual"], body["language"], body["number"]) == ("health-basics", "en", 1)
    [module] = body["modules"]
    v1 = world["v1"]
    assert module["slug"] == "hand-hygiene" and module["position"] == 1
    assert (module["version"], module["version_id"]) == (1, v1.id)
    assert module["content_hash"] == v1.content_hash
    assert module["title"] == "Hand hygiene"
    assert module["objectives"] == ["Wash hands well."]
    assert module["duration_minutes"] == 45
    assert [b["id"] for b in module["blocks"]] == ["p-aaaaaa", "p-bbbbbb", "p-cccccc"]
    heading = module["blocks"][0]
    assert heading["kind"] == "heading" and heading["text"] == "# Washing hands"
    assert heading["html"].startswith('<section class="block block-heading" id="p-aaaaaa"')
    assert "<h1>Washing hands</h1>" in heading["html"]
    names = {seat["name"] for seat in module["signatories"]}
    assert names == {reviewer.name for reviewer in world["reviewers"]}
    assert {seat["decision"] for seat in module["signatories"]} == {"approve"}


def test_edition_keeps_its_frozen_text_after_a_newer_version_is_approved(world, client):
    v1, v2 = world["v1"], world["v2"]
    assert db.session.get(ModuleVersion, v2.id).approved_at is not None
    editions.publish(helpers.manual(), "en", actor_id=None)  # edition 2 takes v2
    db.session.commit()
    _as(client, world["editor"])
    first = client.get(f"{API}/manuals/health-basics/editions/en/1").get_json()
    second = client.get(f"{API}/manuals/health-basics/editions/en/2").get_json()
    frozen = [(b.id, b.kind, b.text) for b in parse_blocks(v1.body)]
    assert [(b["id"], b["kind"], b["text"]) for b in first["modules"][0]["blocks"]] == frozen
    assert first["modules"][0]["content_hash"] == v1.content_hash
    assert second["modules"][0]["version_id"] == v2.id
    assert second["modules"][0]["blocks"][1]["text"] == EDITED[1].text


def test_edition_queries_do_not_grow_with_its_modules(world, client):
    """Entries, versions and modules load together: no query per module."""
    _as(client, world["editor"])
    with _counting(world) as before:
        client.get(f"{API}/manuals/health-basics/editions/en/1")
    for position, slug in enumerate(("nutrition", "immunisation", "clean-water"), start=2):
        _approved_module(slug, position, world["reviewers"], world["editor"])
    editions.publish(helpers.manual(), "en", actor_id=None)
    db.session.commit()
    with _counting(world) as after:
        body = client.get(f"{API}/manuals/health-basics/editions/en/2").get_json()
    assert [m["slug"] for m in body["modules"]] == [
        "hand-hygiene",
        "nutrition",
        "immunisation",
        "clean-water",
    ]
    assert len(after) == len(before)


@contextmanager
def _counting(world):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- versions and diffs ------------------------------------------------------------------


def test_version_shows_review_state_and_blocks(world, client):
    v1 = world["v1"]
    body = _as(client, world["editor"]).get(f"{API}/versions/{v1.id}").get_json()
    assert body["id"] == v1.id and body["manual"] == "health-basics"
    assert body["module"] == {"slug": "hand-hygiene", "position": 1}
    assert (body["language"], body["number"], body["status"]) == ("en", 1, "submitted")
    assert body["approved"] is True and body["approved_at"] is not None
    assert body["author"] == "Aida Editor"
    assert body["translates"] is None and body["based_on"] is None
    decisions = {(d["seat"], d["domain"], d["decision"]) for d in body["decisions"]}
    theologian, doctor = world["reviewers"]
    assert decisions == {
        (theologian.name, "theology", "approve"),
        (doctor.name, "health", "approve"),
    }
    assert all(d["decided_at"] for d in body["decisions"])
    assert [b["text"] for b in body["blocks"]] == [b.text for b in helpers.BLOCKS]
    assert all(b["html"].startswith("<section") for b in body["blocks"])


def test_draft_translation_shows_its_source_and_whether_it_is_stale(world, client):
    russian, v1 = world["ru"], world["v1"]
    body = _as(client, world["editor"]).get(f"{API}/versions/{russian.id}").get_json()
    assert body["status"] == "draft" and body["approved"] is False
    assert body["decisions"] == []
    source = body["translates"]
    assert (source["id"], source["language"], source["number"]) == (v1.id, "en", 1)
    assert source["content_hash"] == v1.content_hash
    assert source["stale"] is True  # v2 is approved with different text
    assert source["newest_source"] == world["v2"].id


def test_reviewer_reads_versions_too(world, client):
    theologian = world["reviewers"][0]
    assert _as(client, theologian).get(f"{API}/versions/{world['v2'].id}").status_code == 200


def test_diff_gives_word_operations_per_block(world, client):
    v1, v2 = world["v1"], world["v2"]
    _as(client, world["editor"])
    body = client.get(f"{API}/versions/{v2.id}/diff?against={v1.id}").get_json()
    assert (body["version"], body["against"]) == (v2.id, v1.id)
    assert body["summary"]["changed"] == 1 and body["summary"]["unchanged"] == 2
    assert body["summary"]["inserted_words"] == 3
    statuses = {block["id"]: block["status"] for block in body["blocks"]}
    assert statuses == {"p-aaaaaa": "unchanged", "p-bbbbbb": "changed", "p-cccccc": "unchanged"}
    changed = next(block for block in body["blocks"] if block["id"] == "p-bbbbbb")
    assert changed["ops"] == [
        {"tag": "equal", "old": "Wash your hands with soap ", "new": "Wash your hands with soap "},
        {"tag": "insert", "old": "", "new": "and clean water "},
        {"tag": "equal", "old": "before eating.", "new": "before eating."},
    ]
    assert "".join(op["new"] for op in changed["ops"]) == EDITED[1].text
    # Without ?against= the diff is from the version it was edited from.
    assert client.get(f"{API}/versions/{v2.id}/diff").get_json() == body


def test_diff_refuses_a_missing_or_foreign_version(world, client):
    v2 = world["v2"]
    other = _approved_module("nutrition", 2, world["reviewers"], world["editor"])
    db.session.commit()
    _as(client, world["editor"])
    _error(client.get(f"{API}/versions/{v2.id}/diff?against={other.id}"), 404)
    _error(client.get(f"{API}/versions/{v2.id}/diff?against=999999"), 404)
    _error(client.get(f"{API}/versions/{v2.id}/diff?against=first"), 400)
    _error(client.get(f"{API}/versions/{world['v1'].id}/diff"), 400)  # edited from nothing


# --- who may ask -------------------------------------------------------------------------


def test_visitors_get_401_json_on_every_endpoint(world, client):
    v1, v2 = world["v1"], world["v2"]
    for url in (
        f"{API}/manuals",
        f"{API}/manuals/health-basics/editions",
        f"{API}/manuals/health-basics/editions/en/1",
        f"{API}/versions/{v1.id}",
        f"{API}/versions/{v2.id}/diff?against={v1.id}",
    ):
        response = client.get(url)
        assert "Location" not in response.headers, url
        _error(response, 401)


def test_students_may_not_read_versions_or_manuals(world, client):
    student = factories.user("student")
    db.session.commit()
    _as(client, student)
    _error(client.get(f"{API}/versions/{world['v1'].id}"), 403)
    _error(client.get(f"{API}/versions/{world['v2'].id}/diff"), 403)
    _error(client.get(f"{API}/manuals"), 403)


def test_teachers_read_editions_but_not_versions(world, client):
    teacher = factories.user("teacher")
    db.session.commit()
    _as(client, teacher)
    assert client.get(f"{API}/manuals/health-basics/editions/en/1").status_code == 200
    _error(client.get(f"{API}/versions/{world['v1'].id}"), 403)


def test_unknown_things_are_404_json(world, client):
    _as(client, world["editor"])
    _error(client.get(f"{API}/manuals/no-such-manual/editions"), 404)
    _error(client.get(f"{API}/manuals/no-such-manual/editions/en/1"), 404)
    _error(client.get(f"{API}/manuals/health-basics/editions/en/9"), 404)
    _error(client.get(f"{API}/manuals/health-basics/editions/xx/1"), 404)
    _error(client.get(f"{API}/versions/999999"), 404)
