"""The translations page: which translations lag behind their source, and why."""

from __future__ import annotations

from curriculum import review, translations, versions
from curriculum.content import Block
from curriculum.models import ModuleVersion
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers

KY_BLOCKS = (
    Block("p-aaaaaa", "# Кол жуу", "heading"),
    Block("p-bbbbbb", "Тамак алдында колуңузду самын менен жууңуз."),
    Block("p-cccccc", "Микробдор колдон тамакка өтөт."),
)
EDITED = (
    helpers.BLOCKS[0],
    Block("p-bbbbbb", "Wash your hands with soap and clean water before eating."),
    helpers.BLOCKS[2],
)
PAGE = "/curriculum/health-basics/translations/ky"
STALE, CURRENT = '<strong class="badge off">stale</strong>', '<span class="badge ok">current</span>'


def _approved(reviewers, blocks=helpers.BLOCKS, **kwargs) -> ModuleVersion:
    """A submitted English version approved by every reviewer (unless its text already is)."""
    version = helpers.submitted(blocks=blocks, **kwargs)
    if version.approved_at is None:
        for reviewer in reviewers:
            review.decide(version, reviewer, "approve")
    db.session.expire_all()
    version = db.session.get(ModuleVersion, version.id)
    assert version.approved_at is not None
    return version


def _freshness(translation: ModuleVersion):
    db.session.expire_all()
    return translations.freshness(db.session.get(ModuleVersion, translation.id))


def _editor_page(client) -> str:
    editor = factories.user("editor")
    db.session.commit()
    factories.login(client, editor)
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_only_a_newer_approved_source_with_other_text_makes_a_translation_stale(app, client):
    reviewers = helpers.panel()
    source = _approved(reviewers)
    translation = helpers.submitted(language="ky", blocks=KY_BLOCKS, translates=source)
    assert not _freshness(translation).stale

    newer = helpers.submitted(blocks=EDITED, based_on=source, change_summary="Clean water.")
    assert newer.approved_at is None
    assert not _freshness(translation).stale, "an unapproved source version changes nothing"
    db.session.commit()
    page = _editor_page(client)
    assert CURRENT in page and STALE not in page and "<details>" not in page

    for reviewer in reviewers:
        review.decide(newer, reviewer, "approve")
    state = _freshness(translation)
    assert state.stale and state.newest_source.id == newer.id
    db.session.commit()
    page = _editor_page(client)
    assert STALE in page and CURRENT not in page
    assert "<details>" in page
    assert f"/curriculum/versions/{translation.id}" in page
    assert "<ins>" in page and "clean water" in page  # the words the source gained
    assert f"/curriculum/versions/{newer.id}/diff?against={source.id}" in page


def test_a_source_returning_to_the_translated_text_makes_it_current_again(app, client):
    reviewers = helpers.panel()
    source = _approved(reviewers)
    translation = helpers.submitted(language="ky", blocks=KY_BLOCKS, translates=source)
    edited = _approved(reviewers, blocks=EDITED, based_on=source, change_summary="Edit.")
    assert _freshness(translation).stale

    back = _approved(reviewers, blocks=helpers.BLOCKS, based_on=edited, change_summary="Undo.")
    assert back.content_hash == source.content_hash
    state = _freshness(translation)
    assert state.newest_source.id == back.id and not state.stale
    db.session.commit()
    page = _editor_page(client)
    assert CURRENT in page and STALE not in page and "<details>" not in page


def test_modules_without_a_translation_are_listed(app, client):
    reviewers = helpers.panel()
    source = _approved(reviewers)
    helpers.submitted(language="ky", blocks=KY_BLOCKS, translates=source)
    module = versions.get_or_create_module(helpers.manual(), "nutrition", 2)
    versions.create_draft(module, helpers.document(slug="nutrition"), author_id=None)
    db.session.commit()
    page = _editor_page(client)
    untranslated = page.split("Not translated yet", 1)[1]
    assert "nutrition" in untranslated and "hand-hygiene" not in untranslated
    assert [m.slug for m in translations.modules_without(helpers.manual(), "ky")] == ["nutrition"]


def test_the_page_is_for_the_curriculum_team(app, client):
    helpers.manual()
    teacher = factories.user("teacher")
    reviewer = factories.user("reviewer", expertise="health")
    db.session.commit()
    factories.login(client, teacher)
    assert client.get(PAGE).status_code == 403
    client.post("/account/logout")
    factories.login(client, reviewer)
    assert client.get(PAGE).status_code == 200
    assert client.get("/curriculum/health-basics/translations/xx").status_code == 404
    assert client.get("/curriculum/no-such/translations/ky").status_code == 404
