"""A student, on a phone, takes their class's final quiz, sees the result and their progress,
and downloads their certificate — in English, Russian and Kyrgyz."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.class_quiz import QUESTIONS, TITLE, publish_class_quiz
from tests.e2e.harness import LANGUAGES, Journey, log_in, sideways_overflow

pytestmark = pytest.mark.slow

#: The demo student (lms/demo.py), whose name the certificate carries.
STUDENT = "Aiperi Toktosunova"
#: How the review marks a right answer (msgctxt "answer": not the verb of "Correct a lesson").
RIGHT = {"en": "Correct", "ru": "Верно", "ky": "Туура"}


def _check(journey: Journey, page: Any, step: str) -> None:
    """The checks of every page, and one more for a phone: the page scrolls down only."""
    journey.check(page, step)
    extra, culprits = sideways_overflow(page)
    assert not extra, f"{journey.name}/{step} is {extra}px wider than the phone: {culprits}"


def _class_progress(page: Any, cohort_id: int) -> Any:
    """The student's own progress card of the class."""
    return page.locator("section.card", has=page.locator(f"h2#cohort-{cohort_id}"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_student_takes_a_quiz_and_downloads_a_certificate(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    made = publish_class_quiz(site.app)
    journey, page = open_journey("student", site, language, phone=True)

    log_in(page, site.url, "student")
    _check(journey, page, "home")

    # Before: the class's final quiz is what is missing for completion.
    page.click("main a[href='/lessons/me']")
    page.wait_for_url("**/lessons/me")
    _check(journey, page, "progress-before")
    card = _class_progress(page, made.cohort_id)
    assert card.locator(".badge.ok").count() == 0, "not completed yet"
    assert TITLE in card.inner_text(), "the final quiz is listed as missing"

    # --- The quiz, found on the class's page. ------------------------------------------------
    page.goto(journey.url("/"))
    page.click(f"main a[href='/cohorts/{made.cohort_id}']")
    page.wait_for_url(f"**/cohorts/{made.cohort_id}")
    _check(journey, page, "class")
    page.click(f"main a[href='/quizzes/quizzes/{made.quiz_id}']")
    page.wait_for_url(f"**/quizzes/quizzes/{made.quiz_id}")
    _check(journey, page, "quiz")
    with page.expect_navigation():
        page.click(f"form[action$='/quizzes/{made.quiz_id}/start'] button[type=submit]")
    page.wait_for_url("**/quizzes/attempts/*")
    _check(journey, page, "questions")
    questions = page.locator("section.question")
    assert questions.count() == len(QUESTIONS)
    for (_name, answer), question in zip(QUESTIONS, questions.all(), strict=True):
        choice = question.locator(f"input[value='{answer}']")
        if choice.count():
            question.locator(f"label:has(input[value='{answer}'])").click()
            assert choice.is_checked()
        else:
            question.locator("input[type=text]").fill(answer)
    with page.expect_navigation():
        page.click("button[name=action][value=finish]")
    page.wait_for_url("**/summary")
    _check(journey, page, "summary")
    with page.expect_navigation():
        page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url("**/review")
    _check(journey, page, "result")
    result = page.locator("dl.facts dd").last
    assert "100%" in result.inner_text() and "(3 / 3)" in result.inner_text()
    assert result.locator(".badge.ok").count() == 1, "passed"
    marks = page.locator("section.question p.right").all_inner_texts()
    assert [mark.strip() for mark in marks] == [RIGHT[language]] * len(QUESTIONS)

    # After: the class is completed.
    page.goto(journey.url("/lessons/me"))
    _check(journey, page, "progress-after")
    card = _class_progress(page, made.cohort_id)
    assert card.locator(".badge.ok").count() == 1, "completed"
    assert TITLE not in card.inner_text()

    # --- The certificate of last year's class, as a PDF. ----------------------------------
    page.goto(journey.url("/certificates/"))
    _check(journey, page, "certificates")
    page.click("main a[href^='/certificates/']:not([href$='.pdf'])")
    page.wait_for_url(re.compile(r"/certificates/\d+$"))
    _check(journey, page, "certificate")
    with page.expect_download() as download:
        page.click("main a[href$='/certificate.pdf']")
    content = download.value.path().read_bytes()
    assert content.startswith(b"%PDF-"), "the download is a PDF"
    assert download.value.suggested_filename.endswith(".pdf")
    text = " ".join(sheet.extract_text() or "" for sheet in PdfReader(io.BytesIO(content)).pages)
    assert STUDENT in " ".join(text.split()), "the certificate carries the student's name"
