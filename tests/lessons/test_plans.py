"""Lesson plans: parsing the real sample modules in three languages, the pages and the PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from curriculum import editions, review, versions
from curriculum import io as curriculum_io
from curriculum.api import ModuleInfo
from curriculum.content import Block, ModuleDocument
from curriculum.models import ModuleVersion
from curriculum.services import create_manual, get_manual
from lessons.plans import lesson_plan, plan_from_module
from lms.accounts.roles import STUDENT, TEACHER
from lms.cohorts.models import CLASS
from lms.extensions import db
from tests import factories

SAMPLE = Path(__file__).resolve().parents[2] / "curriculum" / "sample" / "health-basics"
LANGUAGES = ("en", "ru", "ky")

NO_STEPS = (
    Block("p-ns0001", "# First aid for burns", "heading"),
    Block("p-ns0002", "Cool the burn under running water for twenty minutes."),
    Block(
        "p-ns0003",
        "::: activity role-play\n**Role play (10 minutes).** One student is burnt, one helps.\n:::",
        "activity",
        "role-play",
    ),
    Block("p-ns0004", "## Questions for discussion", "heading"),
    Block("p-ns0005", "- What should you never put on a burn?\n- When do you call 103?", "list"),
)


def _approve_and_publish(manual, version_list: list[ModuleVersion]) -> None:
    """Submit every draft, approve it by a one-seat panel in its language, publish."""
    panels = {}
    for version in version_list:
        if version.language not in panels:
            panel = review.ensure_panel(manual, version.language, actor_id=None)
            reviewer = factories.user("reviewer", expertise="health")
            review.add_seat(panel, reviewer, "health", actor_id=None)
            panels[version.language] = reviewer
        versions.submit(version, actor_id=None)
        db.session.flush()
        review.decide(version, panels[version.language], "approve")
    db.session.flush()
    for language in sorted(panels):
        editions.publish(manual, language, actor_id=None)


@pytest.fixture
def published(app) -> dict[str, ModuleVersion]:
    """Health Basics with the real hand-hygiene files (en, ru, ky) and an English module
    without steps, published as edition 1 in each language."""
    manual = create_manual(slug="health-basics", title_en="Health Basics", actor_id=None)
    files = [
        (f"{lang}/01-hand-hygiene.md", (SAMPLE / lang / "01-hand-hygiene.md").read_bytes())
        for lang in LANGUAGES
    ]
    report = curriculum_io.import_files(files, actor_id=None)
    found = {version.language: version for version in report.created}
    module = versions.get_or_create_module(manual, "first-aid", 2)
    document = ModuleDocument(
        meta={
            "manual": "health-basics",
            "module": "first-aid",
            "position": 2,
            "language": "en",
            "title": "First aid for burns",
            "objectives": ["Cool a burn safely."],
            "duration_minutes": 45,
            "materials": ["a jug of water"],
        },
        blocks=NO_STEPS,
    )
    found["no-steps"] = versions.create_draft(module, document, author_id=None)
    _approve_and_publish(manual, list(found.values()))
    db.session.commit()
    return found


def _teacher(language: str = "en"):
    teacher = factories.user("teacher", language=language)
    group = factories.cohort(CLASS, name="Grade 7", manual="health-basics")
    factories.member(group, teacher, TEACHER)
    db.session.commit()
    return teacher


def _client(app, person):
    db.session.commit()
    client = app.test_client()
    factories.login(client, person)
    return client


FIRST_TITLES = {
    "en": "Purity in faith and health",
    "ru": "Чистота в вере и здоровье",
    "ky": "Ыймандагы жана ден соолуктагы тазалык",
}
FIRST_QUESTIONS = {
    "en": "Why can hands that look clean still make someone ill?",
    "ru": "Почему",
    "ky": "эмне үчүн",
}
QUESTION_HEADINGS = {
    "en": "Questions for discussion",
    "ru": "Вопросы для обсуждения",
    "ky": "Талкуу үчүн суроолор",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_hand_hygiene_gives_five_timed_steps_in_every_language(published, language):
    plan = lesson_plan(published[language].id)
    assert [s.number for s in plan.steps] == [1, 2, 3, 4, 5]
    assert [s.minutes for s in plan.steps] == [10, 25, 15, 25, 15]
    assert [s.start for s in plan.steps] == [0, 10, 35, 50, 75]
    assert plan.planned_minutes == plan.duration_minutes == 90
    assert plan.warnings == ()
    assert plan.steps[0].title == FIRST_TITLES[language]
    (group_work,) = plan.steps[1].activities
    assert (group_work.kind, group_work.minutes, group_work.inside) == ("group-work", 15, True)
    (case_study,) = plan.steps[3].activities
    assert (case_study.kind, case_study.minutes) == ("case-study", 15)
    assert len(plan.questions) == 4
    assert plan.questions_heading == QUESTION_HEADINGS[language]
    assert FIRST_QUESTIONS[language].casefold() in plan.questions[0].casefold()
    assert len(plan.module.objectives) == 4 and plan.module.materials


def test_module_without_steps_keeps_facts_activities_and_questions(published):
    plan = lesson_plan(published["no-steps"].id)
    assert plan.steps == () and not plan.has_steps and plan.warnings == ()
    (activity,) = plan.loose_activities
    assert (activity.kind, activity.minutes, activity.step) == ("role-play", 10, None)
    assert plan.questions == ("What should you never put on a burn?", "When do you call 103?")
    assert plan.module.materials == ["a jug of water"]


def _info(blocks: list[tuple[str, str]], duration: int = 90, language: str = "en") -> ModuleInfo:
    return ModuleInfo(
        version_id=1,
        module_slug="m",
        position=1,
        language=language,
        number=1,
        title="M",
        duration_minutes=duration,
        blocks=[(f"p-{i:06d}", kind, text, "") for i, (kind, text) in enumerate(blocks)],
    )


def test_activities_timed_after_their_step_count_when_the_steps_fall_short(app):
    """Some modules add an activity's minutes after the step (the steps alone are short)."""
    plan = plan_from_module(
        _info(
            [
                ("paragraph", "**Step 1 (10 minutes). Opening.** Greet."),
                ("activity", "::: activity energiser\n**Myth or fact? (15 minutes).** Go.\n:::"),
                ("paragraph", "**Step 2 (5 minutes). Closing.** Bye."),
            ],
            duration=30,
        )
    )
    assert [(s.total_minutes, s.start, s.end) for s in plan.steps] == [(25, 0, 25), (5, 25, 30)]
    assert plan.steps[0].activities[0].inside is False and plan.warnings == ()


