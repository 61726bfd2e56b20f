"""A madrasa teacher, on a phone, prepares and teaches a lesson and keeps the class record —
in English, Russian and Kyrgyz.

They read a module of the published manual (its Arabic quotation right to left), open the
lesson plan of a module they teach and download it, put a lesson on the class schedule,
record it with attendance, see it in the class progress grid, and type a paper quiz's
answer sheet in with the keyboard alone; the grid then shows the quiz's result too.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.class_quiz import TITLE, publish_class_quiz
from tests.e2e.harness import LANGUAGES, Journey, fill_by_keyboard, log_in, sideways_overflow

pytestmark = pytest.mark.slow

#: The day the teacher puts the lesson on the schedule (within the demo class's year).
LESSON_DAY = date(2026, 10, 27)
#: That day as the schedule prints it (Babel's medium date of each locale), and the
#: first lesson of the demo class (6 October 2026): month names in the reader's language.
SCHEDULE_DATES = {
    "en": ("Oct 27, 2026", "Oct 6, 2026"),
    "ru": ("27 окт. 2026 г.", "6 окт. 2026 г."),
    "ky": ("2026-ж., 27-окт.", "2026-ж., 6-окт."),
}
#: The long date on the lesson's own page.
LONG_DATES = {"en": "October 27, 2026", "ru": "27 октября 2026 г.", "ky": "2026-ж., 27-октябрь"}
#: Messages the teacher sees (from lms/translations/*/LC_MESSAGES/messages.po).
ADDED = {
    "en": "The session has been added to the schedule.",
    "ru": "Занятие добавлено в расписание.",
    "ky": "Сабак графикке кошулду.",
}
SAVED = {
    "en": "The lesson and its attendance have been saved.",
    "ru": "Занятие и посещаемость сохранены.",
    "ky": "Сабак жана катышуу сакталды.",
}
PAPER_SAVED = {
    "en": "Saved for Bektur Sultanov: 67%.",
    "ru": "Сохранено для Bektur Sultanov: 67%.",
    "ky": "Bektur Sultanov үчүн сакталды: 67%.",
}
#: The learner the teacher marks absent, then enters a paper sheet for (demo user student2).
ABSENT = "Bektur Sultanov"


def _check(journey: Journey, page: Any, step: str) -> None:
    """The checks of every page, and one more for a phone: the page scrolls down only."""
    journey.check(page, step)
    extra, culprits = sideways_overflow(page)
    assert not extra, f"{journey.name}/{step} is {extra}px wider than the phone: {culprits}"


def _text(locator: Any) -> str:
    """What a reader sees, with the narrow and non-breaking spaces of dates as spaces."""
    return " ".join(locator.inner_text().replace("\u202f", " ").split())


def _row(page: Any, name: str) -> Any:
    """A learner's row of a table, found by the name in its row header."""
    return page.locator("tbody tr", has=page.locator("th[scope=row]", has_text=name))


