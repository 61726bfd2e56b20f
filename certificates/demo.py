"""Demo certificates for ``lms demo`` (sample data).

Three participants of the sample ToT are marked as having completed it and get their
certificates (in the bilingual Kyrgyz–Russian design); one of them is then corrected and
reissued, so the register shows a replacement. The demo student completed last year's
sample class and holds a graduate certificate, so every role sees a certificate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from certificates import issuance, rendering
from certificates.models import Certificate
from lms.accounts.roles import STUDENT, TEACHER
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.rules import COHORT_ITEM_TYPE


def _mark_completed(cohort: Cohort, user_id: int, by: Any) -> None:
    progress.record(
        user_id=user_id,
        item_type=COHORT_ITEM_TYPE,
        item_id=cohort.id,
        outcome="completed",
        source="demo",
        cohort_id=cohort.id,
        recorded_by_id=by.id,
    )


def load(users: dict[str, Any]) -> None:
    admin, trainer = users["admin"], users["trainer"]
    tot = db.session.scalar(
        select(Cohort).where(Cohort.kind == TOT, Cohort.created_by_id == trainer.id).limit(1)
    )
    if tot is not None and tot.completion_rule == "marked-complete":
        for username in ("participant1", "participant2", "participant3"):
            if username in users:
                _mark_completed(tot, users[username].id, trainer)
        issuance.choose_design(tot, "tot-completion-ky-ru", "ky", actor=trainer)
        issued = issuance.issue_to_completers(tot, actor=trainer)
        misspelt = next((c for c in issued if c.recipient_id == users["participant3"].id), None)
        if misspelt is not None:
            issuance.reissue(
                misspelt,
                name="Emil Bakytovich Asanov",
                reason="Sample correction: the participant asked for his patronymic.",
                actor=admin,
            )
    _last_years_class(users)
    db.session.flush()
    for certificate in db.session.scalars(
        select(Certificate).where(Certificate.pdf_sha256.is_(None))
    ):
        rendering.store_pdf(certificate.id, rendering.pdf_bytes(certificate))


def _last_years_class(users: dict[str, Any]) -> None:
    teacher, student = users["teacher"], users["student"]
    home = db.session.scalar(
        select(Cohort.madrasa_id).where(Cohort.kind == CLASS, Cohort.madrasa_id.is_not(None))
    )
    if home is None:
        return
    past = Cohort(
        kind=CLASS,
        name="Health Basics, 2025–26 (sample)",
        madrasa_id=home,
        starts_on=date(2025, 9, 1),
        ends_on=date(2026, 5, 29),
        manual="health-basics",
        completion_rule="marked-complete",
        created_by_id=teacher.id,
        archived=True,
    )
    db.session.add(past)
    past.memberships.append(Membership(user=teacher, role=TEACHER))
    past.memberships.append(Membership(user=student, role=STUDENT))
    db.session.flush()
    _mark_completed(past, student.id, teacher)
    issuance.choose_design(past, "graduate", "ky", actor=teacher)
    issuance.issue_to_completers(past, actor=teacher)
