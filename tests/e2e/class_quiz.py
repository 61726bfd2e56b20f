"""A quiz for the demo class, made through the services, for the teacher's and the student's
journeys.

The demo's quizzes belong to the sample ToT, where the demo student is not a member and the
demo teacher only a participant; the class the two of them share has none. So a journey that
takes a quiz, or enters a paper one, first publishes one in that class, as its teacher would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.models import CLASS, Cohort
from lms.extensions import db
from quizzes import paper, quiz_service
from quizzes.models import Question

#: Questions of the demo's hand-hygiene bank (quizzes/sample/), in the order of the quiz,
#: with the right answer as the attempt form posts it: the multiple-choice one is the index
#: of the right option in the GIFT file (the radio button's value, however shuffled), the
#: true-or-false one "1" for true, the numerical one the number.
QUESTIONS = (("hh-when", "0"), ("hh-soap", "1"), ("hh-seconds", "20"))
TITLE = "Final test: hand hygiene (sample)"


@dataclass(frozen=True)
class ClassQuiz:
    """What a journey needs to find its way to the quiz."""

    quiz_id: int
    cohort_id: int
    users: dict[str, int]
    #: The right letter of each lettered question of the printed paper, by field ("q1"):
    #: the paper shuffles the choices once per quiz.
    paper_letters: dict[str, str]


def publish_class_quiz(app: Any) -> ClassQuiz:
    """Publish a three-question final quiz in the demo class: a required item of the class,
    so taking it shows in the learners' progress; results are shown at once."""
    with app.app_context():
        klass = db.session.scalar(select(Cohort).where(Cohort.kind == CLASS).order_by(Cohort.id))
        assert klass is not None, "the demo data has a class"
        teacher = db.session.scalar(select(User).where(User.username == "teacher"))
        assert teacher is not None
        quiz = quiz_service.create_quiz(
            klass,
            quiz_service.QuizSettings(title=TITLE, kind="final", language="en"),
            actor_id=teacher.id,
        )
        for name, _answer in QUESTIONS:
            question = db.session.scalar(select(Question).where(Question.name == name))
            assert question is not None, f"the demo bank has the question {name}"
            quiz_service.add_question_slot(quiz, question.id, actor_id=teacher.id)
        quiz_service.set_published(quiz, True, actor_id=teacher.id)
        db.session.commit()
        users = {user.username: user.id for user in db.session.scalars(select(User))}
        rights = dict(QUESTIONS)
        with app.test_request_context():
            letters = {
                question.prefix: option.letter
                for question in paper.answerable(paper.paper_questions(quiz))
                for option in question.options
                if option.value == rights.get(question.question.name)
            }
        made = ClassQuiz(quiz.id, klass.id, users, letters)
        db.session.remove()
    return made
