"""Exports of an edition: the PDF for print and the offline ZIP, from frozen versions."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from curriculum import editions, export
from curriculum.content import Block
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers
from tests.curriculum.test_editions import ARABIC, approved, login, with_text

KYRGYZ = (
    Block("p-aaaaaa", "# Колдун тазалыгы", "heading"),
    Block("p-bbbbbb", "Тамак жээрден мурун колуңузду самын менен жууңуз. Өтө маанилүү: үйдө да."),
    Block(
        "p-cccccc",
        "::: activity group-work\n**Топтук иш (15 мүнөт).** Төрт кишиден топ түзүңүз.\n:::",
        "activity",
        "group-work",
    ),
    ARABIC,
)


def kyrgyz_edition():
    reviewers = helpers.panel(language="ky")
    approved(reviewers, language="ky", title="Колдун тазалыгы", blocks=KYRGYZ)
    approved(
        reviewers,
        "nutrition",
        position=2,
        language="ky",
        title="Туура тамактануу",
        blocks=(Block("p-eeeeee", "Жашылча жана мөмө-жемиш жегиле."),),
    )
    return editions.publish(helpers.manual(), "ky", actor_id=None)


def test_zip_holds_pages_style_and_manifest_with_the_approved_hashes(app):
    edition = kyrgyz_edition()
    expected = {e.version.module.slug: e.version.content_hash for e in edition.entries}
    client = login(app, factories.user("teacher"))
    response = client.get("/curriculum/health-basics/editions/ky/1.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert 'filename="health-basics-ky-edition-1.zip"' in response.headers["Content-Disposition"]

    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert names == {
        "index.html",
        "01-hand-hygiene.html",
        "02-nutrition.html",
        "style.css",
        "edition.json",
    }
    manifest = json.loads(archive.read("edition.json"))
    assert manifest["manual"] == "health-basics"
    assert manifest["language"] == "ky"
    assert manifest["number"] == 1
    assert manifest["published_at"]
    assert {m["slug"]: m["content_hash"] for m in manifest["modules"]} == expected
    assert [m["version"] for m in manifest["modules"]] == [1, 1]
    assert manifest["modules"][0]["title"] == "Колдун тазалыгы"
    assert len(manifest["modules"][0]["signatories"]) == 2

    index = archive.read("index.html").decode()
    page = archive.read("01-hand-hygiene.html").decode()
    assert 'href="01-hand-hygiene.html"' in index and 'href="02-nutrition.html"' in index
    assert expected["hand-hygiene"][:16] in index
    assert 'href="02-nutrition.html"' in page and 'href="index.html"' in page
    assert 'lang="ky"' in page and 'dir="rtl"' in page
    assert "Өтө маанилүү" in page
    assert "activity-group-work" in page
    assert page.count("<h1") == 1  # the leading heading that repeats the title is not doubled
    for html in (index, page, archive.read("02-nutrition.html").decode()):
        assert '<link rel="stylesheet" href="style.css">' in html
        assert not re.search(r"<(link|script)[^>]+(href|src)=\"(https?:)?//", html)
        assert "<script" not in html
    assert "Noto Naskh Arabic" in archive.read("style.css").decode()


def test_exports_use_the_frozen_versions_not_the_latest_text(app):
    reviewers = helpers.panel()
    approved(reviewers, blocks=with_text("Old advice: rinse with water."))
    first = editions.publish(helpers.manual(), "en", actor_id=None)
    approved(reviewers, blocks=with_text("New advice: soap for twenty seconds."))
    editions.publish(helpers.manual(), "en", actor_id=None)
    db.session.expire_all()

    archive = zipfile.ZipFile(io.BytesIO(export.edition_zip(first)))
    page = archive.read("01-hand-hygiene.html").decode()
    assert "Old advice" in page and "New advice" not in page
    html = export.edition_html_for_print(first)
    assert "Old advice" in html and "New advice" not in html
    assert json.loads(archive.read("edition.json"))["modules"][0]["version"] == 1


def test_exports_need_permission_to_read(app):
    kyrgyz_edition()
    student = login(app, factories.user("student"))
    assert student.get("/curriculum/health-basics/editions/ky/1.zip").status_code == 403
    assert student.get("/curriculum/health-basics/editions/ky/1.pdf").status_code == 403
    teacher = login(app, factories.user("teacher"))
    assert teacher.get("/curriculum/health-basics/editions/ky/2.zip").status_code == 404


def test_print_html_has_title_page_contents_chapters_and_signatories(app):
    edition = kyrgyz_edition()
    html = export.edition_html_for_print(edition)
    assert '<html lang="ky">' in html
    assert "size: A4 portrait" in html
    assert 'href="#module-hand-hygiene"' in html and 'id="module-nutrition"' in html
    assert 'class="signatories"' in html
    assert edition.entries[0].version.content_hash[:16] in html
    assert "http://" not in html and "https://" not in html
    assert '"Noto Sans", "Noto Naskh Arabic", "DejaVu Sans", sans-serif' in html


@pytest.mark.slow
def test_pdf_keeps_the_kyrgyz_letters_and_module_titles(app):
    pypdf = pytest.importorskip("pypdf")
    kyrgyz_edition()
    client = login(app, factories.user("teacher"))
    response = client.get("/curriculum/health-basics/editions/ky/1.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert 'filename="health-basics-ky-edition-1.pdf"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Колдун тазалыгы" in text
    assert "Туура тамактануу" in text
    for letter in "ңөү":
        assert letter in text
    assert len(reader.pages) >= 5  # title, contents, two modules, signatories
