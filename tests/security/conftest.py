"""A shared world for the security tests: two of everything, side A and side B.

``world`` is built once per test module on a database of its own (a copy of the migrated
SQLite template, or a PostgreSQL database ``<worker database>_<module>`` migrated for it),
so it never leaks into other tests. Each side has a region, a madrasa, a class (teacher,
students) and a ToT cohort (trainer, participants) with held lessons and attendance,
practice lessons, a monitoring visit, quizzes with attempts and an essay to grade, issued
certificates, a manual with an approved and published module, a draft, a version under
review with a request for changes and a comment, a review panel, a glossary term, feedback,
a question bank, and a donor-report job with its files.

The actors (who sends the requests) all belong to side A or to no side; side B has people
of its own who never log in. Everything of side B carries the word ``BRAVO`` in its name,
so a page can be searched for what it should not show.

``OWNERS`` says which actors an object is *theirs*: "A" is anything of side A (their
madrasa, region, manual, a job); "A/class" is the class (and its lessons, quizzes, a
student's attempt or certificate); "A/tot" the ToT cohort; ":peer" a classmate's or fellow
participant's attempt, practice lesson or certificate. The matrix in
``test_access_matrix.py`` says, per endpoint, who may reach their own (``OWN``) or every
(``ALL``) object.

Between requests the world is put back as it was: triggers on every table note each
insert, update and delete in ``matrix_change``; after a request that changed something the
changed tables are restored from a snapshot taken once the world was built.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Table, create_engine, delete, insert, select, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from tests.conftest import TEST_CONFIG, IsolatedClient, migrate_to_head

#: Who sends requests. "anonymous" has no session; "nobody" is a user without any role.
ACTORS = (
    "anonymous",
    "nobody",
    "admin",
    "editor",
    "editor_a",
    "reviewer_a",
    "reviewer_out",
    "trainer_a",
    "teacher_a",
    "student_a",
    "participant_a",
    "monitor_a",
)

#: Actors with a role or membership on side A (the rest are everywhere or nowhere).
SIDE_A = frozenset(
    {
        "editor_a",
        "reviewer_a",
        "trainer_a",
        "teacher_a",
        "student_a",
        "participant_a",
        "monitor_a",
    }
)

#: Whose an object of each kind of target is (see the module docstring).
OWNERS: dict[str, frozenset[str]] = {
    "A": SIDE_A,
    "A/class": frozenset({"teacher_a", "student_a", "monitor_a"}),
    "A/class:peer": frozenset({"teacher_a", "monitor_a"}),
    "A/tot": frozenset({"trainer_a", "participant_a", "monitor_a"}),
    "A/tot:peer": frozenset({"trainer_a", "monitor_a"}),
    "B": frozenset(),
    "B/class": frozenset(),
    "B/tot": frozenset(),
    "-": frozenset(ACTORS),  # an endpoint without an object: "own" means "theirs only"
}

#: What every side-B name contains, and what an "own only" page must not show.
OTHER_MARK = "BRAVO"

#: The change log the triggers write (a table of the test, not of the application).
CHANGE_TABLE = "matrix_change"
AUDIT_TABLE = "lms_audit_entry"
#: Tables whose rows never change: a restore only takes away the rows added.
APPEND_ONLY = frozenset({AUDIT_TABLE, "lms_progress_record"})
#: Audit entries that record a refusal rather than a change (``lms.audit.denied``).
NOT_A_CHANGE = frozenset({"access.denied"})


def _stub_pdf() -> bytes:
    """A real one-page PDF: rendering is not what these tests are about, and is slow."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- the database -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_database(
    database_template: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """A database of the module's own: never the one the other tests truncate and reuse."""
    if database_template["kind"] == "sqlite":
        path = tmp_path_factory.mktemp("access") / "world.sqlite3"
        shutil.copyfile(database_template["path"], path)
        yield f"sqlite:///{path}"
        return
    url = make_url(database_template["url"])
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"{url.database}_{module}"[:63]
    server = create_engine(url, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    world_url = url.set(database=name).render_as_string(hide_password=False)
    migrate_to_head(world_url, tmp_path_factory.mktemp("access-migrate"))
    yield world_url
    drop()
    server.dispose()


# --- change log and restore -------------------------------------------------------------------


class Restorer:
    """Notes which tables a request changed (triggers) and puts them back (a snapshot)."""

    def __init__(self, url: str, tables: list[Table]) -> None:
        self.engine: Engine = create_engine(url)
        self.tables = tables
        self.by_name = {table.name: table for table in tables}
        self.postgres = self.engine.dialect.name == "postgresql"
        self._install_triggers()
        #: The application's own triggers on SQLite (the audit log refuses deletes), which a
        #: restore drops and creates again; PostgreSQL's are off under "replica".
        self.app_triggers: list[tuple[str, str, str]] = []
        if not self.postgres:
            with self.engine.connect() as connection:
                self.app_triggers = list(
                    connection.execute(
                        text(
                            "SELECT name, tbl_name, sql FROM sqlite_master"
                            " WHERE type = 'trigger' AND name NOT LIKE 'matrix_%'"
                        )
                    )
                )
        with self.engine.connect() as connection:
            self.snapshot = {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in tables
            }
        self.last_ids = {
            name: max((row["id"] for row in self.snapshot[name]), default=0) for name in APPEND_ONLY
        }
        self.last_audit_id = self.last_ids[AUDIT_TABLE]

    def _install_triggers(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE {CHANGE_TABLE} (name VARCHAR(100) NOT NULL)"))
            if self.postgres:
                connection.execute(
                    text(
                        "CREATE FUNCTION matrix_log() RETURNS trigger LANGUAGE plpgsql AS $$"
                        f" BEGIN INSERT INTO {CHANGE_TABLE} VALUES (TG_TABLE_NAME); RETURN NULL;"
                        " END $$"
                    )
                )
            for table in self.tables:
                if self.postgres:
                    connection.execute(
                        text(
                            "CREATE TRIGGER matrix_log AFTER INSERT OR UPDATE OR DELETE"
                            f' ON "{table.name}" FOR EACH ROW EXECUTE FUNCTION matrix_log()'
                        )
                    )
                    continue
                for operation in ("INSERT", "UPDATE", "DELETE"):
                    connection.execute(
                        text(
                            f'CREATE TRIGGER "matrix_{operation.lower()}_{table.name}"'
                            f' AFTER {operation} ON "{table.name}"'
                            f" BEGIN INSERT INTO {CHANGE_TABLE} VALUES ('{table.name}'); END"
                        )
                    )

    def changed(self) -> set[str]:
        """The tables changed since the last ``restore`` (or since the world was built).

        A refusal written to the audit log (``access.denied``) is not a change of state:
        such entries are dropped at once and not reported.
        """
        with self.engine.connect() as connection:
            names = set(connection.scalars(text(f"SELECT DISTINCT name FROM {CHANGE_TABLE}")))
            if names == {AUDIT_TABLE}:
                actions = set(
                    connection.scalars(
                        text(f"SELECT DISTINCT action FROM {AUDIT_TABLE} WHERE id > :last"),
                        {"last": self.last_audit_id},
                    )
                )
                if actions <= NOT_A_CHANGE:
                    self.restore(names)
                    return set()
        return names

    def restore(self, names: set[str]) -> None:
        """Put the named tables back as they were when the world was built."""
        ordered = [table for table in self.tables if table.name in names]
        with self.engine.begin() as connection:
            if self.postgres:
                # Foreign keys and the logging triggers are triggers: "replica" turns them off.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            dropped = [t for t in self.app_triggers if t[1] in names]
            for name, _table, _sql in dropped:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
            for table in reversed(ordered):
                if table.name in APPEND_ONLY:  # only new entries to take away
                    connection.execute(delete(table).where(table.c.id > self.last_ids[table.name]))
                else:
                    connection.execute(delete(table))
            for table in ordered:
                rows = self.snapshot[table.name]
                if rows and table.name not in APPEND_ONLY:
                    connection.execute(insert(table), rows)
            for _name, _table, sql in dropped:
                connection.execute(text(sql))
            connection.execute(text(f"DELETE FROM {CHANGE_TABLE}"))

    def close(self) -> None:
        self.engine.dispose()


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    #: Object ids by kind, then by target ("A", "A/class", "B/tot", …).
    ids: dict[str, dict[str, Any]]
    #: User ids of the actors (and of side B's people, under their own names).
    users: dict[str, int]
    restorer: Restorer
    cookies: dict[str, str] = field(default_factory=dict)

    def id(self, kind: str, target: str) -> Any:
        return self.ids[kind][target]

    def client(self, actor: str) -> FlaskClient:
        """A fresh client logged in as ``actor`` (a log-out or a flash never carries over)."""
        client = self.app.test_client()
        if actor != "anonymous":
            client.set_cookie("session", self.cookies[actor], domain="lms.test")
        return client


@pytest.fixture(scope="module")
def world(world_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": world_database,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("access-instance")),
        "CERTIFICATES_RENDER_PROCESSES": 1,
        # Every 403 would append an ``access.denied`` audit entry, to be dropped again here
        # (``Restorer.changed`` tolerates them); tests/lms/test_audit.py tests them.
        "AUDIT_DENIED_ACCESS": False,
    }
    pdf = _stub_pdf()
    with pytest.MonkeyPatch.context() as patch:
        for target in (
            "curriculum.export.html_to_pdf",
            "lessons.views_plans.html_to_pdf",
            "quizzes.views_paper.html_to_pdf",
            "lms.reports.donor.html_to_pdf",
        ):
            patch.setattr(target, lambda html, *args, **kwargs: pdf)
        for target in (
            "certificates.rendering.render_certificate",
            "certificates.views.render_certificate",
        ):
            patch.setattr(target, lambda *args, **kwargs: pdf)
        app = create_app(settings)
        app.test_client_class = IsolatedClient
        with app.app_context():
            users, ids = build_world(pdf)
            db.session.commit()
            tables = list(db.metadata.sorted_tables)
            db.session.remove()
        found = World(app=app, ids=ids, users=users, restorer=Restorer(world_database, tables))
        found.cookies = _log_in(app)
        found.restorer.restore(found.restorer.changed())  # the log-ins' audit entries
        yield found
        found.restorer.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _log_in(app: Flask) -> dict[str, str]:
    from tests.factories import PASSWORD

    cookies = {}
    for actor in ACTORS:
        if actor == "anonymous":
            continue
        client = app.test_client()
        response = client.post("/account/login", data={"username": actor, "password": PASSWORD})
        assert response.status_code == 302, (actor, response.status_code)
        cookie = client.get_cookie("session", domain="lms.test")
        assert cookie is not None, actor
        cookies[actor] = cookie.value
    return cookies


def _document(slug: str, mark: str, module: str, position: int, title: str) -> Any:
    from curriculum.content import Block, ModuleDocument

    blocks = (
        Block("p-aaaaaa", f"# {title}", "heading"),
        Block("p-bbbbbb", f"A paragraph of {mark}."),
    )
    meta = {
        "manual": slug,
        "module": module,
        "position": position,
        "language": "en",
        "title": title,
        "objectives": ["Know it."],
        "duration_minutes": 45,
    }
    return ModuleDocument(meta=meta, blocks=blocks)


def build_world(pdf: bytes) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Every object the endpoints take, on side A and on side B (not committed)."""
    from certificates import issuance, rendering
    from certificates.models import StatusList
    from curriculum import editions, feedback, review, translations, versions
    from curriculum.services import create_manual
    from lessons import practice, sessions
    from lessons.models import MonitoringVisit
    from lms import jobs
    from lms.accounts.models import RoleGrant
    from lms.accounts.roles import MONITOR, PARTICIPANT, STUDENT, TEACHER, TRAINER
    from lms.cohorts.models import CLASS, TOT
    from quizzes import attempts, quiz_service
    from quizzes.models import Answer, QuizSlot
    from tests import factories
    from tests.certificates.helpers import mark_completed
    from tests.quizzes.test_attempts import bank, essay, form, key, position_of, truefalse

    ids: dict[str, dict[str, Any]] = {}

    def put(kind: str, target: str, value: Any) -> None:
        ids.setdefault(kind, {})[target] = value

    people: dict[str, Any] = {}

    def person(username: str, name: str, role: str | None = None, **kwargs: Any) -> Any:
        people[username] = factories.user(role, username=username, name=name, **kwargs)
        return people[username]

    # People who are everywhere or nowhere.
    person("nobody", "Nobody Withoutrole")
    person("admin", "Admin Person", "admin")
    person("editor", "Editor Everywhere", "editor")
    person("reviewer_out", "Reviewer Outside", "reviewer", expertise="methodology")

    sides = {
        "A": ("ALPHA", "osh-region", "civic-education"),
        "B": ("BRAVO", "naryn", "health-basics"),
    }
    for side, (mark, region_code, slug) in sides.items():
        low = side.lower()
        region = factories.region(region_code)
        put("region", side, region.id)
        madrasa = factories.madrasa(f"Madrasa {mark}", region_code=region_code)
        put("madrasa", side, madrasa.id)

        # --- curriculum: a manual with a reviewed, published module, a draft, a review ----
        manual = create_manual(slug=slug, title_en=f"{slug.title()}", actor_id=None)
        put("manual", side, slug)
        editor = (
            person("editor_a", "Editor ALPHA", "editor", scope=manual)
            if side == "A"
            else person("editor_b", "Editor BRAVO", "editor", scope=manual)
        )
        reviewer = person(
            f"reviewer_{low}", f"Reviewer {mark}", "reviewer", scope=manual, expertise="theology"
        )
        second = person(
            f"reviewer_{low}2", f"Second Reviewer {mark}", "reviewer", expertise="civic_education"
        )
        panel = review.ensure_panel(manual, "en", actor_id=None)
        review.add_seat(panel, reviewer, "theology", actor_id=None)
        review.add_seat(panel, second, "civic_education", actor_id=None)
        put("language", side, "en")

        first = versions.get_or_create_module(manual, "first", 1)
        published = versions.create_draft(
            first, _document(slug, mark, "first", 1, f"First {mark}"), author_id=editor.id
        )
        versions.submit(published, actor_id=editor.id)
        review.decide(published, reviewer, "approve")
        review.decide(published, second, "approve")
        edition = editions.publish(manual, "en", actor_id=editor.id, notes="")
        put("published_version", side, published.id)
        put("edition", side, edition.number)
        put("module", side, "first")
        draft = versions.new_draft_from(published, author_id=editor.id)
        put("draft", side, draft.id)
        other = versions.get_or_create_module(manual, "second", 2)
        in_review = versions.create_draft(
            other, _document(slug, mark, "second", 2, f"Second {mark}"), author_id=editor.id
        )
        versions.submit(in_review, actor_id=editor.id)
        asked = review.decide(in_review, reviewer, "request_changes", "Please say more.")
        put("version", side, in_review.id)
        put("review", side, asked.id)
        comment = review.add_comment(in_review, reviewer, "p-bbbbbb", f"A comment {mark}.")
        put("comment", side, comment.id)
        term = translations.save_term(
            manual, "ky", "state", f"мамлекет {mark}", "", actor_id=editor.id
        )
        put("term", side, term.id)

        # --- cohorts: a class and a ToT, people, completion ----------------------------------
        klass = factories.cohort(
            CLASS,
            name=f"Class {mark}",
            place=madrasa,
            manual=slug,
            completion_rule="marked-complete",
        )
        tot = factories.cohort(
            TOT,
            name=f"ToT {mark}",
            region=region,
            manual=slug,
            completion_rule="marked-complete",
        )
        put("cohort", f"{side}/class", klass.id)
        put("cohort", f"{side}/tot", tot.id)
        teacher = person(f"teacher_{low}", f"Teacher {mark}", TEACHER, scope=madrasa)
        student = person(f"student_{low}", f"Student {mark}")
        classmate = person(f"student_{low}2", f"Classmate {mark}")
        trainer = person(f"trainer_{low}", f"Trainer {mark}")
        participant = person(f"participant_{low}", f"Participant {mark}")
        fellow = person(f"participant_{low}2", f"Fellow {mark}")
        person(f"monitor_{low}", f"Monitor {mark}", MONITOR, scope=region)
        put("user", side, teacher.id)
        put(
            "grant",
            side,
            (
                teacher.id,
                db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == teacher.id)),
            ),
        )
        memberships = {}
        for group, member, role in (
            (klass, teacher, TEACHER),
            (klass, student, STUDENT),
            (klass, classmate, STUDENT),
            (tot, trainer, TRAINER),
            (tot, participant, PARTICIPANT),
            (tot, fellow, PARTICIPANT),
        ):
            memberships[member.username] = factories.member(group, member, role)
        put("member", f"{side}/class", (student.id, memberships[student.username].id))
        put("member", f"{side}/tot", (participant.id, memberships[participant.username].id))
        for group, learners in ((klass, (student, classmate)), (tot, (participant, fellow))):
            for learner in learners:
                mark_completed(group, learner)
        feedback_item = feedback.add_feedback(
            published,
            author_id=teacher.id,
            source="classroom",
            body=f"Feedback {mark}",
            paragraph_id="",
        )
        put("feedback", side, feedback_item.id)

        # --- lessons: a held session with attendance, practice lessons, a visit ------------
        for target, group, learners, leader in (
            ("class", klass, (student, classmate), teacher),
            ("tot", tot, (participant, fellow), trainer),
        ):
            held = sessions.plan_session(
                group,
                held_on=date(2026, 9, 2),
                module_version_id=published.id,
                title="",
                actor_id=leader.id,
            )
            sessions.record_session(
                held, actor=leader, attendance={p.id: "present" for p in learners}
            )
            put("session", f"{side}/{target}", held.id)
        for target, who in (("tot", participant), ("tot:peer", fellow)):
            lesson = practice.add_practice(
                tot,
                participant_id=who.id,
                module_version_id=published.id,
                taught_on=date(2026, 9, 3),
                module_ids=[published.id],
                actor_id=trainer.id,
            )
            put("practice", f"{side}/{target}", lesson.id)
        visit = MonitoringVisit(
            madrasa_id=madrasa.id,
            visited_on=date(2026, 9, 10),
            officer_id=people[f"monitor_{low}"].id,
            visitors=f"Visitor {mark}",
            cohort_id=klass.id,
            checklist={},
            findings=f"Findings {mark}",
            follow_ups="Buy soap.",
            follow_ups_done=False,
        )
        db.session.add(visit)
        db.session.flush()
        put("visit", side, visit.id)

        # --- quizzes: a bank, a quiz per cohort, attempts, an essay to grade -----------------
        questions = bank(f"Bank {mark}", manual=slug)
        put("bank", side, questions.id)
        true_false, long_answer = truefalse(questions), essay(questions, mark=2)
        put("question", side, true_false.id)
        for target, group, learners in (
            ("class", klass, (("", student), (":peer", classmate))),
            ("tot", tot, (("", participant), (":peer", fellow))),
        ):
            quiz = quiz_service.create_quiz(
                group,
                quiz_service.QuizSettings(
                    title=f"Quiz {mark}", attempts_allowed=0, shuffle_answers=False
                ),
                actor_id=None,
            )
            for found in (true_false, long_answer):
                quiz_service.add_question_slot(quiz, found.id, actor_id=None)
            quiz_service.set_published(quiz, True, actor_id=None)
            put("quiz", f"{side}/{target}", quiz.id)
            slot = db.session.scalar(
                select(QuizSlot.id).where(QuizSlot.quiz_id == quiz.id).limit(1)
            )
            put("slot", f"{side}/{target}", slot)
            # A quiz still being written (no attempts, so its questions can still change).
            draft_quiz = quiz_service.create_quiz(
                group, quiz_service.QuizSettings(title=f"Draft quiz {mark}"), actor_id=None
            )
            put("draft_quiz", f"{side}/{target}", draft_quiz.id)
            put(
                "draft_slot",
                f"{side}/{target}",
                quiz_service.add_question_slot(draft_quiz, true_false.id, actor_id=None).id,
            )
            for suffix, learner in learners:
                attempt = attempts.start_attempt(quiz, learner, key())
                fields = {
                    f"q{position_of(attempt, true_false)}": "true",
                    f"q{position_of(attempt, long_answer)}": f"An essay {mark}.",
                }
                attempts.save_responses(attempt, learner, form(**fields), 1)
                attempts.submit_attempt(attempt, learner)
                put("attempt", f"{side}/{target}{suffix}", attempt.id)
                answer = db.session.scalar(
                    select(Answer.id).where(Answer.attempt_id == attempt.id, Answer.max_mark == 2)
                )
                put("answer", f"{side}/{target}{suffix}", answer)

        # --- certificates: every completed learner has one ----------------------------------
        issuance.choose_design(klass, "graduate", "ky", actor=teacher)
        for target, group, leader, learners in (
            ("class", klass, teacher, (("", student), (":peer", classmate))),
            ("tot", tot, trainer, (("", participant), (":peer", fellow))),
        ):
            made = {c.recipient_id: c for c in issuance.issue_to_completers(group, actor=leader)}
            for suffix, learner in learners:
                certificate = made[learner.id]
                db.session.flush()
                rendering.store_pdf(certificate.id, pdf)
                put("certificate", f"{side}/{target}{suffix}", certificate.id)
                put("code", f"{side}/{target}{suffix}", certificate.verification_id)

        # --- a donor-report job with its files, as the reports page starts it --------------
        job = jobs.Job(
            id=jobs.new_job_id(),
            name="Donor report",
            created_by_id=people[f"monitor_{low}"].id,
            status=jobs.SUCCEEDED,
        )
        db.session.add(job)
        db.session.flush()
        jobs.attach_file(job.id, f"donor-report-{low}.pdf", "application/pdf", pdf)
        put("job", side, job.id)
        put("job_file", side, f"donor-report-{low}.pdf")

    status_list = db.session.scalar(select(StatusList.id).limit(1))
    put("status_list", "A", status_list)
    put("status_list", "B", status_list)
    db.session.flush()
    return {name: user.id for name, user in people.items()}, ids
