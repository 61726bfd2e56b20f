"""Questions in a bank: the services (versioning rule, translations, archive) and the pages."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from curriculum.services import create_manual
from curriculum.versions import get_or_create_module
from lms.audit.models import AuditEntry
from lms.errors import Conflict, Invalid
from lms.extensions import db
from quizzes import questions
from quizzes.models import Answer, Attempt, Question, QuestionBank, QuestionVersion, Quiz
from tests import factories
from tests.conftest import PG_URL

MC_DATA = {
    "single": True,
    "shuffle": True,
    "answers": [
        {"text": "Bishkek", "format": "moodle", "fraction": 1.0, "feedback": "Yes."},
        {"text": "Osh", "format": "moodle", "fraction": 0.0, "feedback": "No."},
    ],
}


@pytest.fixture
def bank(app: Any) -> QuestionBank:
    manual = create_manual(slug="civics", title_en="Civic Education", actor_id=None)
    get_or_create_module(manual, "rights", 1)
    get_or_create_module(manual, "duties", 2)
    made = QuestionBank(name="Civics pre-test", manual_slug="civics")
    db.session.add(made)
    db.session.flush()
    return made


def make(bank: QuestionBank, **fields: Any) -> Question:
    values: dict[str, Any] = {
        "qtype": "multichoice",
        "text": "The capital of Kyrgyzstan?",
        "data": MC_DATA,
        "actor_id": None,
        **fields,
    }
    return questions.create_question(bank, **values)


def answer_version(version: QuestionVersion) -> Answer:
    """An attempt's answer pointing at ``version``, as the attempt engine would write it."""
    learner = factories.user("student")
    quiz = Quiz(title="Quiz")
    db.session.add(quiz)
    db.session.flush()
    attempt = Attempt(quiz_id=quiz.id, user_id=learner.id, idempotency_key=f"k{version.id}")
    db.session.add(attempt)
    db.session.flush()
    answer = Answer(attempt_id=attempt.id, position=1, question_version_id=version.id)
    db.session.add(answer)
    db.session.flush()
    return answer


# --- services ------------------------------------------------------------------------------


def test_create_makes_version_one_and_is_audited(bank):
    question = make(bank, name="", module_slug="rights", language="ky", default_mark=2)
    version = questions.latest_version(question)
    assert version.number == 1 and version.qtype == "multichoice"
    assert version.data == MC_DATA and version.default_mark == 2.0
    assert question.name == "The capital of Kyrgyzstan?"  # named after its text
    assert (question.module_slug, question.language) == ("rights", "ky")
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "quizzes.question.create" in actions


def test_create_refuses_what_the_type_refuses(bank):
    with pytest.raises(Invalid) as caught:
        make(bank, data={"single": True, "answers": [{"text": "only", "fraction": 1.0}]})
    assert "answers" in caught.value.field_errors
    with pytest.raises(Invalid) as caught:
        make(bank, text=" ", qtype="truefalse", data={}, language="fr", module_slug="nope")
    assert set(caught.value.field_errors) >= {"text", "correct", "language", "module_slug"}
    with pytest.raises(Invalid) as caught:
        make(bank, qtype="calculated")
    assert "qtype" in caught.value.field_errors
    with pytest.raises(Invalid) as caught:
        make(bank, default_mark=-1)
    assert "default_mark" in caught.value.field_errors


def test_a_description_has_no_mark(bank):
    question = make(bank, qtype="description", data={}, default_mark=1)
    assert questions.latest_version(question).default_mark == 0.0


def test_edit_before_anyone_answered_changes_the_version_in_place(bank):
    question = make(bank)
    version = questions.latest_version(question)
    saved = questions.edit_question(
        question, text="Capital city of Kyrgyzstan?", data=MC_DATA, actor_id=None
    )
    assert saved.id == version.id and saved.number == 1
    assert saved.text == "Capital city of Kyrgyzstan?"
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == 1


