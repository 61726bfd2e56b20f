"""Quiz models: banks of versioned questions, quizzes assigned to cohorts, attempts, answers.

A question's identity is stable; its text and answers live in versions. Editing a question
that some answer already points at makes a new version, so every attempt keeps the exact
question it answered. An attempt is unique per idempotency key, so a double click or a
repeated request never makes two attempts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow

KINDS = ("practice", "pre", "post", "final")
IN_PROGRESS, SUBMITTED, NEEDS_GRADING, GRADED = (
    "in_progress",
    "submitted",
    "needs_grading",
    "graded",
)


class QuestionBank(db.Model):
    """A named collection of questions for one manual (and optionally one module)."""

    __tablename__ = "quizzes_question_bank"
    __table_args__ = (UniqueConstraint("manual_slug", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    manual_slug: Mapped[str] = mapped_column(String(64))
    module_slug: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )


class Question(db.Model):
    """A question's stable identity in a bank; its content is in ``QuestionVersion``."""

    __tablename__ = "quizzes_question"
    __table_args__ = (Index("ix_quizzes_question_bank", "bank_id", "module_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question_bank.id"))
    name: Mapped[str] = mapped_column(String(255), default="")
    #: GIFT/Moodle category path, kept so export → import keeps questions where they were.
    category: Mapped[str] = mapped_column(String(255), default="")
    #: The module this question checks (for random draws per module and item analysis).
    module_slug: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: Questions that are translations of each other share a group (the first one's id).
    translation_group: Mapped[int | None]
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.number"
    )


class QuestionVersion(db.Model):
    """One version of a question: its type, text, answers, feedback and default mark.

    ``data`` holds the type's own fields (answers with fractions, tolerances, pairs); the
    question-type registry (quizzes.question_types) validates and grades it.
    """

    __tablename__ = "quizzes_question_version"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    qtype: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    #: moodle, html, plain or markdown (GIFT's [format] marker)
    text_format: Mapped[str] = mapped_column(String(16), default="moodle")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    general_feedback: Mapped[str] = mapped_column(Text, default="")
    default_mark: Mapped[float] = mapped_column(default=1.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))

    question: Mapped[Question] = relationship(back_populates="versions")


class Quiz(db.Model):
    """A quiz assigned to a cohort: practice, pre-test, post-test or final."""

    __tablename__ = "quizzes_quiz"
    __table_args__ = (
        CheckConstraint("kind IN ('practice', 'pre', 'post', 'final')", name="kind"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="practice")
    language: Mapped[str] = mapped_column(String(8), default="en")
    attempts_allowed: Mapped[int] = mapped_column(default=1)  # 0: unlimited
    time_limit_minutes: Mapped[int | None]
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_answers: Mapped[bool] = mapped_column(default=True)
    pass_mark: Mapped[float] = mapped_column(default=60.0)  # percent
    #: when learners see their score / the right answers and feedback:
    #: "immediately", "after_close" or "never"
    show_results: Mapped[str] = mapped_column(String(16), default="immediately")
    show_feedback: Mapped[bool] = mapped_column(default=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    slots: Mapped[list[QuizSlot]] = relationship(
        back_populates="quiz", order_by="QuizSlot.position", cascade="all, delete-orphan"
    )


class QuizSlot(db.Model):
    """A place in a quiz: a fixed question, or ``count`` random questions from a bank
    (optionally only those of one module)."""

    __tablename__ = "quizzes_quiz_slot"
    __table_args__ = (
        CheckConstraint(
            "(question_id IS NOT NULL) OR (bank_id IS NOT NULL AND count > 0)", name="source"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes_question.id"))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes_question_bank.id"))
    module_slug: Mapped[str] = mapped_column(String(64), default="")
    count: Mapped[int] = mapped_column(default=1)
    mark: Mapped[float | None]  # None: the question's default mark

    quiz: Mapped[Quiz] = relationship(back_populates="slots")


class Attempt(db.Model):
    """One learner's attempt at a quiz, online or entered from paper."""

    __tablename__ = "quizzes_attempt"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        UniqueConstraint("idempotency_key"),
        CheckConstraint(
            "status IN ('in_progress', 'submitted', 'needs_grading', 'graded')", name="status"
        ),
        Index("ix_quizzes_attempt_quiz_status", "quiz_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes_quiz.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    source: Mapped[str] = mapped_column(String(8), default="online")  # online or paper
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]

    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", order_by="Answer.position", cascade="all, delete-orphan"
    )


class Answer(db.Model):
    """The answer to one question of an attempt, pointing at the exact question version."""

    __tablename__ = "quizzes_answer"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        Index("ix_quizzes_answer_version", "question_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quizzes_attempt.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_version_id: Mapped[int] = mapped_column(ForeignKey("quizzes_question_version.id"))
    max_mark: Mapped[float] = mapped_column(default=1.0)
    #: the order answers were shown in (for shuffled choices), so review shows the same
    shown_order: Mapped[list[Any]] = mapped_column(JSON, default=list)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    fraction: Mapped[float | None]  # None until graded (essays wait for a teacher)
    mark: Mapped[float | None]
    feedback: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id"))
    graded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
    question_version: Mapped[QuestionVersion] = relationship()


class ItemStatistics(db.Model):
    """Kept sums for item analysis: how many counted answers of a quiz share one question
    version, place, fraction, mark, rest-of-test mark and (for choice questions) response.

    Derived data, kept by ``quizzes.statistics`` in the same transaction as the attempts and
    answers they come from (each learner's first graded attempt counts, as in Moodle), so
    the item analysis of a quiz with a million answers reads a few thousand rows.
    ``lms quizzes rebuild-statistics`` makes them again.
    """

    __tablename__ = "quizzes_item_stats"

    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes_quiz.id", ondelete="CASCADE"), primary_key=True
    )
    question_version_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes_question_version.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    fraction: Mapped[float] = mapped_column(primary_key=True)
    mark: Mapped[float] = mapped_column(primary_key=True)
    #: The attempt's score less this mark (the rest-of-test mark).
    rest: Mapped[float] = mapped_column(primary_key=True)
    #: A choice question's response as JSON text; "" for other questions (and no response).
    response: Mapped[str] = mapped_column(Text, primary_key=True)
    question_id: Mapped[int]
    choice: Mapped[bool]
    answers: Mapped[int] = mapped_column(default=0)


class TotalStatistics(db.Model):
    """Kept distribution of test totals: how many counted attempts of a quiz had one score
    out of one maximum (see ``ItemStatistics``)."""

    __tablename__ = "quizzes_total_stats"

    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes_quiz.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(primary_key=True)
    max_score: Mapped[float] = mapped_column(primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
