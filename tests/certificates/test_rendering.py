"""Batches render once per certificate, in a pool of processes when that is worth it."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from certificates import rendering
from certificates.models import Certificate
from lms.extensions import db
from lms.jobs import Job
from tests import factories
from tests.certificates import helpers


@pytest.mark.slow
def test_a_large_batch_renders_in_a_pool_of_processes(make_app):
    """Without a broker, big batches render in one process per core, each with its own app."""
    app = make_app({"CERTIFICATES_RENDER_PROCESSES": 2, "CERTIFICATES_POOL_THRESHOLD": 2})
    with app.app_context():
        admin = factories.user("admin")
        cohort, _done, _ = helpers.completed_cohort([f"Learner {n}" for n in range(4)])
        made = helpers.issue(cohort, admin)
        job = rendering.start_batch(made, name="Batch", created_by_id=admin.id)
        db.session.expire_all()
        assert db.session.get(Job, job.id).status == "succeeded"
        rows = db.session.execute(select(Certificate.pdf, Certificate.pdf_sha256)).all()
        assert len(rows) == 4
        for pdf, digest in rows:
            assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == digest


def test_a_stored_pdf_is_never_replaced(app):
    admin = factories.user("admin")
    cohort, _done, _ = helpers.completed_cohort(["A"])
    (certificate,) = helpers.issue(cohort, admin)
    first = rendering.ensure_pdf(certificate)
    assert rendering.store_pdf(certificate.id, b"%PDF-something else") is False
    db.session.expire_all()
    assert rendering.ensure_pdf(db.session.get(Certificate, certificate.id)) == first
