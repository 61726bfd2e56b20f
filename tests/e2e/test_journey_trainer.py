"""A trainer runs a Training of Trainers on a desktop, in English, Russian and Kyrgyz.

She creates a ToT from the three-day template, adds two participants, marks attendance at
its first session, adds and scores a practice lesson on the rubric; then, in the sample
Health Basics ToT, she opens the pre-test and post-test results and the learning gains,
marks two more participants as completed and issues their certificates in bulk: the PDFs
are made by a background job whose page shows a progress bar, and once it has finished
she downloads every certificate of the cohort as one ZIP to print.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from certificates.models import VALID, Certificate
from lessons import practice
from lms.accounts.models import User
from lms.cohorts.models import TOT, Cohort
from lms.extensions import db
from lms.organisations.models import Region
from quizzes import attempts
from quizzes.models import Quiz
from tests.e2e.harness import LANGUAGES, log_in

pytestmark = pytest.mark.slow

#: Rendering certificates with WeasyPrint takes a few seconds each on a small machine.
JOB_TIMEOUT_MS = 120_000

#: The session page's count of who was there (lessons/templates/lessons/session.html).
PRESENT = {
    "en": "{present} of {total} present",
    "ru": "Присутствовали: {present} из {total}",
    "ky": "Катышкандар: {total} ичинен {present}",
}


# --- arranging what the participants did before the trainer looks -------------------------


def _right_response(qtype: Any, data: dict[str, Any]) -> Any:
    """The answer that earns full marks, as the attempt form would have saved it."""
    kind = qtype.id
    if kind == "truefalse":
        return bool(data.get("correct"))
    answers = [a for a in data.get("answers") or [] if isinstance(a, dict)]
    fractions = [float(a.get("fraction") or 0) for a in answers]
    if kind == "multichoice":
        if data.get("single", True):
            return [fractions.index(max(fractions))]
        return [i for i, fraction in enumerate(fractions) if fraction > 0]
    if kind in ("shortanswer", "numerical"):
        best = answers[fractions.index(max(fractions))]
        return str(best.get("text") if kind == "shortanswer" else best.get("value"))
    if kind == "match":
        return {str(index): right for index, _left, right in qtype.real_pairs(data)}
    return "Keep the water in a covered container. (sample)"


def _take(quiz: Quiz, learner: User, grader: User, *, right: bool) -> None:
    """A learner's submitted attempt, all wrong (blank) or all right; essays graded."""
    attempt = attempts.start_attempt(quiz, learner, attempts.new_key())
    for answer in attempt.answers:
        qtype = attempts.type_of(answer.question_version.qtype)
        if right and qtype is not None and qtype.answerable:
            answer.response = _right_response(qtype, answer.question_version.data or {})
    db.session.flush()
    attempts.submit_attempt(attempt, learner)
    for answer in attempt.answers:
        qtype = attempts.type_of(answer.question_version.qtype)
        if qtype is not None and qtype.manual:
            attempts.grade_manually(answer.id, grader, mark=answer.max_mark if right else 0.0)


def _arrange(site: Any) -> dict[str, Any]:
    """Ids the journey needs, and two participants' pre-tests (blank) and post-tests (right)."""
    with site.app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        health = db.session.scalar(
            select(Cohort).where(Cohort.kind == TOT, Cohort.manual == "health-basics")
        )
        assert health is not None, "the demo data has the Health Basics ToT"
        quizzes = {
            q.kind: q for q in db.session.scalars(select(Quiz).where(Quiz.cohort_id == health.id))
        }
        for username in ("participant1", "participant2"):
            _take(quizzes["pre"], users[username], users["trainer"], right=False)
            _take(quizzes["post"], users[username], users["trainer"], right=True)
        db.session.commit()
        ids = {
            "osh": db.session.scalar(select(Region.id).where(Region.code == "osh-region")),
            "health": health.id,
            "pre": quizzes["pre"].id,
            "users": {name: user.id for name, user in users.items()},
            "names": {name: user.name for name, user in users.items()},
        }
        db.session.remove()
    return ids


def _rubric(site: Any, cohort_id: int) -> list[tuple[str, str]]:
    """(criterion id, dimension) of the cohort's rubric: the score form's radio groups."""
    with site.app.app_context():
        rubric = practice.get_rubric(cohort_id)
        found = [(criterion.id, criterion.dimension) for criterion in rubric.active]
        db.session.remove()
    return found


def _valid_certificates(site: Any, cohort_id: int) -> int:
    with site.app.app_context():
        count = len(
            db.session.scalars(
                select(Certificate.id).where(
                    Certificate.cohort_id == cohort_id, Certificate.status == VALID
                )
            ).all()
        )
        db.session.remove()
    return count