def _fact(page: Any, position: int) -> str:
    """The value of the n-th fact (from 1) of the page's facts list."""
    return _text(page.locator("dl.facts dd").nth(position - 1))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_teacher_plans_teaches_and_records_a_lesson(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    made = publish_class_quiz(site.app)
    absent_id = made.users["student2"]
    journey, page = open_journey("teacher", site, language, phone=True)

    log_in(page, site.url, "teacher")
    _check(journey, page, "home")

    # --- The manual: a module with an Arabic quotation, set right to left. ---------------
    page.click("main a[href='/curriculum/health-basics']")
    page.wait_for_url("**/curriculum/health-basics")
    _check(journey, page, "manual")
    page.click("main a[href='/curriculum/health-basics/editions']")
    page.wait_for_url("**/curriculum/health-basics/editions")
    _check(journey, page, "editions")
    page.click("main a[href='/curriculum/health-basics/read']")
    page.wait_for_url(f"**/curriculum/health-basics/editions/{language}/1")
    _check(journey, page, "edition")
    page.click("main a[href$='/1/hand-hygiene']")
    page.wait_for_url("**/hand-hygiene")
    _check(journey, page, "module")
    arabic = page.locator("main [dir=rtl]", has_text="الطُّهُورُ").first
    assert arabic.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
    assert arabic.evaluate("(el) => getComputedStyle(el).textAlign") in ("right", "start")

    # --- The lesson plan of a module of the class, and its PDF. -------------------------
    page.goto(journey.url("/lessons/"))
    _check(journey, page, "my-teaching")
    page.click("main a[href='/lessons/plans']")
    page.wait_for_url("**/lessons/plans")
    _check(journey, page, "plans")
    first_plan = page.locator("main ol a[href^='/lessons/plans/']").first
    module_title = first_plan.inner_text().strip()
    first_plan.click()
    page.wait_for_url("**/lessons/plans/*")
    _check(journey, page, "plan")
    assert page.locator("h1").inner_text().strip() == module_title
    assert page.locator("table.timing tbody tr").count() >= 2, "the plan is timed step by step"
    with page.expect_download() as download:
        page.click("main a[href$='.pdf']")
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(p.extract_text() or "" for p in pdf.pages)
    assert module_title.split()[0] in text, "the printed plan is the module's"

    # --- Put a lesson on the schedule. ---------------------------------------------------
    page.goto(journey.url(f"/lessons/cohorts/{made.cohort_id}/sessions"))
    _check(journey, page, "schedule")
    new_day, demo_day = SCHEDULE_DATES[language]
    assert demo_day in _text(page.locator("main")), (
        "dates are written as the reader's language does"
    )
    page.fill("#plan-held_on", LESSON_DAY.isoformat())
    modules = page.locator("#plan-module_version_id option")
    page.select_option("#plan-module_version_id", index=modules.count() - 1)
    with page.expect_navigation():
        page.click("form[action$='/sessions'] button[type=submit]")
    _check(journey, page, "planned")
    assert ADDED[language] in page.locator(".flash.success").inner_text()
    rows = [r for r in page.locator("tbody tr").all() if _text(r.locator("td").first) == new_day]
    assert len(rows) == 1, f"the schedule lists the lesson of {new_day}"
    row = rows[0]

    # --- Teach it: everyone present but one learner. --------------------------------------
    row.locator("a[href$='/record']").click()
    page.wait_for_url("**/record")
    _check(journey, page, "record")
    assert page.locator(f"input[name=mark_{absent_id}][value=present]").is_checked()
    page.locator(f"label:has(input[name=mark_{absent_id}][value=absent])").click()
    page.fill("#notes", "Role play went well; Bektur was ill.")
    with page.expect_navigation():
        page.click(".save-bar button[type=submit]")
    _check(journey, page, "recorded")
    assert SAVED[language] in page.locator(".flash.success").inner_text()
    assert LONG_DATES[language] in _fact(page, 1)
    assert _row(page, ABSENT).locator(".badge.off").count() == 1, "marked absent"
    assert page.locator("tbody .badge.ok").count() == 3, "the three others present"

    # --- The class progress grid counts it. -----------------------------------------------
    page.goto(journey.url(f"/lessons/cohorts/{made.cohort_id}/progress"))
    _check(journey, page, "progress")
    assert _fact(page, 2) == "3", "three lessons held: the demo's two and this one"
    # 2 of 3 attended: rounded down, so a learner shown at 80% really reached 80%.
    assert "66" in _row(page, ABSENT).locator("td").nth(-2).inner_text()
    assert "100" in _row(page, "Adilet Kasymov").locator("td").nth(-2).inner_text()

    # --- A quiz taken on paper: the answer sheet typed in with the keyboard alone. ----------
    page.goto(journey.url(f"/quizzes/quizzes/{made.quiz_id}"))
    _check(journey, page, "quiz")
    page.click(f"main a[href$='/quizzes/{made.quiz_id}/paper-entry']")
    page.wait_for_url("**/paper-entry")
    _check(journey, page, "paper-entry")
    page.select_option("#user_id", str(absent_id))
    with page.expect_navigation():
        page.click("form.inline button[type=submit]")
    _check(journey, page, "paper-sheet")
    # One of three wrong: the true-or-false statement is true ("A").
    sheet = [("#q1", made.paper_letters["q1"]), ("#q2", "B"), ("#q3", "20")]
    with page.expect_navigation():
        fill_by_keyboard(page, sheet, "form[method=post] button[type=submit]")
    _check(journey, page, "paper-saved")
    assert PAPER_SAVED[language] in page.locator(".flash.success").inner_text()
    assert "✓" in page.locator(f"#user_id option[value='{absent_id}']").inner_text()

    page.goto(journey.url(f"/lessons/cohorts/{made.cohort_id}/progress"))
    _check(journey, page, "progress-quiz")
    headers = [text.strip() for text in page.locator("thead th").all_inner_texts()]
    column = next(i for i, text in enumerate(headers) if TITLE in text)
    cell = _row(page, ABSENT).locator("th, td").nth(column)
    assert cell.locator(".badge.ok").count() == 1, "the paper quiz is passed (67% ≥ 60%)"
