"""A curriculum editor on a desktop brings a module of *Civic Education* up to date: uploads
the reworked module file, corrects the draft on the web, sends it to the expert panel,
publishes the next edition once the panel has approved it, and sees that the Russian and
Kyrgyz translations of the module are now stale — in English, Russian and Kyrgyz.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from curriculum.demo import SAMPLE
from tests.e2e.harness import LANGUAGES, fill_by_keyboard, log_in

pytestmark = pytest.mark.slow

MANUAL = "civic-education"
MODULE = "constitution-and-rights"
FILE = SAMPLE / MANUAL / "en" / "01-constitution-and-rights.md"
#: The editor's changes to the sample module (sample content, like the module itself):
#: one in the uploaded file, one typed into the draft editor.
INTRODUCTION = "p-qsj2ep"
FILE_CHANGE = ("Bring printed excerpts", "Bring printed excerpts of the Constitution")
SUMMARY = "p-vstl6y"
EDIT_ADDED = " Sample addition: end the lesson by reading Article 1 aloud together."
CHANGE_NOTE = "Sample change: the summary ends with a shared reading."
EDITION_NOTES = "Sample edition: module 1 was revised."

#: The words the editor reads on these pages (from lms/translations/*/messages.po).
DRAFT = {"en": "draft", "ru": "черновик", "ky": "долбоор"}
IN_REVIEW = {"en": "in review", "ru": "на рецензии", "ky": "рецензияда"}
APPROVED = {"en": "Approved", "ru": "Одобрена", "ky": "Бекитилген"}
STALE = {"en": "stale", "ru": "устарел", "ky": "эскирген"}
IMPORTED = {
    "en": "1 new draft was made; unchanged files: 0.",
    "ru": "Новых черновиков: 1; файлов без изменений: 0.",
    "ky": "Жаңы долбоорлор: 1; өзгөрбөгөн файлдар: 0.",
}
SAVED = {"en": "The draft is saved.", "ru": "Черновик сохранён.", "ky": "Долбоор сакталды."}
SUBMITTED = {
    "en": "Submitted for review. The text can no longer change.",
    "ru": "Отправлено на рецензию. Текст больше нельзя изменить.",
    "ky": "Рецензияга жөнөтүлдү. Текстти мындан ары өзгөртүүгө болбойт.",
}
PUBLISHED = {
    "en": "Edition 2 is published.",
    "ru": "Издание 2 опубликовано.",
    "ky": "2-басылым жарыяланды.",
}
VERSION_URL = re.compile(r"/curriculum/versions/(\d+)$")


def _approve(open_journey: Any, site: Any, language: str, reviewer: str, version_id: int) -> None:
    """A member of the English panel approves the version in a browser of their own."""
    journey, page = open_journey(f"editor-{reviewer}", site, language)
    log_in(page, journey.base_url, reviewer)
    page.goto(journey.url(f"/curriculum/versions/{version_id}"))
    decision = page.locator("form[action$='/decide']")
    decision.locator("input[name=decision][value=approve]").check()
    with page.expect_navigation():
        decision.locator("button[type=submit]").click()
    assert VERSION_URL.search(page.url), f"{reviewer} could not approve: {page.url}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_editor_imports_revises_submits_and_publishes(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    journey, page = open_journey("editor", site, language)
    log_in(page, journey.base_url, "editor")

    page.goto(journey.url(f"/curriculum/{MANUAL}"))
    journey.check(page, "manual")
    page.click(f"main a[href$='/curriculum/{MANUAL}/import']")
    page.wait_for_url(f"**/curriculum/{MANUAL}/import")
    journey.check(page, "import")

    # The reworked module file, as the editor saved it in a text editor.
    old, new = FILE_CHANGE
    text = FILE.read_text(encoding="utf-8")
    assert old in text
    page.set_input_files(
        "input[name=files]",
        files=[
            {
                "name": FILE.name,
                "mimeType": "text/markdown",
                "buffer": text.replace(old, new, 1).encode("utf-8"),
            }
        ],
    )
    with page.expect_navigation():
        page.click("form[enctype='multipart/form-data'] button[type=submit]")
    found = VERSION_URL.search(page.url)
    assert found, f"the import did not lead to the new draft: {page.url}"
    version_id = int(found.group(1))
    journey.check(page, "imported-draft")
    assert IMPORTED[language] in page.inner_text(".flashes")
    assert page.inner_text("dl.facts .badge").strip() == DRAFT[language]
    assert new in page.inner_text(f"#b-{INTRODUCTION}")

    # A correction on the web: one more sentence in the summary, and a note for reviewers.
    page.click(f"main a[href$='/versions/{version_id}/edit']")
    page.wait_for_url(f"**/versions/{version_id}/edit")
    journey.check(page, "edit-draft")
    body = page.input_value("textarea[name=text]")
    summary = "rights and responsibilities — they can defend themselves by lawful means"
    assert summary in body
    paragraph_end = body.index("different from them.", body.index(summary)) + len(
        "different from them."
    )
    page.fill("textarea[name=text]", body[:paragraph_end] + EDIT_ADDED + body[paragraph_end:])
    page.fill("textarea[name=change_summary]", CHANGE_NOTE)
    with page.expect_navigation():
        page.click("form:has(textarea[name=text]) button[type=submit]")
    assert page.url.endswith(f"/versions/{version_id}")
    journey.check(page, "draft-saved")
    assert SAVED[language] in page.inner_text(".flashes")
    assert EDIT_ADDED.strip() in page.inner_text(f"#b-{SUMMARY}")
    assert CHANGE_NOTE in page.inner_text("dl.facts")

    with page.expect_navigation():
        page.click(f"form[action$='/versions/{version_id}/submit'] button")
    journey.check(page, "submitted")
    assert SUBMITTED[language] in page.inner_text(".flashes")
    assert page.inner_text("dl.facts .badge").strip() == IN_REVIEW[language]

    # The English panel (a theologian and a civic-education expert) approves.
    _approve(open_journey, site, language, "reviewer", version_id)
    _approve(open_journey, site, language, "reviewer2", version_id)
    page.reload()
    journey.check(page, "approved")
    assert APPROVED[language] in page.inner_text("section[aria-labelledby=panel-state] .badge")

    # Publish the next English edition; its notes are typed with the keyboard alone.
    with page.expect_navigation():
        page.click(f"main a[href$='/curriculum/{MANUAL}']")
    page.click(f"main a[href$='/curriculum/{MANUAL}/editions']")
    page.wait_for_url(f"**/curriculum/{MANUAL}/editions")
    journey.check(page, "editions")
    page.click(f"main a[href$='/curriculum/{MANUAL}/editions/en/publish']")
    page.wait_for_url("**/editions/en/publish")
    journey.check(page, "publish")
    row = page.locator("tbody tr", has=page.locator(f"a[href$='/modules/{MODULE}']"))
    assert row.locator(f"a[href$='/versions/{version_id}']").count() == 1
    fill_by_keyboard(
        page,
        [("textarea[name=notes]", EDITION_NOTES)],
        "form:has(textarea[name=notes]) button[type=submit]",
    )
    page.wait_for_url(f"**/curriculum/{MANUAL}/editions/en/2")
    journey.check(page, "edition")
    assert PUBLISHED[language] in page.inner_text(".flashes")
    assert EDITION_NOTES in page.inner_text("dl.facts")

    # The translations of the module now lag behind their English source.
    target = language if language != "en" else "ru"
    with page.expect_navigation():
        page.click(f"main a[href$='/curriculum/{MANUAL}']")
    page.click(f"main a[href$='/curriculum/{MANUAL}/translations/{target}']")
    page.wait_for_url(f"**/translations/{target}")
    item = page.locator(f"#module-{MODULE}")
    assert item.locator(".badge.off").inner_text().strip() == STALE[language]
    item.locator("details > summary").click()
    journey.check(page, "stale-translation")
    assert new.split()[-1] in " ".join(item.locator(".diff-view ins").all_inner_texts())
