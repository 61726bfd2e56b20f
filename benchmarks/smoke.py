"""Smoke check of a generated database: do the main pages answer 200 on it?

    .venv/bin/python benchmarks/smoke.py --database sqlite:////tmp/lms-data-…/bench.sqlite3
    .venv/bin/python benchmarks/smoke.py --database postgresql://postgres@127.0.0.1:5432/bench10

With Flask's test client, logged in through the log-in form as the people who would open
each page (every generated account's password is ``demo-password``): a class's teacher
opens the cohort page, the progress grid, the quiz results and the item analysis of its
final test; a ToT's trainer its ToT page and progress; a student their own progress; a
regional monitoring officer and an administrator the reports (and the administrator the
item analysis of the big quiz, when there is one); a reviewer their queue; and anyone the
public verification page of a certificate. Prints the status and time of each request and
exits with 1 if any page did not answer 200.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import PASSWORD, app_config  # the generator's own settings

PASSWORD_FIELD = "password"


@dataclass(frozen=True)
class Visit:
    """One page to open, as whom (None: not logged in)."""

    label: str
    username: str | None
    endpoint: str
    values: dict[str, Any]


def pick(db: Any) -> list[Visit]:
    """The people and objects to try, found in the generated data."""
    from certificates.models import Certificate
    from lms.accounts.models import RoleGrant, User
    from lms.cohorts.models import CLASS, TOT, Cohort, Membership
    from quizzes.models import Attempt, Quiz

    def username_of(cohort_id: int, role: str) -> str:
        return db.session.scalar(
            select(User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort_id, Membership.role == role)
            .order_by(Membership.id)
            .limit(1)
        )

    attempts = select(Attempt.quiz_id, func.count().label("n")).group_by(Attempt.quiz_id).subquery()
    # The final test of a class (not the national test) with the most attempts.
    final = db.session.execute(
        select(Quiz.id, Quiz.cohort_id)
        .join(attempts, attempts.c.quiz_id == Quiz.id)
        .join(Cohort, Cohort.id == Quiz.cohort_id)
        .where(Quiz.kind == "final", Cohort.kind == CLASS, ~Cohort.name.like("%national%"))
        .order_by(attempts.c.n.desc(), Quiz.id)
        .limit(1)
    ).one()
    quiz_id, class_id = final
    teacher = username_of(class_id, "teacher")
    student = username_of(class_id, "student")
    certificate = db.session.execute(
        select(Certificate.verification_id, Certificate.cohort_id)
        .join(Cohort, Cohort.id == Certificate.cohort_id)
        .where(Cohort.kind == TOT, Certificate.status == "valid")
        .order_by(Certificate.id.desc())
        .limit(1)
    ).one()
    tot_id = certificate.cohort_id
    trainer = username_of(tot_id, "trainer")
    officer = db.session.scalar(
        select(User.username)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == "monitor", RoleGrant.scope_type == "region")
        .order_by(User.id)
        .limit(1)
    )
    madrasa_id = db.session.scalar(select(Cohort.madrasa_id).where(Cohort.id == class_id))
    visits = [
        Visit("class: cohort page", teacher, "cohorts.view", {"cohort_id": class_id}),
        Visit("class: progress grid", teacher, "lessons.progress", {"cohort_id": class_id}),
        Visit("class: final test results", teacher, "quizzes.quiz_results", {"quiz_id": quiz_id}),
        Visit("class: item analysis", teacher, "quizzes.analysis", {"quiz_id": quiz_id}),
        Visit("student: own progress", student, "lessons.my_progress", {}),
        Visit("ToT: cohort page", trainer, "cohorts.view", {"cohort_id": tot_id}),
        Visit("ToT: ToT page", trainer, "lessons.tot", {"cohort_id": tot_id}),
        Visit("ToT: progress grid", trainer, "lessons.progress", {"cohort_id": tot_id}),
        Visit("madrasa summary", "admin", "lessons.madrasa_summary", {"madrasa_id": madrasa_id}),
        Visit("reports (regional officer)", officer, "reports.index", {}),
        Visit("reports (monitor)", "monitor", "reports.index", {}),
        Visit("reports (admin)", "admin", "reports.index", {}),
        Visit("reviewer's queue", "reviewer", "curriculum.queue", {}),
        Visit(
            "verify a certificate",
            None,
            "certificates_public.verify",
            {"code": certificate.verification_id},
        ),
    ]
    big = db.session.scalar(
        select(Quiz.id)
        .join(Cohort, Cohort.id == Quiz.cohort_id)
        .where(Cohort.name.like("%national knowledge test%"))
    )
    if big is not None:
        visits.append(
            Visit("big quiz: item analysis", "admin", "quizzes.analysis", {"quiz_id": big})
        )
    return visits


def log_in(client: Any, login_url: str, username: str) -> None:
    response = client.post(login_url, data={"username": username, PASSWORD_FIELD: PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not log in as {username}: {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="the generated database's URL")
    args = parser.parse_args()
    os.environ["LMS_LOAD_ENTRYPOINTS"] = "true"

    from flask import url_for

    from lms import create_app
    from lms.extensions import db

    config = app_config(args.database, Path(tempfile.mkdtemp(prefix="lms-smoke-")))
    config.update({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "TESTING": True})
    app = create_app(config)
    failed = 0
    with app.test_request_context():
        visits = pick(db)
        urls = [url_for(v.endpoint, **v.values) for v in visits]
        login_url = url_for("accounts.login")
        db.session.remove()
    for visit, url in zip(visits, urls, strict=True):
        with app.test_client() as client:
            if visit.username is not None:
                log_in(client, login_url, visit.username)
            started = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - started
        ok = response.status_code == 200
        failed += not ok
        who = visit.username or "(anyone)"
        print(f"{response.status_code}  {took * 1000:8.0f} ms  {visit.label:30} {who:24} {url}")
    print("all pages answered 200" if not failed else f"{failed} page(s) failed")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