def test_edit_after_an_answer_makes_a_new_version_and_the_answer_keeps_its_own(bank):
    question = make(bank)
    first = questions.latest_version(question)
    answer = answer_version(first)
    changed = {**MC_DATA, "single": False}
    saved = questions.edit_question(
        question, text="Which are cities?", data=changed, actor_id=None, expected_number=1
    )
    db.session.commit()
    assert saved.number == 2 and saved.id != first.id
    db.session.expire_all()
    assert answer.question_version.number == 1
    assert answer.question_version.text == "The capital of Kyrgyzstan?"
    assert answer.question_version.data["single"] is True
    assert questions.latest_version(question).id == saved.id
    # Version 2 has no answers yet: a further edit changes it in place.
    again = questions.edit_question(question, text="Which are towns?", data=changed, actor_id=None)
    assert again.id == saved.id and again.number == 2


def test_edit_that_changes_nothing_makes_no_version(bank):
    question = make(bank)
    answer_version(questions.latest_version(question))
    saved = questions.edit_question(
        question, text="The capital of Kyrgyzstan?", data=MC_DATA, actor_id=None, name="Capital"
    )
    assert saved.number == 1
    assert question.name == "Capital"  # question-level facts are not versioned


def test_edit_from_a_stale_form_is_a_conflict(bank):
    question = make(bank)
    answer_version(questions.latest_version(question))
    questions.edit_question(question, text="New text", data=MC_DATA, actor_id=None)
    with pytest.raises(Conflict):
        questions.edit_question(
            question, text="Other", data=MC_DATA, actor_id=None, expected_number=1
        )


def test_edit_validates_and_keeps_the_type(bank):
    question = make(bank)
    with pytest.raises(Invalid) as caught:
        questions.edit_question(question, text="x", data={"correct": True}, actor_id=None)
    assert "answers" in caught.value.field_errors  # still a multichoice


def test_translations_are_linked_one_per_language(bank):
    en = make(bank, language="en")
    ru = make(bank, language="ru", text="Столица Кыргызстана?")
    ky = make(bank, language="ky", text="Кыргызстандын борбору?")
    other_ky = make(bank, language="ky", text="Борбор шаар?")
    group = questions.link_translation(ru, en, actor_id=None)
    assert group == en.id
    questions.link_translation(ky, ru, actor_id=None)
    assert {q.id for q in questions.translations_of(en)} == {ru.id, ky.id}
    with pytest.raises(Conflict):
        questions.link_translation(other_ky, en, actor_id=None)
    with pytest.raises(Invalid):
        questions.link_translation(en, en, actor_id=None)
    with pytest.raises(Conflict):
        questions.edit_question(ru, text="x?", data=MC_DATA, language="ky", actor_id=None)
    questions.unlink_translation(en, actor_id=None)
    assert en.translation_group is None
    assert ru.translation_group == ky.translation_group == ru.id
    questions.unlink_translation(ky, actor_id=None)
    assert ru.translation_group is None


def test_translations_stay_in_their_bank(bank):
    other_bank = QuestionBank(name="Other", manual_slug="civics")
    db.session.add(other_bank)
    db.session.flush()
    with pytest.raises(Invalid):
        questions.link_translation(make(bank), make(other_bank, language="ru"), actor_id=None)


def test_list_bank_filters_and_shows_the_latest_version(bank):
    first = make(bank, module_slug="rights", name="A")
    make(bank, module_slug="duties", name="B", qtype="truefalse", data={"correct": True})
    ru = make(bank, module_slug="rights", name="C", language="ru")
    questions.link_translation(first, ru, actor_id=None)
    answer_version(questions.latest_version(first))
    questions.edit_question(first, text="v2", data=MC_DATA, actor_id=None)
    rows = questions.list_bank(bank)
    assert [(r.question.name, r.version.number) for r in rows] == [("B", 1), ("A", 2), ("C", 1)]
    assert [q.id for q in rows[1].translations] == [ru.id]
    assert [r.question.name for r in questions.list_bank(bank, module_slug="rights")] == ["A", "C"]
    assert [r.question.name for r in questions.list_bank(bank, qtype="truefalse")] == ["B"]
    assert [r.question.name for r in questions.list_bank(bank, language="ru")] == ["C"]
    questions.set_archived(first, True, actor_id=None)
    assert [r.question.name for r in questions.list_bank(bank)] == ["B", "C"]
    assert [r.question.name for r in questions.list_bank(bank, archived=True)] == ["A"]


