"""Demo lessons for ``lms demo`` (sample data): three lessons recorded in the sample class,
and a second ToT created from the 3-day template with its first session held and a
practice lesson scored by the trainer."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from curriculum import api as curriculum
from lessons import practice, sessions, tot
from lms.accounts.roles import PARTICIPANT
from lms.cohorts.models import CLASS, Cohort, Membership
from lms.extensions import db
from lms.organisations.models import Region


def load(users: dict[str, Any]) -> None:
    _class_lessons(users)
    _template_tot(users)


def _class_lessons(users: dict[str, Any]) -> None:
    teacher = users["teacher"]
    klass = db.session.scalar(select(Cohort).where(Cohort.kind == CLASS).limit(1))
    if klass is None or not klass.manual:
        return
    edition = curriculum.cohort_edition(klass.id, klass.manual, teacher.preferred_language)
    if edition is None:
        return
    modules = curriculum.edition_modules(edition.id)
    learners = sessions.learners(klass)
    for number, (module, day) in enumerate(zip(modules[:3], (6, 13, 20), strict=False)):
        lesson = sessions.plan_session(
            klass,
            held_on=date(2026, 10, day),
            module_version_id=module.version_id,
            duration_minutes=module.duration_minutes or 45,
            actor_id=teacher.id,
        )
        marks = {learner.id: "present" for learner in learners}
        if number == 1 and learners:
            marks[learners[-1].id] = "absent"
        sessions.record_session(lesson, actor=teacher, attendance=marks, notes="Sample lesson.")


def _template_tot(users: dict[str, Any]) -> None:
    trainer = users["trainer"]
    region = db.session.scalar(select(Region).where(Region.code == "chuy"))
    if region is None:
        return
    cohort = tot.create_tot_from_template(
        trainer,
        "ToT: Civic Education, Tokmok (sample)",
        region.id,
        "Tokmok, district library (sample)",
        date(2026, 11, 9),
        "civic-education",
        "en",
    )
    for username in ("participant1", "participant2", "participant3"):
        if username in users:
            db.session.add(
                Membership(cohort_id=cohort.id, user_id=users[username].id, role=PARTICIPANT)
            )
    db.session.flush()
    first = sessions.sessions_of(cohort)[0]
    marks = {learner.id: "present" for learner in sessions.learners(cohort)}
    sessions.record_session(first, actor=trainer, attendance=marks)
    modules = tot.cohort_modules(cohort)
    if not modules or "participant1" not in users:
        return
    lesson = practice.add_practice(
        cohort,
        participant_id=users["participant1"].id,
        module_version_id=modules[0].version_id,
        taught_on=date(2026, 11, 10),
        module_ids=[m.version_id for m in modules],
        actor_id=trainer.id,
    )
    rubric = practice.get_rubric(cohort.id)
    practice.submit_score(
        lesson,
        trainer,
        {criterion.id: 4 for criterion in rubric.active},
        "Clear objectives; involve the quieter participants more. (sample)",
    )