# --- the journey ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_trainer_runs_a_tot_and_issues_its_certificates(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    ids = _arrange(site)
    users, names = ids["users"], ids["names"]
    journey, page = open_journey("trainer", site, language)

    log_in(page, site.url, "trainer")
    journey.check(page, "home")

    # My teaching → a new ToT from the three-day template, previewed, then created.
    page.click("header nav a[href='/lessons/']")
    journey.check(page, "teaching")
    page.click("main a[href='/lessons/tot/new']")
    journey.check(page, "tot-new")
    name = "ToT: Health Basics, Kara-Suu (e2e)"
    page.fill("#name", name)
    page.select_option("#region_id", str(ids["osh"]))
    page.fill("#venue", "Kara-Suu, district hall")
    page.fill("#starts_on", date.today().isoformat())
    page.select_option("#manual", "health-basics")
    page.select_option("#language", language)
    page.click("button[name=action][value=preview]")
    expect(page.locator("#preview-h ~ .card")).to_have_count(3)  # one card per day
    journey.check(page, "tot-preview")
    page.click("button[name=action][value=create]")
    page.wait_for_url(re.compile(r"/cohorts/\d+$"))
    cohort_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator(f".flash a[href='/lessons/cohorts/{cohort_id}/tot']")).to_be_visible()

    # Two participants join by their user names.
    for username in ("participant4", "participant2"):
        page.fill("#username", username)
        page.select_option("#role", "participant")
        page.click(f"form[action='/cohorts/{cohort_id}/members'] button[type=submit]")
        expect(page.locator("#group-participant + p + .table-wrap")).to_contain_text(
            names[username]
        )
    journey.check(page, "tot-created")

    # The plan by day, then attendance at the first session: one of the two was absent.
    page.click(f"a[href='/lessons/cohorts/{cohort_id}/tot']")
    journey.check(page, "tot-plan")
    page.goto(journey.url(f"/lessons/cohorts/{cohort_id}/sessions"))
    journey.check(page, "schedule")
    page.locator("a[href$='/record']").first.click()
    journey.check(page, "attendance")
    page.check(f"input[name=mark_{users['participant2']}][value=absent]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/lessons/sessions/\d+$"))
    expect(page.locator("main")).to_contain_text(PRESENT[language].format(present=1, total=2))
    journey.check(page, "attendance-saved")

    # A practice lesson by participant4, scored on the rubric: content 5, methodology 4.
    page.goto(journey.url(f"/lessons/cohorts/{cohort_id}/practice"))
    page.select_option("#participant_id", str(users["participant4"]))
    page.select_option("#module_version_id", index=1)
    page.click("form[action$='/practice#add'] button[type=submit]")
    journey.check(page, "practice")
    page.click(f"nav a[href='/lessons/cohorts/{cohort_id}/rubric']")
    journey.check(page, "rubric")
    page.go_back()
    page.locator("main a[href$='/score']").first.click()
    journey.check(page, "score")
    for criterion_id, dimension in _rubric(site, cohort_id):
        mark = "5" if dimension == "content" else "4"
        page.check(f"input[name=c_{criterion_id}][value='{mark}']")
    page.fill("#comment", "Clear objectives; more group work next time.")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/lessons/cohorts/{cohort_id}/practice$"))
    row = page.locator("main tbody tr", has_text=names["participant4"])
    expect(row).to_contain_text(re.compile(r"5[.,]0"))
    expect(row).to_contain_text(re.compile(r"4[.,]0"))
    journey.check(page, "practice-scored")

    # The sample Health Basics ToT: the pre-test's results and the gains.
    health = ids["health"]
    page.goto(journey.url(f"/quizzes/cohorts/{health}/quizzes"))
    journey.check(page, "quizzes")
    page.click(f"a[href='/quizzes/quizzes/{ids['pre']}/results']")
    journey.check(page, "pre-test-results")
    for username in ("participant1", "participant2"):
        expect(page.locator("main tr", has_text=names[username])).to_contain_text("0%")
    page.goto(journey.url(f"/quizzes/cohorts/{health}/gains"))
    journey.check(page, "gains")
    for username in ("participant1", "participant2"):
        expect(page.locator("main tr", has_text=names[username])).to_contain_text("100")

    # Two more participants completed: mark them, then issue to all who completed.
    page.goto(journey.url(f"/cohorts/{health}"))
    for username in ("participant4", "teacher"):
        page.click(
            f"form[action='/cohorts/{health}/completion/{users[username]}'] button[value=completed]"
        )
    before = _valid_certificates(site, health)
    page.goto(journey.url(f"/certificates/cohorts/{health}"))
    journey.check(page, "certificates")
    page.click(f"form[action='/certificates/cohorts/{health}/issue'] button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    progress = page.locator("progress.progress")
    expect(progress).to_be_visible()
    # The page refreshes itself until the job has finished; wait for the full bar.
    expect(progress).to_have_attribute("value", "100", timeout=JOB_TIMEOUT_MS)
    journey.check(page, "job-finished")
    page.click(f"main a.button[href='/certificates/cohorts/{health}']")
    journey.check(page, "certificates-issued")
    issued = _valid_certificates(site, health)
    assert issued == before + 2
    expect(page.locator("main tbody tr", has_text=names["participant4"])).to_have_count(1)
    with page.expect_download() as download:
        page.click(f"a[href='/certificates/cohorts/{health}/certificates.zip']")
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == issued == len(archive.namelist())
        assert all(archive.read(n).startswith(b"%PDF") for n in pdfs)
        assert any("Saltanat" in n for n in pdfs)