def test_text_html_is_safe_in_every_format():
    assert str(questions.text_html("<script>x</script><b>y</b>", "html")) == "<b>y</b>"
    assert str(questions.text_html("a\nb", "moodle")) == "a<br>\nb"
    assert str(questions.text_html("<b>", "plain")) == "&lt;b&gt;"
    assert "<strong>" in str(questions.text_html("**x**", "markdown"))
    link = str(questions.text_html('<a href="javascript:alert(1)">x</a>', "html"))
    assert "javascript" not in link


# --- pages ---------------------------------------------------------------------------------


def author(client: Any) -> Any:
    trainer = factories.user("trainer")
    db.session.commit()
    factories.login(client, trainer)
    return trainer


def post_new(client: Any, bank: QuestionBank, qtype: str, **fields: Any) -> Any:
    data = {
        "name": "",
        "text": "Question text",
        "text_format": "moodle",
        "language": "en",
        "module_slug": "",
        "default_mark": "1",
        **fields,
    }
    return client.post(f"/quizzes/banks/{bank.id}/questions/new?type={qtype}", data=data)


def only_version() -> QuestionVersion:
    versions = db.session.scalars(select(QuestionVersion)).all()
    assert len(versions) == 1
    return versions[0]


def test_a_student_may_not_see_or_change_a_bank(bank, client):
    db.session.commit()
    student = factories.user("student")
    db.session.commit()
    factories.login(client, student)
    assert client.get(f"/quizzes/banks/{bank.id}").status_code == 403
    response = post_new(client, bank, "truefalse", correct="true")
    assert response.status_code == 403
    assert db.session.scalars(select(Question)).all() == []


