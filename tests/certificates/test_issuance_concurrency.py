"""Issuing at the same moment: the database decides, on SQLite and on PostgreSQL.

Threads are released together by a barrier; each uses its own connection and transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from certificates import issuance
from certificates.models import Certificate
from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.errors import LmsError
from lms.extensions import db
from tests import factories
from tests.certificates import helpers


def _together(app, jobs: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results.append(job())
                db.session.commit()
            except LmsError as error:  # a clear refusal, as a page would show it
                results.append(error)
                db.session.rollback()
            except BaseException as error:  # anything else fails the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def _issuer(cohort_id: int, admin_id: int) -> Callable[[], object]:
    def job() -> object:
        cohort = db.session.get(Cohort, cohort_id)
        admin = db.session.get(User, admin_id)
        return [c.serial for c in issuance.issue_to_completers(cohort, actor=admin)]

    return job


def test_32_issuances_at_once_get_32_serials_and_status_slots(app):
    admin = factories.user("admin")
    cohorts = [helpers.completed_cohort([f"Learner {n}"])[0] for n in range(32)]
    db.session.commit()
    ids = [c.id for c in cohorts]
    admin_id = admin.id
    db.session.remove()

    results, errors = _together(app, [_issuer(cid, admin_id) for cid in ids])

    assert errors == []
    serials = [serial for made in results for serial in made]  # type: ignore[union-attr]
    assert len(serials) == 32 == len(set(serials))
    numbers = sorted(int(s.rsplit("-", 1)[1]) for s in serials)
    assert numbers == list(range(1, 33))  # no gaps, no repeats
    slots = db.session.execute(select(Certificate.status_list_id, Certificate.status_index)).all()
    assert len(set(slots)) == 32


def test_eight_clicks_on_issue_at_once_give_each_learner_one_certificate(app):
    admin = factories.user("admin")
    cohort, done, _ = helpers.completed_cohort(["A", "B", "C"])
    db.session.commit()
    cohort_id, admin_id, learner_ids = cohort.id, admin.id, sorted(p.id for p in done)
    db.session.remove()

    _results, errors = _together(app, [_issuer(cohort_id, admin_id) for _ in range(8)])

    assert errors == []
    recipients = sorted(db.session.scalars(select(Certificate.recipient_id)))
    assert recipients == learner_ids
    assert db.session.scalar(select(func.count(Certificate.id))) == 3
