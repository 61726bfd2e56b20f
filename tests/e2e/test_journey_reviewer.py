"""Expert reviewers on the panel of a manual work through their review queue on a desktop:
one reads what changed in a module, comments on a paragraph and asks for changes; the other,
back the next day on a remembered log-in, approves a module after typing the password again
— in English, Russian and Kyrgyz.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from curriculum import versions
from curriculum.models import Module, ModuleVersion
from lms.accounts.models import User
from lms.extensions import db
from tests.e2e.harness import DEMO_PASSWORD, LANGUAGES, fill_by_keyboard, log_in

pytestmark = pytest.mark.slow

#: The words a reviewer reads on these pages (from lms/translations/*/messages.po).
WAITING = {"en": "waiting for you", "ru": "ждёт вашего решения", "ky": "сизди күтүүдө"}
REQUEST_CHANGES = {
    "en": "Request changes",
    "ru": "Запросить изменения",
    "ky": "Өзгөртүүлөрдү суроо",
}
APPROVE = {"en": "Approve", "ru": "Одобрить", "ky": "Бекитүү"}
APPROVED = {"en": "Approved", "ru": "Одобрена", "ky": "Бекитилген"}
RECORDED = {
    "en": "Your decision is recorded.",
    "ru": "Ваше решение записано.",
    "ky": "Чечимиңиз катталды.",
}
PASSWORD_AGAIN = {
    "en": "For this action, please enter your password again.",
    "ru": "Для этого действия введите пароль ещё раз.",
    "ky": "Бул аракет үчүн сырсөзүңүздү кайра киргизиңиз.",
}

#: The paragraph of *healthy-eating* the editor rewords, and how (sample content).
PARAGRAPH = "p-2e3jdq"
OLD_WORDS, NEW_WORDS = "Good food does not have to be expensive.", "Good food need not cost much."
COMMENT = "Sample comment: keep the plain wording, students quote this sentence."
REASONS = "Sample reasons: please give the source of the anaemia figures."


def _module_version(module: str, language: str = "en") -> ModuleVersion:
    found = db.session.scalars(
        select(ModuleVersion)
        .join(Module)
        .where(Module.slug == module, ModuleVersion.language == language)
        .order_by(ModuleVersion.number.desc())
    ).first()
    assert found is not None, f"the demo data has {module} in {language}"
    return found


def _prepare(site: Any) -> tuple[int, int]:
    """The editor's part, done before the reviewers arrive: a reworded *healthy-eating*
    submitted as version 2. Returns (its id, the id of *mental-wellbeing*, which the
    demo's theology reviewer approved and the civic-education reviewer has not)."""
    with site.app.app_context():
        editor = db.session.scalars(select(User).where(User.username == "editor")).one()
        first = _module_version("healthy-eating")
        draft = versions.new_draft_from(first, author_id=editor.id)
        text = versions.file_text(draft)
        assert OLD_WORDS in text
        versions.save_draft(
            draft,
            text.replace(OLD_WORDS, NEW_WORDS, 1),
            expected_lock_version=draft.lock_version,
            change_summary="Sample change: a shorter first sentence.",
            actor_id=editor.id,
        )
        versions.submit(draft, actor_id=editor.id)
        db.session.commit()
        ids = draft.id, _module_version("mental-wellbeing").id
        db.session.remove()
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_reviewers_comment_ask_for_changes_and_approve(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    changed_id, waiting_id = _prepare(site)
    journey, page = open_journey("reviewer", site, language)

    # --- the theology reviewer: what changed, a comment, a request for changes ---------
    log_in(page, journey.base_url, "reviewer")
    journey.check(page, "home")
    page.click("header a[href$='/curriculum/review']")
    page.wait_for_url("**/curriculum/review")
    journey.check(page, "queue")
    row = page.locator(f"tr[data-version='{changed_id}']")
    assert WAITING[language] in row.inner_text()

    row.locator(f"a[href*='/versions/{changed_id}/diff']").click()
    page.wait_for_url(f"**/versions/{changed_id}/diff*")
    journey.check(page, "diff")
    inserted = " ".join(page.locator("main .diff-view ins").all_inner_texts())
    deleted = " ".join(page.locator("main .diff-view del").all_inner_texts())
    assert "need" in inserted and "cost" in inserted, inserted
    assert "does" in deleted and "expensive" in deleted, deleted

    page.click(f"main a[href$='/versions/{changed_id}']")
    page.wait_for_url(f"**/versions/{changed_id}")
    journey.check(page, "version")
    block = page.locator(f"#b-{PARAGRAPH}")
    assert NEW_WORDS in block.inner_text()
    block.locator("details > summary").last.click()
    block.locator(f"#c-{PARAGRAPH}").fill(COMMENT)
    with page.expect_navigation():
        block.locator(f"#c-{PARAGRAPH} ~ button[type=submit]").click()
    assert page.url.endswith(f"/versions/{changed_id}#b-{PARAGRAPH}")
    journey.check(page, "commented")
    assert COMMENT in page.locator(f"#b-{PARAGRAPH} .comment").inner_text()

    decision = page.locator("form[action$='/decide']")
    decision.locator("input[name=decision][value=request_changes]").check()
    decision.locator("textarea[name=reasons]").fill(REASONS)
    with page.expect_navigation():
        decision.locator("button[type=submit]").click()
    assert page.url.endswith(f"/versions/{changed_id}")
    journey.check(page, "changes-requested")
    assert RECORDED[language] in page.inner_text(".flashes")
    review = page.locator("section[aria-labelledby=panel-state]").inner_text()
    assert REQUEST_CHANGES[language] in review and REASONS in review

    page.goto(journey.url("/curriculum/review"))
    journey.check(page, "queue-after-request")
    row = page.locator(f"tr[data-version='{changed_id}']")
    assert row.locator("[data-decision=request_changes]").inner_text() == REQUEST_CHANGES[language]

    # --- the civic-education reviewer, the next day on a remembered log-in -------------
    _, second = open_journey("reviewer", site, language)
    context = second.context
    second.goto(journey.url("/account/login"))
    second.fill("input[name=username]", "reviewer2")
    second.fill("input[name=password]", DEMO_PASSWORD)
    second.check("input[name=remember]")
    with second.expect_navigation():
        second.click("form:has(input[name=remember]) button[type=submit]")
    assert "/account/login" not in second.url
    # The browser was closed overnight: the session is gone, the remembered log-in is not.
    session_cookies = [c for c in context.cookies() if c["name"] == "session"]
    assert session_cookies, [c["name"] for c in context.cookies()]
    context.clear_cookies(name="session")
    second.goto(journey.url("/curriculum/review"))
    journey.check(second, "second-reviewer-queue")
    row = second.locator(f"tr[data-version='{waiting_id}']")
    assert WAITING[language] in row.inner_text()

    row.locator(f"a[href$='/versions/{waiting_id}']").click()
    second.wait_for_url(f"**/versions/{waiting_id}")
    journey.check(second, "second-reviewer-version")
    decision = second.locator("form[action$='/decide']")
    decision.locator("input[name=decision][value=approve]").check()
    with second.expect_navigation():
        decision.locator("button[type=submit]").click()
    # Approving is a sensitive action: the password is asked for again, and nothing
    # is recorded until the reviewer decides once more.
    second.wait_for_url(re.compile(r"/account/confirm\b"))
    journey.check(second, "confirm-password")
    assert PASSWORD_AGAIN[language] in second.inner_text("body")
    fill_by_keyboard(
        second,
        [("input[name=password]", DEMO_PASSWORD)],
        "form:has(input[name=password]) button[type=submit]",
    )
    second.wait_for_url(f"**/versions/{waiting_id}")
    assert APPROVED[language] not in second.inner_text("section[aria-labelledby=panel-state]")
    decision = second.locator("form[action$='/decide']")
    decision.locator("input[name=decision][value=approve]").check()
    with second.expect_navigation():
        decision.locator("button[type=submit]").click()
    assert second.url.endswith(f"/versions/{waiting_id}")
    journey.check(second, "approved")
    assert RECORDED[language] in second.inner_text(".flashes")
    assert APPROVED[language] in second.inner_text("section[aria-labelledby=panel-state] .badge")

    # The approved module has left the queue; the one with a request for changes has not.
    second.click("header a[href$='/curriculum/review']")
    second.wait_for_url("**/curriculum/review")
    journey.check(second, "second-reviewer-queue-after")
    assert second.locator(f"tr[data-version='{waiting_id}']").count() == 0
    assert WAITING[language] in second.locator(f"tr[data-version='{changed_id}']").inner_text()