def test_a_timing_mismatch_and_odd_numbering_are_warned(app):
    plan = plan_from_module(
        _info(
            [
                ("paragraph", "**Шаг 1 (10 минут). Начало.** Текст."),
                ("paragraph", "**Шаг 3 (21 минута). Разбор.** Текст."),
            ],
            duration=45,
            language="ru",
        )
    )
    assert [s.minutes for s in plan.steps] == [10, 21]
    messages = [str(w) for w in plan.warnings]
    assert any("31 minutes" in m and "45 minutes" in m for m in messages)
    assert any("numbered" in m for m in messages)


def test_teacher_sees_the_plan_with_timing_and_a_link_to_the_reader(app, published):
    client = _client(app, _teacher())
    response = client.get(f"/lessons/plans/{published['en'].id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Clean hands and safe water" in page
    assert "Purity in faith and health" in page
    assert "10–35" in page and "75–90" in page
    assert "Why can hands that look clean still make someone ill?" in page
    assert "soap, a jug of water, a basin and a clean towel" in page
    assert "/curriculum/health-basics/editions/en/1/hand-hygiene" in page
    assert f"/lessons/plans/{published['en'].id}.pdf" in page


def test_page_says_when_steps_cannot_be_found(app, published):
    client = _client(app, _teacher())
    page = client.get(f"/lessons/plans/{published['no-steps'].id}").get_data(as_text=True)
    assert "could not be found" in page
    assert "What should you never put on a burn?" in page and "Role play" in page
    assert "after the step" not in page  # there is no step to come after


def test_students_may_not_see_lesson_plans(app, published):
    client = _client(app, factories.user(STUDENT))
    assert client.get(f"/lessons/plans/{published['en'].id}").status_code == 403
    assert client.get(f"/lessons/plans/{published['en'].id}.pdf").status_code == 403
    assert client.get("/lessons/plans").status_code == 403


def test_signed_out_visitors_are_sent_to_log_in(app, published):
    response = app.test_client().get(f"/lessons/plans/{published['en'].id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_unpublished_versions_have_no_plan(app, published):
    manual = get_manual("health-basics")
    module = versions.get_or_create_module(manual, "first-aid", 2)
    document = ModuleDocument(
        meta={
            "manual": "health-basics",
            "module": "first-aid",
            "position": 2,
            "language": "en",
            "title": "First aid, second draft",
            "objectives": ["x"],
            "duration_minutes": 45,
        },
        blocks=NO_STEPS,
    )
    draft = versions.create_draft(module, document, author_id=None, change_summary="Retitled.")
    client = _client(app, _teacher())
    assert client.get(f"/lessons/plans/{draft.id}").status_code == 404
    versions.submit(draft, actor_id=None)  # submitted, in review, but in no edition
    db.session.commit()
    assert client.get(f"/lessons/plans/{draft.id}").status_code == 404
    assert client.get("/lessons/plans/999999").status_code == 404


def test_index_lists_the_modules_of_the_cohorts_edition(app, published):
    client = _client(app, _teacher(language="ky"))
    page = client.get("/lessons/plans").get_data(as_text=True)
    assert "Grade 7" in page
    assert f"/lessons/plans/{published['ky'].id}" in page
    assert "Таза колдор жана коопсуз суу" in page
    assert f'/lessons/plans/{published["en"].id}"' not in page


@pytest.mark.slow
def test_kyrgyz_plan_prints_in_kyrgyz_on_at_most_two_pages(app, published):
    client = _client(app, _teacher())
    response = client.get(f"/lessons/plans/{published['ky'].id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "lesson-plan-hand-hygiene-ky.pdf" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert 1 <= len(reader.pages) <= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(letter in text for letter in "ңөү")
    assert "Таза колдор жана коопсуз суу" in text
    assert "Жыйынтыктоо" in text  # the title of step 5
    assert "Талкуу үчүн суроолор" in text  # the module's own heading over the questions


@pytest.mark.slow
def test_english_plan_fits_on_two_pages(app, published):
    client = _client(app, _teacher())
    response = client.get(f"/lessons/plans/{published['en'].id}.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) <= 2
    assert "Purity in faith and health" in "".join(p.extract_text() for p in reader.pages)