def test_anonymous_is_sent_to_log_in(bank, client):
    db.session.commit()
    response = client.get(f"/quizzes/banks/{bank.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_unknown_bank_is_404(app, client):
    author(client)
    assert client.get("/quizzes/banks/999").status_code == 404
    assert client.get("/quizzes/questions/999").status_code == 404


def test_without_a_type_the_page_asks_for_one(bank, client):
    author(client)
    page = client.get(f"/quizzes/banks/{bank.id}/questions/new").get_data(as_text=True)
    assert "Choose the type of question" in page and "Numerical" in page
    page = client.get(f"/quizzes/banks/{bank.id}/questions/new?type=nope").get_data(as_text=True)
    assert "cannot be added here" in page


@pytest.mark.parametrize(
    "qtype",
    ["multichoice", "truefalse", "shortanswer", "numerical", "match", "essay", "description"],
)
def test_every_type_has_a_form_page(bank, client, qtype):
    author(client)
    response = client.get(f"/quizzes/banks/{bank.id}/questions/new?type={qtype}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="text"' in page
    if qtype in ("multichoice", "shortanswer", "numerical"):
        assert 'name="answers-5-fraction"' in page and 'name="answers-6-fraction"' not in page
    if qtype == "match":
        assert 'name="pairs-5-right"' in page


def test_create_multichoice_through_the_form(bank, client):
    author(client)
    response = post_new(
        client,
        bank,
        "multichoice",
        name="Capital",
        single="0",
        shuffle="y",
        module_slug="rights",
        **{
            "answers-0-text": "Bishkek",
            "answers-0-fraction": "50",
            "answers-0-feedback": "Right.",
            "answers-1-text": "Frunze",
            "answers-1-fraction": "50",
            "answers-2-text": "",
            "answers-3-text": "Osh",
            "answers-3-fraction": "-100",
            "answers-4-text": "",
            "answers-5-text": "",
        },
    )
    assert response.status_code == 302
    version = only_version()
    assert version.data == {
        "single": False,
        "shuffle": True,
        "answers": [
            {"text": "Bishkek", "format": "moodle", "fraction": 0.5, "feedback": "Right."},
            {"text": "Frunze", "format": "moodle", "fraction": 0.5, "feedback": ""},
            {"text": "Osh", "format": "moodle", "fraction": -1.0, "feedback": ""},
        ],
    }
    assert version.question.module_slug == "rights"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bishkek; Frunze" in page  # the right answer
    assert 'type="checkbox"' in page


def test_create_truefalse_through_the_form(bank, client):
    author(client)
    response = post_new(client, bank, "truefalse", correct="false", feedback_true="No.")
    assert response.status_code == 302
    assert only_version().data == {"correct": False, "feedback_true": "No.", "feedback_false": ""}


def test_create_shortanswer_through_the_form(bank, client):
    author(client)
    response = post_new(
        client,
        bank,
        "shortanswer",
        case_sensitive="y",
        **{"answers-0-text": "Ала-Тоо", "answers-0-fraction": "100", "answers-1-text": "Ала*"},
    )
    assert response.status_code == 302
    assert only_version().data == {
        "case_sensitive": True,
        "answers": [
            {"text": "Ала-Тоо", "fraction": 1.0, "feedback": ""},
            {"text": "Ала*", "fraction": 0.0, "feedback": ""},
        ],
    }


def test_create_numerical_through_the_form_with_decimal_commas(bank, client):
    author(client)
    response = post_new(
        client,
        bank,
        "numerical",
        default_mark="1,5",
        **{"answers-0-value": "3,5", "answers-0-tolerance": "0,1", "answers-0-fraction": "100"},
    )
    assert response.status_code == 302
    version = only_version()
    assert version.default_mark == 1.5
    assert version.data == {
        "answers": [{"value": 3.5, "tolerance": 0.1, "fraction": 1.0, "feedback": ""}]
    }


def test_create_match_through_the_form(bank, client):
    author(client)
    response = post_new(
        client,
        bank,
        "match",
        **{
            "pairs-0-left": "Kyrgyzstan",
            "pairs-0-right": "Bishkek",
            "pairs-1-left": "Kazakhstan",
            "pairs-1-right": "Astana",
            "pairs-2-right": "Dushanbe",
        },
    )
    assert response.status_code == 302
    assert only_version().data == {
        "pairs": [
            {"left": "Kyrgyzstan", "right": "Bishkek"},
            {"left": "Kazakhstan", "right": "Astana"},
            {"left": "", "right": "Dushanbe"},
        ]
    }


@pytest.mark.parametrize("qtype", ["essay", "description"])
def test_create_essay_and_description_through_the_form(bank, client, qtype):
    author(client)
    assert post_new(client, bank, qtype).status_code == 302
    version = only_version()
    assert version.qtype == qtype and version.data == {}
    assert version.default_mark == (0.0 if qtype == "description" else 1.0)


def test_form_errors_are_shown_next_to_the_fields(bank, client):
    author(client)
    response = post_new(
        client,
        bank,
        "multichoice",
        **{"answers-0-text": "Only one", "answers-0-fraction": "100"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give at least two answers." in page
    assert "Please correct the errors below." in page
    response = post_new(
        client,
        bank,
        "numerical",
        **{"answers-0-value": "three", "answers-0-fraction": "100"},
    )
    assert "Enter a number." in response.get_data(as_text=True)
    # A grade typed without its answer keeps its row, and the row says what is missing.
    response = post_new(
        client,
        bank,
        "shortanswer",
        **{"answers-0-text": "x", "answers-0-fraction": "100", "answers-2-fraction": "50"},
    )
    page = response.get_data(as_text=True)
    assert "Enter the answer text." in page and 'id="answers-2-text-errors"' in page
    response = post_new(client, bank, "truefalse", text="")
    page = response.get_data(as_text=True)
    assert "This field is required." in page
    assert "Say whether the statement is true or false." in page
    assert db.session.scalars(select(Question)).all() == []


def test_edit_page_makes_a_new_version_once_answered(bank, client):
    question = make(bank, name="Capital")
    answer_version(questions.latest_version(question))
    author(client)
    page = client.get(f"/quizzes/questions/{question.id}/edit").get_data(as_text=True)
    assert "Saving a change makes version 2" in page
    assert 'value="Bishkek"' in page and 'value="100"' in page
    assert 'name="answers-5-text"' in page  # blank rows to add answers
    response = client.post(
        f"/quizzes/questions/{question.id}/edit",
        data={
            "name": "Capital",
            "text": "The capital city?",
            "text_format": "moodle",
            "language": "en",
            "module_slug": "",
            "default_mark": "1",
            "expected_number": "1",
            "single": "1",
            "answers-0-text": "Bishkek",
            "answers-0-fraction": "100",
            "answers-1-text": "Osh",
            "answers-1-fraction": "0",
        },
    )
    assert response.status_code == 302
    numbers = db.session.scalars(
        select(QuestionVersion.number).where(QuestionVersion.question_id == question.id)
    ).all()
    assert sorted(numbers) == [1, 2]
    page = client.get(f"/quizzes/questions/{question.id}?version=1").get_data(as_text=True)
    assert "The capital of Kyrgyzstan?" in page and "the latest is 2" in page


def test_preview_grades_a_tried_answer(bank, client):
    question = make(bank)
    author(client)
    page = client.get(f"/quizzes/questions/{question.id}").get_data(as_text=True)
    assert 'type="radio" name="q" value="0"' in page
    response = client.post(f"/quizzes/questions/{question.id}", data={"q": "0"})
    page = response.get_data(as_text=True)
    assert "100% of the mark" in page and "Yes." in page


def test_bank_page_lists_filters_and_links_translations(bank, client):
    en = make(bank, name="Capital", module_slug="rights")
    ru = make(bank, name="Столица", language="ru", module_slug="rights")
    make(bank, name="True or not", qtype="truefalse", data={"correct": True}, module_slug="duties")
    author(client)
    page = client.get(f"/quizzes/banks/{bank.id}").get_data(as_text=True)
    assert "Capital" in page and "Столица" in page and "True or not" in page
    page = client.get(f"/quizzes/banks/{bank.id}?module=duties").get_data(as_text=True)
    assert "True or not" in page and "Capital" not in page
    page = client.get(f"/quizzes/banks/{bank.id}?qtype=multichoice&language=ru").get_data(
        as_text=True
    )
    assert "Столица" in page and "Capital" not in page

    response = client.post(f"/quizzes/questions/{en.id}/translations", data={"other_id": ru.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert en.translation_group == ru.translation_group == en.id
    page = client.get(f"/quizzes/banks/{bank.id}").get_data(as_text=True)
    assert f'href="/quizzes/questions/{ru.id}" lang="ru"' in page


def test_archive_and_restore_from_the_pages(bank, client):
    question = make(bank, name="Old question")
    author(client)
    assert client.post(f"/quizzes/questions/{question.id}/archive").status_code == 302
    assert "Old question" not in client.get(f"/quizzes/banks/{bank.id}").get_data(as_text=True)
    page = client.get(f"/quizzes/banks/{bank.id}?status=archived").get_data(as_text=True)
    assert "Old question" in page
    assert client.post(f"/quizzes/questions/{question.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Question, question.id).archived is False


# --- an edit racing an attempt -------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL's row locks")
def test_an_edit_waits_for_an_answer_being_written_and_then_makes_a_new_version(app, bank):
    """The attempt engine inserts an answer (not yet committed) while an author saves: the
    save waits for it and then sees it, so the learner keeps the text they were shown."""
    question = make(bank)
    version_id = questions.latest_version(question).id
    learner = factories.user("student")
    quiz = Quiz(title="Quiz")
    db.session.add(quiz)
    db.session.flush()
    attempt = Attempt(quiz_id=quiz.id, user_id=learner.id, idempotency_key="race")
    db.session.add(attempt)
    db.session.commit()
    question_id, attempt_id = question.id, attempt.id
    db.session.remove()

    inserted = threading.Event()
    errors: list[BaseException] = []

    def answer() -> None:
        with app.app_context():
            try:
                db.session.add(
                    Answer(attempt_id=attempt_id, position=1, question_version_id=version_id)
                )
                db.session.flush()
                inserted.set()
                time.sleep(0.5)
                db.session.commit()
            except BaseException as error:  # reported below
                errors.append(error)
                inserted.set()
            finally:
                db.session.remove()

    thread = threading.Thread(target=answer)
    thread.start()
    assert inserted.wait(timeout=10)
    saved = questions.edit_question(
        db.session.get(Question, question_id), text="Edited", data=MC_DATA, actor_id=None
    )
    db.session.commit()
    thread.join(timeout=10)
    assert errors == []
    assert saved.number == 2
    first = db.session.get(QuestionVersion, version_id)
    assert first.number == 1 and first.text == "The capital of Kyrgyzstan?"
