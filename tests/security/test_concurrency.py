"""Concurrent writers on SQLite and PostgreSQL: threads released together by a barrier, each
with its own app context (its own session and connection), as gunicorn's workers and
threads would be. Each race leaves one consistent result and no 500.

The other races of the issue have their own tests, also run on both databases:
two reviewers deciding at once (tests/curriculum/test_review_concurrency.py), 20 identical
quiz submissions (tests/quizzes/test_attempts.py), 32 certificate issuances at once
(tests/certificates/test_issuance_concurrency.py) and 20 audit writers
(tests/lms/test_audit.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select

from curriculum import review, versions
from curriculum.content import parse_module_file
from curriculum.models import ModuleVersion
from lms.accounts.models import RoleGrant, User
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.errors import Conflict, LmsError
from lms.extensions import db
from tests import factories
from tests.curriculum import helpers as curriculum_helpers


def together(app: Flask, jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each job in its own thread, all released at once; commit what each did.

    Returns what the jobs returned (or the ``LmsError`` they raised: a clear refusal, as a
    page shows it) and every other exception (a failure of the test).
    """
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results.append(job())
                db.session.commit()
            except LmsError as error:
                results.append(error)
                db.session.rollback()
            except BaseException as error:  # reported to the test
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results, errors


# --- two editors saving one draft -----------------------------------------------------------


def _edited(version: ModuleVersion, words: str) -> str:
    return versions.file_text(version).replace(
        "Germs spread from hands to food.", f"Germs spread from hands to food ({words})."
    )


def _consistent(version: ModuleVersion, texts: list[str]) -> str:
    """The draft holds exactly one editor's text, whole; returns which."""
    winners = [t for t in texts if parse_module_file(t.lstrip("\r\n")).body == version.body]
    assert len(winners) == 1
    assert version.content_hash == parse_module_file(winners[0]).content_hash
    assert version.lock_version == 2
    return winners[0]


def test_two_editors_saving_one_draft_at_once_one_wins_one_conflicts(app):
    first, second = factories.user("editor"), factories.user("editor")
    draft = curriculum_helpers.draft(first)
    db.session.commit()
    draft_id, loaded = draft.id, draft.lock_version
    editor_ids = [first.id, second.id]
    texts = [_edited(draft, "editor one"), _edited(draft, "editor two")]
    db.session.remove()

    def save(person_id: int, text: str) -> Callable[[], Any]:
        def job() -> Any:
            version = versions.get_version(draft_id)
            return versions.save_draft(
                version,
                text,
                expected_lock_version=loaded,
                change_summary=f"by {person_id}",
                actor_id=person_id,
            ).id

        return job

    results, errors = together(app, [save(editor_ids[0], texts[0]), save(editor_ids[1], texts[1])])
    assert errors == []
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"]
    version = db.session.get(ModuleVersion, draft_id)
    winner = _consistent(version, texts)
    assert version.change_summary == f"by {editor_ids[texts.index(winner)]}"


def test_two_editors_posting_one_draft_at_once_get_a_save_and_a_409(app):
    editors = [factories.user("editor"), factories.user("editor")]
    draft = curriculum_helpers.draft(editors[0])
    db.session.commit()
    draft_id = draft.id
    texts = [_edited(draft, "first editor"), _edited(draft, "second editor")]
    clients = []
    for person in editors:
        client = app.test_client()
        factories.login(client, person)
        page = client.get(f"/curriculum/versions/{draft_id}/edit")
        assert page.status_code == 200 and 'name="lock_version" type="hidden" value="1"' in (
            page.get_data(as_text=True)
        )
        clients.append(client)
    db.session.remove()

    def post(client: Any, text: str) -> Callable[[], Any]:
        def job() -> Any:
            response = client.post(
                f"/curriculum/versions/{draft_id}/edit",
                data={"text": text, "change_summary": "Clearer.", "lock_version": "1"},
            )
            return response.status_code, response.get_data(as_text=True)

        return job

    results, errors = together(app, [post(clients[0], texts[0]), post(clients[1], texts[1])])
    assert errors == []
    statuses = sorted(status for status, _page in results)
    assert statuses == [302, 409], statuses
    conflict_page = next(page for status, page in results if status == 409)
    assert "Someone else saved this draft meanwhile" in conflict_page
    _consistent(db.session.get(ModuleVersion, draft_id), texts)


