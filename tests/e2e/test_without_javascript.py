"""The teacher's and the student's key pages with JavaScript switched off in the browser.

Old phones, data-saving browsers and school computers with scripts blocked must still work:
every page is server-rendered, every action a plain form. Here a teacher records a lesson
with attendance and a student takes a quiz, both without a line of JavaScript run.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.class_quiz import QUESTIONS, publish_class_quiz
from tests.e2e.harness import log_in

pytestmark = pytest.mark.slow

#: One language is enough here: the journeys cover the three.
LANGUAGE = "ru"
SAVED = "Занятие и посещаемость сохранены."
#: axe-core cannot run here: with scripts off its timers never fire and ``axe.run`` never
#: settles. The journeys hold the same pages to it with JavaScript on; no page changes
#: with JavaScript, so what it would find here it finds there.
AXE = False


def _scripts_are_off(page: Any) -> None:
    """A page's own script does not run in this browser (Playwright's evaluate, which the
    checks use, still works from outside the page)."""
    page.set_content("<p id=state>off</p><script>state.textContent = 'on'</script>")
    assert page.inner_text("#state") == "off"


def test_a_teacher_records_a_lesson_without_javascript(demo_site: Any, open_journey: Any) -> None:
    site = demo_site(LANGUAGE)
    made = publish_class_quiz(site.app)
    absent_id = made.users["student3"]
    journey, page = open_journey("no-javascript-teacher", site, LANGUAGE, javascript=False)
    _scripts_are_off(page)

    log_in(page, site.url, "teacher")
    journey.check(page, "home", axe=AXE)
    for step, path in (
        ("module", f"/curriculum/health-basics/editions/{LANGUAGE}/1/hand-hygiene"),
        ("plans", "/lessons/plans"),
        ("progress", f"/lessons/cohorts/{made.cohort_id}/progress"),
        ("paper-entry", f"/quizzes/quizzes/{made.quiz_id}/paper-entry"),
        ("schedule", f"/lessons/cohorts/{made.cohort_id}/sessions"),
    ):
        answer = page.goto(journey.url(path))
        assert answer is not None and answer.ok, f"{path}: {answer and answer.status}"
        journey.check(page, step, axe=AXE)
    held = len(page.locator("tbody tr").all())

    # "Record a lesson now": today's lesson of the first module, then the attendance.
    page.select_option("#now-module_version_id", index=1)
    with page.expect_navigation():
        page.click("form[action$='/sessions/now'] button[type=submit]")
    page.wait_for_url("**/record")
    journey.check(page, "record", axe=AXE)
    page.locator(f"label:has(input[name=mark_{absent_id}][value=excused])").click()
    with page.expect_navigation():
        page.click(".save-bar button[type=submit]")
    page.wait_for_url("**/lessons/sessions/*")
    journey.check(page, "recorded", axe=AXE)
    assert SAVED in page.locator(".flash.success").inner_text()
    assert page.locator("tbody tr").count() == 4, "every learner of the class is marked"

    page.goto(journey.url(f"/lessons/cohorts/{made.cohort_id}/sessions"))
    assert page.locator("tbody tr").count() == held + 1


def test_a_student_takes_a_quiz_without_javascript(demo_site: Any, open_journey: Any) -> None:
    site = demo_site(LANGUAGE)
    made = publish_class_quiz(site.app)
    journey, page = open_journey("no-javascript-student", site, LANGUAGE, javascript=False)
    _scripts_are_off(page)

    log_in(page, site.url, "student")
    journey.check(page, "home", axe=AXE)
    for step, path in (
        ("progress", "/lessons/me"),
        ("certificates", "/certificates/"),
        ("class", f"/cohorts/{made.cohort_id}"),
        ("quiz", f"/quizzes/quizzes/{made.quiz_id}"),
    ):
        answer = page.goto(journey.url(path))
        assert answer is not None and answer.ok, f"{path}: {answer and answer.status}"
        journey.check(page, step, axe=AXE)

    with page.expect_navigation():
        page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url("**/quizzes/attempts/*")
    journey.check(page, "questions", axe=AXE)
    for (_name, answer), question in zip(
        QUESTIONS, page.locator("section.question").all(), strict=True
    ):
        choice = question.locator(f"input[value='{answer}']")
        if choice.count():
            choice.check()
        else:
            question.locator("input[type=text]").fill(answer)
    with page.expect_navigation():
        page.click("button[name=action][value=finish]")
    page.wait_for_url("**/summary")
    journey.check(page, "summary", axe=AXE)
    with page.expect_navigation():
        page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url("**/review")
    journey.check(page, "result", axe=AXE)
    assert "100%" in page.locator("dl.facts dd").last.inner_text()
