"""Demo quizzes for ``lms demo`` (sample data): a bank of hand-hygiene questions written
for this project (quizzes/sample/), and a pre-test and a post-test for the sample Health
Basics ToT, published and ready to take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from lms.cohorts.models import TOT, Cohort
from lms.extensions import db
from quizzes import gift_io, quiz_service
from quizzes.models import QuestionBank

SAMPLE = Path(__file__).resolve().parent / "sample" / "health-basics-hand-hygiene.gift"


def load(users: dict[str, Any]) -> None:
    trainer = users["trainer"]
    bank = QuestionBank(
        name="Hand hygiene (sample)",
        manual_slug="health-basics",
        module_slug="hand-hygiene",
        description="Sample questions written for the demo.",
        created_by_id=trainer.id,
    )
    db.session.add(bank)
    db.session.flush()
    gift_io.import_gift(
        bank, SAMPLE.read_text(encoding="utf-8"), actor_id=trainer.id, language="en"
    )
    cohort = db.session.scalar(
        select(Cohort).where(Cohort.kind == TOT, Cohort.manual == "health-basics").limit(1)
    )
    if cohort is None:
        return
    for kind, title in (
        ("pre", "Pre-test: hand hygiene (sample)"),
        ("post", "Post-test: hand hygiene (sample)"),
    ):
        quiz = quiz_service.create_quiz(
            cohort,
            quiz_service.QuizSettings(title=title, kind=kind, language="en", pass_mark=60.0),
            actor_id=trainer.id,
        )
        quiz_service.add_random_slot(quiz, bank.id, count=7, actor_id=trainer.id)
        quiz_service.set_published(quiz, True, actor_id=trainer.id)
