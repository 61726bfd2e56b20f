"""Item analysis: Moodle's statistics checked against numbers worked out by hand, computed by
SQL aggregates (a fixed number of statements), and the cross-language facility check."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, select

from curriculum import editions, review, versions
from curriculum.models import Feedback, ModuleVersion
from lms.accounts.roles import EDITOR, STUDENT, TEACHER
from lms.audit.models import AuditEntry
from lms.cohorts.models import CLASS, Cohort
from lms.extensions import db
from quizzes import analysis
from quizzes.models import (
    GRADED,
    IN_PROGRESS,
    Answer,
    Attempt,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    QuizSlot,
)
from tests import factories
from tests.curriculum import helpers

MANUAL = "health-basics"


# --- builders ---------------------------------------------------------------------------


def _bank() -> QuestionBank:
    found = db.session.scalar(select(QuestionBank).where(QuestionBank.manual_slug == MANUAL))
    if found is None:
        found = QuestionBank(name="Health", manual_slug=MANUAL)
        db.session.add(found)
        db.session.flush()
    return found


def _question(
    qtype: str,
    data: dict[str, Any],
    *,
    name: str,
    language: str = "en",
    group: int | None = None,
    module: str = "hand-hygiene",
) -> QuestionVersion:
    question = Question(
        bank_id=_bank().id,
        name=name,
        module_slug=module,
        language=language,
        translation_group=group,
    )
    db.session.add(question)
    db.session.flush()
    version = QuestionVersion(
        question_id=question.id, number=1, qtype=qtype, text=f"{name}?", data=data
    )
    db.session.add(version)
    db.session.flush()
    return version


def _quiz(cohort: Cohort, versions_: list[QuestionVersion], language: str = "en") -> Quiz:
    quiz = Quiz(cohort_id=cohort.id, title=f"Quiz {uuid.uuid4().hex[:6]}", language=language)
    for position, version in enumerate(versions_, start=1):
        quiz.slots.append(QuizSlot(position=position, question_id=version.question_id))
    db.session.add(quiz)
    db.session.flush()
    return quiz


def _attempt(
    quiz: Quiz,
    user_id: int,
    answers: list[tuple[QuestionVersion, float | None, Any]],
    *,
    number: int = 1,
    status: str = GRADED,
) -> Attempt:
    """An attempt built directly: (version, fraction, response) per position, 1 mark each
    (0 for a description, which has no fraction)."""
    attempt = Attempt(
        quiz_id=quiz.id,
        user_id=user_id,
        number=number,
        idempotency_key=uuid.uuid4().hex,
        status=status,
    )
    for position, (version, fraction, response) in enumerate(answers, start=1):
        max_mark = 0.0 if version.qtype == "description" else 1.0
        attempt.answers.append(
            Answer(
                position=position,
                question_version_id=version.id,
                max_mark=max_mark,
                response=response,
                fraction=fraction,
                mark=None if fraction is None else fraction * max_mark,
            )
        )
    # The totals grading keeps on the attempt (quizzes.attempts._totals).
    answerable = [a for a in attempt.answers if a.max_mark > 0]
    attempt.max_score = sum(a.max_mark for a in answerable)
    attempt.score = sum(a.mark or 0.0 for a in answerable)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _class(learners: int, teacher: Any = None) -> tuple[Cohort, list[Any]]:
    group = factories.cohort(CLASS, manual=MANUAL)
    if teacher is not None:
        factories.member(group, teacher, TEACHER)
    people = [factories.user() for _ in range(learners)]
    for person in people:
        factories.member(group, person, STUDENT)
    return group, people


MC = {
    "single": True,
    "answers": [
        {"text": "Soap and water", "fraction": 1.0},
        {"text": "Water only", "fraction": 0.0},
        {"text": "A towel", "fraction": 0.0},
    ],
}
TF = {"correct": True}
SHORT = {"answers": [{"text": "twenty", "fraction": 1.0}]}
NUMBER = {
    "answers": [
        {"value": 20, "tolerance": 0, "fraction": 1.0},
        {"value": 15, "tolerance": 0, "fraction": 0.5},
    ]
}


def _hand_data(teacher: Any = None) -> tuple[Quiz, list[QuestionVersion]]:
    """Six learners × four questions (1 mark each) and a description:

    ========  ====  ====  ====  ====  =====
    learner    Q1    Q2    Q3    Q4   total
    ========  ====  ====  ====  ====  =====
    L1          1     1     1     1     4
    L2          1     1     1    .5   3.5
    L3          1     1     0     0     2
    L4          1     0     1     0     2
    L5          0     1     0     0     1
    L6          0     0     0    .5   0.5
    ========  ====  ====  ====  ====  =====

    Plus attempts that must not count: L1's second attempt (all wrong) and a seventh
    learner's attempt still in progress.
    """
    cohort, people = _class(7, teacher)
    q1 = _question("multichoice", MC, name="Washing")
    q2 = _question("truefalse", TF, name="Germs")
    q3 = _question("shortanswer", SHORT, name="Seconds")
    q4 = _question("numerical", NUMBER, name="Count")
    info = _question("description", {}, name="Read this")
    quiz = _quiz(cohort, [q1, q2, q3, q4, info])
    rows = [
        # (Q1 fraction, response), (Q2…), (Q3…), (Q4…)
        ((1, [0]), (1, True), (1, "twenty"), (1, "20")),
        ((1, [0]), (1, True), (1, "Twenty"), (0.5, "15")),
        ((1, [0]), (1, True), (0, "ten"), (0, "3")),
        ((1, [0]), (0, False), (1, "twenty"), (0, "")),
        ((0, [1]), (1, True), (0, "five"), (0, "1")),
        ((0, [2]), (0, None), (0, ""), (0.5, "15")),
    ]
    for person, row in zip(people, rows, strict=False):
        answers = [(v, float(f), r) for v, (f, r) in zip((q1, q2, q3, q4), row, strict=True)]
        _attempt(quiz, person.id, [*answers, (info, None, None)])
    _attempt(
        quiz,
        people[0].id,
        [(q1, 0.0, [1]), (q2, 0.0, False), (q3, 0.0, ""), (q4, 0.0, "")],
        number=2,
    )
    _attempt(quiz, people[6].id, [(q1, 1.0, [0])], status=IN_PROGRESS)
    return quiz, [q1, q2, q3, q4]


# --- item statistics by hand ------------------------------------------------------------


def test_item_statistics_match_the_hand_computed_values(app):
    quiz, (q1, q2, q3, q4) = _hand_data()
    result = analysis.analyse(quiz)
    items = {item.version_id: item for item in result.items}
    assert list(items) == [q1.id, q2.id, q3.id, q4.id]  # the description is left out
    assert all(item.attempts == 6 for item in items.values())

    # Q1: x = 1 1 1 1 0 0, facility = 4/6 = 66.67 %.
    # SD: Σ(x − 2/3)² = 4·(1/3)² + 2·(2/3)² = 4/3; var = (4/3)/5 = 4/15; √ = 0.5164 → 51.64 %.
    # Rest of the test r = total − x = 3 2.5 1 1 1 .5 (mean 1.5);
    # Σ(r − 1.5)² = 2.25 + 1 + .25·3 + 1 = 5 → var(r) = 1.
    # Σ(x − x̄)(r − r̄) = ⅓(1.5 + 1 − .5 − .5) − ⅔(−.5 − 1) = .5 + 1 = 1.5 → cov = 0.3.
    # Discrimination index = 100 · 0.3 / √(4/15 · 1) = 58.09.
    # Sorted pairing: x 0 0 1 1 1 1 with r .5 1 1 1 2.5 3 is the same pairing as the data
    # (the item already ranks learners as the rest does), so cov_max = 0.3 and the
    # discriminative efficiency is 100 %.
    one = items[q1.id]
    assert one.facility == pytest.approx(66.6667, abs=1e-3)
    assert one.sd == pytest.approx(51.6398, abs=1e-3)
    assert one.discrimination == pytest.approx(58.0948, abs=1e-3)
    assert one.efficiency == pytest.approx(100.0, abs=1e-6)

    # Q2: x = 1 1 1 0 1 0, r = 3 2.5 1 2 0 .5 (mean 1.5), facility 66.67 %, SD as Q1.
    # Σ(r − r̄)² = 2.25 + 1 + .25 + .25 + 2.25 + 1 = 7 → var(r) = 1.4.
    # Σ(x − x̄)(r − r̄) = ⅓(1.5 + 1 − .5 − 1.5) − ⅔(.5 − 1) = 1/6 + 1/3 = .5 → cov = 0.1.
    # Discrimination = 100 · 0.1 / √(4/15 · 1.4) = 16.37.
    # Sorted: x 0 0 1 1 1 1, r 0 .5 1 2 2.5 3 (deviations −1.5 −1 −.5 .5 1 1.5):
    # Σ = ⅔·1.5 + ⅔·1 + ⅓(−.5 + .5 + 1 + 1.5) = 1 + ⅔ + 5/6 = 2.5 → cov_max = 0.5;
    # efficiency = 100 · 0.1 / 0.5 = 20 %.
    two = items[q2.id]
    assert two.facility == pytest.approx(66.6667, abs=1e-3)
    assert two.sd == pytest.approx(51.6398, abs=1e-3)
    assert two.discrimination == pytest.approx(16.3663, abs=1e-3)
    assert two.efficiency == pytest.approx(20.0, abs=1e-6)

    # Q3: x = 1 1 0 1 0 0 (facility 50 %, var = 6·.25/5 = .3, SD 54.77 %),
    # r = 3 2.5 2 1 1 .5 (mean 10/6): cov = 0.3, var(r) = 0.9667, cov_max = 0.5
    # → discrimination 100·.3/√(.3·.9667) = 55.71, efficiency 60 %.
    three = items[q3.id]
    assert three.facility == pytest.approx(50.0)
    assert three.sd == pytest.approx(54.7723, abs=1e-3)
    assert three.discrimination == pytest.approx(55.7086, abs=1e-3)
    assert three.efficiency == pytest.approx(60.0, abs=1e-6)

    # Q4: x = 1 .5 0 0 0 .5 (facility 2/6 = 33.33 %, var = (30/36)/5 = 1/6, SD 40.82 %),
    # r = 3 3 2 2 1 0 (mean 11/6): cov = 1/6, var(r) = 1.3667, cov_max = 0.3667
    # → discrimination 34.92, efficiency 45.45 %.
    four = items[q4.id]
    assert four.facility == pytest.approx(33.3333, abs=1e-3)
    assert four.sd == pytest.approx(40.8248, abs=1e-3)
    assert four.discrimination == pytest.approx(34.9215, abs=1e-3)
    assert four.efficiency == pytest.approx(45.4545, abs=1e-3)


def test_whole_quiz_statistics_match_the_hand_computed_values(app):
    quiz, _versions = _hand_data()
    stats = analysis.analyse(quiz).quiz
    # Totals 4 3.5 2 2 1 .5 of 4 marks: n = 6, mean 13/6 = 2.1667 (54.17 %), median 2.
    assert stats.attempts == 6
    assert stats.mean == pytest.approx(13 / 6)
    assert stats.mean_percent == pytest.approx(13 / 6 / 4 * 100)
    assert stats.max_total == pytest.approx(4.0)
    assert stats.median == pytest.approx(2.0)
    # Σ(T − 13/6)² = 9.3333 → var = 1.8667, SD = 1.3663.
    assert stats.sd == pytest.approx(1.366260, abs=1e-5)
    # Item variances 4/15 + 4/15 + .3 + 1/6 = 1.0; alpha = 4/3 · (1 − 1/1.8667) = 0.6190.
    assert stats.alpha == pytest.approx(0.619048, abs=1e-5)
    # SEM = 1.3663 · √(1 − 0.6190) = 0.8433.
    assert stats.sem == pytest.approx(0.843274, abs=1e-5)
    # Moodle's skewness k3/k2^1.5 and kurtosis k4/k2² of the same totals.
    assert stats.skewness == pytest.approx(0.271204, abs=1e-5)
    assert stats.kurtosis == pytest.approx(-1.422991, abs=1e-5)


def test_distractor_analysis_counts_each_answer(app):
    quiz, (q1, q2, _q3, _q4) = _hand_data()
    items = {item.version_id: item for item in analysis.analyse(quiz).items}
    choices = [(c.letter, c.text, c.count, c.fraction) for c in items[q1.id].choices]
    assert choices == [
        ("A", "Soap and water", 4, 1.0),
        ("B", "Water only", 1, 0.0),
        ("C", "A towel", 1, 0.0),
    ]
    assert items[q1.id].choices[0].percent == pytest.approx(4 / 6 * 100)
    true_false = items[q2.id]
    assert [(c.letter, c.count) for c in true_false.choices] == [("A", 4), ("B", 1)]
    assert true_false.unanswered == 1
    assert items[_q3.id].choices == []


def test_no_attempts_gives_empty_statistics(app):
    cohort, _people = _class(1)
    quiz = _quiz(cohort, [_question("truefalse", TF, name="Alone")])
    result = analysis.analyse(quiz)
    assert result.quiz.attempts == 0 and result.items == []


# --- SQL aggregates: the number of statements does not grow with the attempts -----------


def _statements(app, action) -> int:
    count = 0

    def counter(*_args: Any) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def _sized_quiz(learners: int) -> Quiz:
    cohort, people = _class(learners)
    q1 = _question("multichoice", MC, name=f"Washing {learners}")
    q2 = _question("truefalse", TF, name=f"Germs {learners}")
    q3 = _question("shortanswer", SHORT, name=f"Seconds {learners}")
    quiz = _quiz(cohort, [q1, q2, q3])
    for i, person in enumerate(people):
        right = i % 3 != 0
        _attempt(
            quiz,
            person.id,
            [
                (q1, 1.0 if right else 0.0, [0] if right else [i % 2 + 1]),
                (q2, float(i % 2), bool(i % 2)),
                (q3, 1.0 if i % 4 else 0.0, "x"),
            ],
        )
    return quiz


def test_statement_count_does_not_grow_with_attempts(app):
    small, large = _sized_quiz(3), _sized_quiz(30)
    db.session.commit()
    counts = []
    for quiz_id in (small.id, large.id):
        quiz = db.session.get(Quiz, quiz_id)
        assert quiz is not None

        def run(quiz: Quiz = quiz) -> None:
            result = analysis.analyse(quiz)
            analysis.translation_gaps(result)

        counts.append(_statements(app, run))
    assert counts[0] == counts[1]
    assert counts[1] <= 12


# --- the cross-language check -----------------------------------------------------------


def _publish_module_in(language: str) -> ModuleVersion:
    """Health Basics with the hand-hygiene module approved and published in English and,
    when asked, in ``language`` (a translation)."""
    module = versions.get_or_create_module(helpers.manual(), "hand-hygiene", 1)
    english = versions.create_draft(module, helpers.document("en"), author_id=None)
    versions.submit(english, actor_id=None)
    for reviewer in helpers.panel():
        review.decide(english, reviewer, "approve")
    db.session.flush()
    editions.publish(helpers.manual(), "en", actor_id=None)
    if language == "en":
        return english
    other = versions.create_draft(
        module, helpers.document(language), author_id=None, translates=english
    )
    versions.submit(other, actor_id=None)
    for reviewer in helpers.panel(language=language):
        review.decide(other, reviewer, "approve")
    db.session.flush()
    editions.publish(helpers.manual(), language, actor_id=None)
    return other


def _two_languages(teacher: Any) -> tuple[Quiz, Quiz, QuestionVersion, QuestionVersion]:
    """One question in English and Russian: 4 of 5 right in English (80 %), 2 of 5 in
    Russian (40 %). A second pair differs by only 10 points (60 % and 50 %)."""
    en = _question("truefalse", TF, name="Germs on hands", language="en")
    ru = _question("truefalse", TF, name="Микробы на руках", language="ru", group=en.question_id)
    en_close = _question("truefalse", TF, name="Soap", language="en")
    ru_close = _question("truefalse", TF, name="Мыло", language="ru", group=en_close.question_id)
    en_class, en_people = _class(5, teacher)
    ru_class, ru_people = _class(10, teacher)
    en_quiz = _quiz(en_class, [en, en_close])
    ru_quiz = _quiz(ru_class, [ru, ru_close], language="ru")
    for i, person in enumerate(en_people):
        _attempt(en_quiz, person.id, [(en, float(i < 4), i < 4), (en_close, float(i < 3), i < 3)])
    for i, person in enumerate(ru_people):
        # Ten Russian learners: 4 of 10 right on the first question, 5 of 10 on the second.
        _attempt(ru_quiz, person.id, [(ru, float(i < 4), i < 4), (ru_close, float(i < 5), i < 5)])
    return en_quiz, ru_quiz, en, ru


def test_a_large_gap_between_languages_is_flagged(app):
    en_quiz, ru_quiz, en, _ru = _two_languages(factories.user())
    gaps = analysis.translation_gaps(analysis.analyse(en_quiz))
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap.group == en.question_id
    assert (gap.strong.language, gap.strong.facility, gap.strong.attempts) == ("en", 80.0, 5)
    assert (gap.weak.language, gap.weak.facility, gap.weak.attempts) == ("ru", 40.0, 10)
    assert gap.gap == pytest.approx(40.0)
    assert gap.module_slug == "hand-hygiene" and gap.manual_slug == MANUAL
    # The same pair is found from the Russian quiz's side.
    assert [g.group for g in analysis.translation_gaps(analysis.analyse(ru_quiz))] == [gap.group]
    # The threshold comes from the configuration.
    app.config["QUIZZES_FACILITY_GAP"] = 45
    assert analysis.translation_gaps(analysis.analyse(en_quiz)) == []
    app.config["QUIZZES_FACILITY_GAP"] = 5
    assert len(analysis.translation_gaps(analysis.analyse(en_quiz))) == 2


def test_send_gap_as_feedback_on_the_weaker_languages_module(app, client):
    russian_module = _publish_module_in("ru")
    teacher = factories.user()
    en_quiz, _ru_quiz, _en, _ru = _two_languages(teacher)
    db.session.commit()
    factories.login(client, teacher)
    page = client.get(f"/quizzes/quizzes/{en_quiz.id}/analysis")
    assert f"/quizzes/quizzes/{en_quiz.id}/analysis/languages" in page.get_data(as_text=True)
    page = client.get(f"/quizzes/quizzes/{en_quiz.id}/analysis/languages")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Send as feedback on the module" in text and "Микробы на руках" in text
    response = client.post(
        f"/quizzes/quizzes/{en_quiz.id}/analysis/feedback",
        data={"group": str(_en.question_id), "weak": "ru", "strong": "en"},
    )
    assert response.status_code == 302
    sent = db.session.scalars(select(Feedback)).all()
    assert len(sent) == 1
    feedback = sent[0]
    assert feedback.version_id == russian_module.id
    assert feedback.source == "classroom" and feedback.author_id == teacher.id
    assert "Микробы на руках" in feedback.body
    assert "40%" in feedback.body and "80%" in feedback.body
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feedback.add"))
    # A pair that is not flagged cannot be sent.
    client.post(
        f"/quizzes/quizzes/{en_quiz.id}/analysis/feedback",
        data={"group": "999", "weak": "ru", "strong": "en"},
    )
    assert len(db.session.scalars(select(Feedback)).all()) == 1


def test_feedback_needs_an_edition_in_the_weaker_language(app):
    _publish_module_in("en")
    en_quiz, _ru_quiz, en, _ru = _two_languages(factories.user())
    with pytest.raises(Exception, match="no published edition"):
        analysis.send_gap_feedback(
            en_quiz, group=en.question_id, weak_language="ru", strong_language="en", actor_id=None
        )


# --- who may see it ---------------------------------------------------------------------


def test_analysis_page_for_the_cohorts_teacher_and_authors_only(app, client):
    teacher = factories.user()
    quiz, _versions = _hand_data(teacher)
    author = factories.user(EDITOR)
    student = db.session.scalar(select(Attempt.user_id).where(Attempt.quiz_id == quiz.id).limit(1))
    other_teacher = factories.user()
    _class(1, other_teacher)
    db.session.commit()
    url = f"/quizzes/quizzes/{quiz.id}/analysis"
    factories.login(client, teacher)
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Facility index" in text and "Soap and water" in text and "66.7%" in text
    for person, status in ((author, 200), (other_teacher, 403)):
        other = app.test_client()
        factories.login(other, person)
        assert other.get(url).status_code == status
    learner = app.test_client()
    factories.login(learner, db.session.get(type(teacher), student))
    assert learner.get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # signed out: to the login page