def test_an_editor_saving_an_outdated_draft_is_told_to_reload(app):
    editor = factories.user("editor")
    draft = curriculum_helpers.draft(editor)
    db.session.commit()
    text = _edited(draft, "first")
    versions.save_draft(draft, text, expected_lock_version=1, change_summary="", actor_id=None)
    db.session.commit()
    client = app.test_client()
    factories.login(client, editor)
    response = client.post(
        f"/curriculum/versions/{draft.id}/edit",
        data={"text": _edited(draft, "stale"), "change_summary": "", "lock_version": "1"},
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert "(first)" in db.session.get(ModuleVersion, draft.id).body


# --- many writers through the services ------------------------------------------------------


def _locked_errors(app: Flask) -> list[str]:
    """Collect every "database is locked" the engine meets (even if something caught it)."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "handle_error")
    def _spot(context: Any) -> None:
        if "locked" in str(context.original_exception).lower():
            seen.append(str(context.original_exception))

    return seen


def test_ten_writers_through_the_services_at_once_never_meet_a_locked_database(app):
    """Ten different services that read and then write, at the same moment. On SQLite they
    queue on the write lock (BEGIN IMMEDIATE, busy timeout) instead of failing."""
    from certificates import issuance
    from lms import privacy
    from lms.accounts import services as accounts
    from lms.cohorts import services as cohorts
    from tests.certificates.helpers import completed_cohort
    from tests.quizzes.test_attempts import bank, cohort_with, form, make_quiz, truefalse

    admin = factories.user("admin")
    people = [factories.user() for _ in range(6)]
    open_cohort = factories.cohort()
    marked = factories.cohort(completion_rule="marked-complete")
    factories.member(marked, people[5], "participant")
    reviewer, _other = curriculum_helpers.panel()
    submitted = curriculum_helpers.submitted()
    to_certify, _done, _trainer = completed_cohort(["Learner Zero", "Learner One"])
    group, _leader, (learner,) = cohort_with(1)
    question = truefalse(bank())
    quiz = make_quiz(group, [question])
    db.session.commit()
    ids = {
        "admin": admin.id,
        "people": [p.id for p in people],
        "usernames": [p.username for p in people],
        "open": open_cohort.id,
        "marked": marked.id,
        "reviewer": reviewer.id,
        "version": submitted.id,
        "certify": to_certify.id,
        "quiz": quiz.id,
        "learner": learner.id,
    }
    db.session.remove()
    locked = _locked_errors(app)

    def get(model: Any, key: int) -> Any:
        return db.session.get(model, key)

    from certificates.models import Certificate  # noqa: F401  (table for issuance)
    from lms.cohorts.models import Cohort
    from quizzes import attempts
    from quizzes.models import Quiz

    def attempt() -> Any:
        person = get(User, ids["learner"])
        started = attempts.start_attempt(get(Quiz, ids["quiz"]), person, uuid.uuid4().hex)
        return attempts.submit_attempt(
            started, person, form=form(q1="1"), page=1, key=started.idempotency_key
        ).id

    jobs: list[Callable[[], Any]] = [
        lambda: (
            accounts.create_user(
                username="new.person", name="New Person", sex="male", password="long enough pw"
            ).id
        ),
        lambda: accounts.grant_role(get(User, ids["people"][0]), "trainer", actor_id=ids["admin"]),
        lambda: accounts.update_user(
            get(User, ids["people"][1]),
            name="Renamed Person",
            sex="female",
            preferred_language="ky",
            email="renamed@example.org",
            phone=None,
            actor_id=ids["admin"],
        ),
        lambda: accounts.set_password(
            get(User, ids["people"][2]), "a new long password", actor_id=ids["admin"]
        ),
        lambda: (
            cohorts.add_member(
                get(Cohort, ids["open"]), ids["usernames"][3], "participant", actor_id=ids["admin"]
            ).id
        ),
        lambda: cohorts.mark_completion(
            get(Cohort, ids["marked"]), ids["people"][5], True, actor_id=ids["admin"]
        ),
        lambda: (
            review.decide(
                get(ModuleVersion, ids["version"]), get(User, ids["reviewer"]), "approve"
            ).id
        ),
        lambda: len(
            issuance.issue_to_completers(get(Cohort, ids["certify"]), actor=get(User, ids["admin"]))
        ),
        attempt,
        lambda: privacy.anonymise(
            get(User, ids["people"][4]), reason="Asked.", actor_id=ids["admin"]
        ),
    ]
    results, errors = together(app, jobs)
    assert errors == [], errors
    assert not [r for r in results if isinstance(r, LmsError)], results
    assert locked == []
    # Every change is there, each with its audit entry, in one intact chain.
    assert db.session.scalar(select(User.id).where(User.username == "new.person"))
    assert db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == ids["people"][0]))
    assert db.session.get(User, ids["people"][1]).name == "Renamed Person"
    assert not db.session.get(User, ids["people"][4]).active
    assert 2 in results  # two certificates issued
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {
        "user.create",
        "role.grant",
        "user.update",
        "user.password",
        "membership.add",
        "cohort.mark_completion",
        "review.decide",
        "certificate.issued",
        "quizzes.attempt.submit",
        "privacy.anonymise",
    } <= actions
    assert audit.verify_chain() == []


def test_ten_writers_creating_accounts_in_a_loop_never_meet_a_locked_database(app):
    """Sustained contention: ten threads, each creating five accounts one after another."""
    from lms.accounts import services as accounts

    admin = factories.user("admin")
    db.session.commit()
    admin_id = admin.id
    db.session.remove()
    locked = _locked_errors(app)

    def creator(n: int) -> Callable[[], Any]:
        def job() -> int:
            for i in range(5):
                person = accounts.create_user(
                    username=f"writer{n}.{i}",
                    name=f"Writer {n}-{i}",
                    sex="female",
                    password="long enough pw",
                    actor_id=admin_id,
                )
                accounts.grant_role(person, "student", actor_id=admin_id)
                db.session.commit()
            return n

        return job

    results, errors = together(app, [creator(n) for n in range(10)])
    assert errors == [] and sorted(results) == list(range(10))
    assert locked == []
    assert db.session.scalar(select(func.count(User.id)).where(User.username.like("writer%"))) == 50
    assert audit.verify_chain() == []


def test_the_same_grant_twice_at_once_is_one_grant_and_one_conflict(app):
    person, admin = factories.user(), factories.user("admin")
    db.session.commit()
    person_id, admin_id = person.id, admin.id
    db.session.remove()
    from lms.accounts import services as accounts

    def grant() -> Any:
        return accounts.grant_role(db.session.get(User, person_id), "trainer", actor_id=admin_id).id

    results, errors = together(app, [grant, grant])
    assert errors == []
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"]
    assert isinstance(next(r for r in results if not isinstance(r, int)), Conflict)
    grants = db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == person_id)).all()
    assert len(grants) == 1
