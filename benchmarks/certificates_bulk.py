"""Bulk issuance benchmark, run by hand (never as a timed test).

    .venv/bin/python benchmarks/certificates_bulk.py [--count 830] [--processes 2]
    .venv/bin/python benchmarks/certificates_bulk.py --database postgresql://postgres@127.0.0.1:5432/bench

830 is the largest group of the source programme. The script builds a fresh database with a
ToT cohort of ``--count`` participants who have all completed it (not timed), then times
what an administrator's one click sets off, as the embedded default runs it: issuing every
certificate (serials, codes, signed credentials and tokens, status-list slots, audit
entries: one transaction), rendering every PDF in a pool of ``--processes`` processes, and
building the ZIP of them all. Target: the whole in at most 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url


def _fresh_postgres(url: str) -> str:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=830)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--database", help="a PostgreSQL URL (its database is recreated)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="lms-bulk-")
    url = _fresh_postgres(args.database) if args.database else f"sqlite:///{folder}/bench.sqlite3"
    os.environ["LMS_LOAD_ENTRYPOINTS"] = "true"

    from flask_migrate import upgrade

    from certificates import issuance, rendering
    from certificates.models import Certificate
    from lms import create_app
    from lms.accounts.models import User
    from lms.cohorts.models import TOT, Cohort, Membership
    from lms.extensions import db
    from lms.organisations.models import Region
    from lms.progress.models import ProgressRecord

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "benchmark-" + "x" * 32,
            "PUBLIC_URL": "https://lms.example.kg",
            "JOBS_IN_BACKGROUND": False,
            "CERTIFICATES_RENDER_PROCESSES": args.processes,
        }
    )
    with app.app_context():
        upgrade()
        region = db.session.scalar(select(Region).where(Region.code == "osh-region"))
        admin = User(username="admin", name="Admin", sex="female", password_hash="-")
        db.session.add(admin)
        cohort = Cohort(
            kind=TOT,
            name="ToT: Health Basics, Osh (benchmark)",
            region=region,
            starts_on=date(2026, 9, 14),
            ends_on=date(2026, 9, 16),
            completion_rule="marked-complete",
        )
        db.session.add(cohort)
        db.session.flush()
        people = [
            {
                "username": f"p{n}",
                "name": f"Участник Тренинга {n} уулу",
                "sex": "male" if n % 2 else "female",
                "password_hash": "-",
                "preferred_language": "ky",
            }
            for n in range(args.count)
        ]
        db.session.execute(insert(User), people)
        ids = db.session.scalars(select(User.id).where(User.username.like("p%"))).all()
        db.session.execute(
            insert(Membership),
            [{"cohort_id": cohort.id, "user_id": uid, "role": "participant"} for uid in ids],
        )
        db.session.execute(
            insert(ProgressRecord),
            [
                {
                    "user_id": uid,
                    "cohort_id": cohort.id,
                    "item_type": "lms.cohort",
                    "item_id": str(cohort.id),
                    "outcome": "completed",
                    "source": "benchmark",
                    "details": {},
                }
                for uid in ids
            ],
        )
        db.session.commit()
        print(f"{args.count} participants ready on {db.engine.url.get_backend_name()}")

        with app.test_request_context():
            started = time.perf_counter()
            made = issuance.issue_to_completers(cohort, actor=admin)
            db.session.commit()
            issued = time.perf_counter()
            job = rendering.start_batch(made, name="benchmark", created_by_id=admin.id)
            rendered = time.perf_counter()
            certificates = db.session.scalars(
                select(Certificate).where(Certificate.cohort_id == cohort.id)
            ).all()
            archive = rendering.zip_of(certificates)
            zipped = time.perf_counter()

        total = zipped - started
        print(f"issued and signed: {issued - started:6.1f} s ({len(made)} certificates)")
        print(f"rendered:          {rendered - issued:6.1f} s ({args.processes} processes)")
        print(f"zipped:            {zipped - rendered:6.1f} s ({len(archive) / 1e6:.1f} MB)")
        verdict = "met" if total <= 30 else "MISSED"
        print(f"total:             {total:6.1f} s   target <= 30 s: {verdict}")
        print(f"job {job.id}: {db.session.get(type(job), job.id).status}")


if __name__ == "__main__":
    main()
