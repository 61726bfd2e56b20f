"""Realistic sample data at scale, for benchmarks (issue "Scale and speed"). Run by hand.

    .venv/bin/python benchmarks/generate.py --scale 1
    .venv/bin/python benchmarks/generate.py --scale 10 --big-quiz \\
        --database postgresql://postgres@127.0.0.1:5432/bench10
    .venv/bin/python benchmarks/generate.py --refresh-only --database URL

Without ``--database`` it writes a new SQLite file and prints its path; with a PostgreSQL
URL it drops and recreates that database (an SQLite URL: the file is replaced).
``--refresh-only`` only brings the completion snapshots of an existing generated database
up to date (they count as stale a day after they were made). See benchmarks/README.md.

What it makes, at scale N (all of it sample data, deterministic for a ``--seed``):

1. the schema, with the real migrations (``flask_migrate.upgrade``);
2. the demo (``lms.demo.load_demo``: staff, the two sample manuals imported, reviewed and
   published through the curriculum's services, the demo cohorts, quizzes, certificates),
   then one question bank per manual made through the quizzes' services from the
   published modules' own sentences, in every language a module is published in, linked
   as translations;
3. the bulk, written with COPY (PostgreSQL) or ``executemany`` (SQLite) from a writer
   thread while the rows are generated, in the shapes the services write (see ``Bulk``):
   100·N madrasas over the nine regions, 500·N teachers, 15,000·N students, 10·N trainers,
   monitoring officers; per madrasa, school year (2025–26, 2026–27) and manual one or two
   classes of 15–30 students pinned to an edition (about 600·N classes), each with a
   schedule of about 30 lessons, the held ones recorded with attendance and ledger
   records (about 3,000,000 attendance rows at N = 10), a practice quiz and a final test
   with attempts, answers and ledger records (about 2,000,000 answers at N = 10);
   40·N three-day ToT cohorts made from the ToT template (about 21 participants on
   average: most teachers take part in one per manual), with attendance, practice lessons
   scored by trainers and peers, pre- and post-tests with gains, and recommendations; two
   monitoring visits per madrasa and year with follow-ups; field feedback on paragraphs,
   partly triaged; and the audit entries of all of it, hash-chained (on PostgreSQL the
   bulk tables' foreign keys and secondary indexes are re-created after the load, see
   ``PostgresLoadMode``);
4. certificates for the ToT participants who completed, issued through
   ``certificates.issuance.issue_to_completers`` (signed credentials; PDFs not rendered);
5. completion snapshots refreshed for every cohort, the report's attendance totals made
   (``lessons.totals``), and ``ANALYZE``.

``--big-quiz`` adds one quiz of 20 questions answered by 50,000 learners (1,000,000
answers) for the item-analysis benchmark. Every account's password is ``demo-password``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import queue
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import names  # the name lists next to this script

#: Base counts at scale 1 (the issue's figures).
MADRASAS, TEACHERS, STUDENTS, TOTS, TRAINERS = 100, 500, 15_000, 40, 10
#: The day the generated world stands at: sessions before it are held, after it planned.
TODAY = date(2026, 12, 7)
SCHOOL_YEARS = (2025, 2026)
MANUALS = ("civic-education", "health-basics")
LANGUAGES = ("en", "ru", "ky")
PASSWORD = "demo-password"
SECRET_KEY = "benchmark-" + "x" * 32
PUBLIC_URL = "https://lms.example.kg"
BISHKEK_UTC_OFFSET = timedelta(hours=6)
BIG_QUIZ_LEARNERS, BIG_QUIZ_QUESTIONS = 50_000, 20
BATCH_ROWS = 20_000


# --- small helpers ----------------------------------------------------------------------------


def scaled(base: float, scale: float) -> int:
    return max(1, round(base * scale))


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, deterministic)."""
    whole = sum(weights.values())
    exact = {key: total * weight / whole for key, weight in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    rest = total - sum(shares.values())
    for key in sorted(exact, key=lambda k: (shares[k] - exact[k], k))[:rest]:
        shares[key] += 1
    return shares


def local_moment(rng: random.Random, day: date, start_hour: float, end_hour: float) -> datetime:
    """A random moment between two local (Bishkek) hours of ``day``, as naive UTC."""
    seconds = rng.uniform(start_hour * 3600, end_hour * 3600)
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    # Never a whole second: str() then always writes the microseconds, as SQLAlchemy does.
    return moment.replace(microsecond=rng.randint(1, 999_999)) - BISHKEK_UTC_OFFSET


def stamp(moment: datetime) -> str:
    """A timestamp as both databases store it (SQLAlchemy's SQLite format)."""
    return str(moment)


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


class Phases:
    """Wall-clock time per phase, printed as each one ends."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        begun = time.perf_counter()
        print(f"… {name}", flush=True)
        yield
        took = time.perf_counter() - begun
        self.times.append((name, took))
        print(f"  {name}: {took:.1f} s", flush=True)

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


# --- the database -------------------------------------------------------------------------------


def prepare_database(url: str | None) -> tuple[str, Path]:
    """A fresh, empty database: a new SQLite file, or the PostgreSQL database recreated."""
    folder = Path(tempfile.mkdtemp(prefix="lms-data-"))
    if url is None:
        return f"sqlite:///{folder}/bench.sqlite3", folder
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        path = Path(target.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return url, folder
    admin = create_engine(
        target.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url, folder


def app_config(url: str, folder: Path) -> dict[str, Any]:
    """The configuration the generator (and the smoke check) run the application with."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "JOBS_IN_BACKGROUND": False,
    }


class Backend:
    """Writes batches of rows to one table, on a connection of its own."""

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PostgresBackend(Backend):
    """``COPY … FROM STDIN`` through psycopg's ``cursor.copy()``: one COPY per batch."""

    def __init__(self, url: str) -> None:
        import psycopg

        target = make_url(url)
        self.connection = psycopg.connect(
            host=target.host or "127.0.0.1",
            port=target.port or 5432,
            user=target.username or "postgres",
            password=target.password or None,
            dbname=target.database,
        )
        # Nothing reads while the bulk is written; a lost bulk is simply generated again.
        self.connection.execute("SET synchronous_commit = off")

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


class SqliteBackend(Backend):
    """``executemany`` on one transaction, foreign keys checked, without fsync."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=OFF",
            "PRAGMA cache_size=-200000",
            "PRAGMA busy_timeout=60000",
        ):
            self.connection.execute(pragma)
        self.connection.execute("BEGIN IMMEDIATE")

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


#: The tables the bulk writes, parents before children, with the columns it fills.
TABLES: dict[str, tuple[str, ...]] = {
    "lms_user": (
        "id", "username", "name", "sex", "email", "phone", "preferred_language",
        "password_hash", "active", "session_version", "created_at", "last_login_at",
    ),
    "lms_role_grant": (
        "id", "user_id", "role", "scope_type", "scope_id", "expertise", "granted_by_id",
        "granted_at",
    ),
    "lms_madrasa": ("id", "name", "region_id", "locality", "address", "created_at"),
    "lms_cohort": (
        "id", "kind", "name", "region_id", "madrasa_id", "venue", "starts_on", "ends_on",
        "manual", "completion_rule", "completion_params", "archived", "created_at",
        "created_by_id",
    ),
    "curriculum_cohort_edition": ("cohort_id", "edition_id"),
    "lms_membership": ("id", "cohort_id", "user_id", "role", "joined_at"),
    "lessons_session": (
        "id", "cohort_id", "module_version_id", "title", "stage", "day", "position",
        "held_on", "duration_minutes", "status", "taught_by_id", "notes", "recorded_at",
        "recorded_by_id", "created_at", "updated_at",
    ),
    "lessons_attendance": (
        "id", "session_id", "user_id", "status", "recorded_by_id", "recorded_at",
    ),
    "lessons_practice_lesson": (
        "id", "cohort_id", "participant_id", "module_version_id", "taught_on", "created_at",
    ),
    "lessons_practice_score": (
        "id", "practice_id", "scorer_id", "role", "scores", "comment", "created_at",
        "updated_at",
    ),
    "quizzes_quiz": (
        "id", "cohort_id", "title", "kind", "language", "attempts_allowed",
        "time_limit_minutes", "shuffle_questions", "shuffle_answers", "pass_mark",
        "show_results", "show_feedback", "opens_at", "closes_at", "published", "created_at",
        "created_by_id",
    ),
    "quizzes_quiz_slot": (
        "id", "quiz_id", "position", "question_id", "bank_id", "module_slug", "count", "mark",
    ),
    "quizzes_attempt": (
        "id", "quiz_id", "user_id", "number", "idempotency_key", "status", "source",
        "entered_by_id", "started_at", "submitted_at", "score", "max_score", "percent",
        "passed",
    ),
    "quizzes_answer": (
        "id", "attempt_id", "position", "question_version_id", "max_mark", "shown_order",
        "response", "fraction", "mark", "feedback", "graded_by_id", "graded_at", "updated_at",
    ),
    "lms_progress_record": (
        "id", "user_id", "cohort_id", "item_type", "item_id", "outcome", "score", "source",
        "recorded_by_id", "recorded_at", "details",
    ),
    "lessons_monitoring_visit": (
        "id", "madrasa_id", "visited_on", "officer_id", "visitors", "cohort_id",
        "module_version_id", "checklist", "findings", "follow_ups", "follow_ups_done",
        "created_at",
    ),
    "curriculum_feedback": (
        "id", "module_id", "version_id", "paragraph_id", "source", "author_id", "body",
        "status", "triage_note", "triaged_by_id", "triaged_at", "resolved_by_version_id",
        "created_at",
    ),
    "lms_audit_entry": (
        "id", "at", "actor_id", "action", "object_type", "object_id", "details", "prev_hash",
        "hash",
    ),
}  # fmt: skip


class BulkWriter:
    """Buffers rows per table and hands full batches to a writer thread, in order.

    Before a table's batch goes out, every pending batch of a table it may reference (those
    listed before it in ``TABLES``) goes first, so foreign keys always find their rows. The
    writer thread owns its own connection and one transaction; while it waits for the
    database the generating thread makes the next rows.
    """

    def __init__(self, factory: Callable[[], Backend], batch_rows: int = BATCH_ROWS) -> None:
        self.batch_rows = batch_rows
        self.order = list(TABLES)
        self.pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.order}
        self.counts: dict[str, int] = dict.fromkeys(self.order, 0)
        self.queue: queue.Queue[tuple[str, list[tuple[Any, ...]]] | None] = queue.Queue(8)
        self.error: BaseException | None = None
        #: seconds the generator waited for the writer, and the writer spent writing
        self.waited = self.writing = 0.0
        self.factory = factory
        self.thread = threading.Thread(target=self._run, name="bulk-writer", daemon=True)
        self.thread.start()

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        rows = self.pending[table]
        rows.append(row)
        if len(rows) >= self.batch_rows:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        """Send ``table``'s batch (all batches when None) and those of its parents first."""
        last = self.order.index(table) if table is not None else len(self.order) - 1
        for name in self.order[: last + 1]:
            if self.pending[name]:
                rows, self.pending[name] = self.pending[name], []
                self.counts[name] += len(rows)
                self._check()
                begun = time.perf_counter()
                self.queue.put((name, rows))
                self.waited += time.perf_counter() - begun

    def close(self) -> None:
        """Write what is left, commit, and wait for the thread."""
        self.flush()
        self.queue.put(None)
        self.thread.join()
        self._check()

    def _check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the bulk writer failed: {self.error}") from self.error

    def _run(self) -> None:
        backend = None
        try:
            backend = self.factory()
            while (item := self.queue.get()) is not None:
                table, rows = item
                begun = time.perf_counter()
                backend.write(table, TABLES[table], rows)
                self.writing += time.perf_counter() - begun
            backend.commit()
        except BaseException as error:  # handed to the generating thread
            self.error = error
            while self.queue.get() is not None:  # unblock the producer
                pass
        finally:
            if backend is not None:
                backend.close()


class Ids:
    """The next primary key of each table, handed out here so rows can refer to each other
    before they are written (the sequences are set past them afterwards)."""

    def __init__(self, db: Any) -> None:
        self.next: dict[str, int] = {}
        for table in TABLES:
            if "id" in TABLES[table]:
                found = db.session.execute(text(f"SELECT max(id) FROM {table}")).scalar()
                self.next[table] = int(found or 0) + 1

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def check_columns(db: Any) -> None:
    """Every column the bulk fills exists, and every NOT NULL column is filled."""
    for table, columns in TABLES.items():
        model = db.metadata.tables[table]
        unknown = set(columns) - {c.name for c in model.columns}
        missing = {c.name for c in model.columns if not c.nullable} - set(columns)
        if unknown or missing:
            raise SystemExit(f"{table}: unknown columns {unknown}, missing columns {missing}")


class PostgresLoadMode:
    """PostgreSQL's advice for populating a database: while the bulk is copied in, the
    bulk tables' foreign keys, unique constraints and secondary indexes are dropped; then
    they are created again from their own definitions (``pg_get_constraintdef``,
    ``pg_get_indexdef``). Re-creating a unique index or adding a foreign key checks every
    row, so each constraint is still enforced, once and set-wise instead of per row; the
    schema afterwards is compared with the one before. Primary keys and CHECK constraints
    stay in place throughout."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.constraints: list[tuple[str, str, str, str]] = []
        self.indexes: list[tuple[str, str, str]] = []

    def _catalog(self) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]]]:
        tables = list(TABLES)
        constraints = self.db.session.execute(
            text(
                "SELECT c.conrelid::regclass::text, c.conname, c.contype::text,"
                " pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " WHERE c.conrelid::regclass::text = ANY(:tables) AND c.contype IN ('f', 'u')"
                " ORDER BY 1, 2"
            ),
            {"tables": tables},
        ).all()
        indexes = self.db.session.execute(
            text(
                "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i"
                " WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables)"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                "   WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))"
                " ORDER BY 1, 2"
            ),
            {"tables": tables},
        ).all()
        return [tuple(r) for r in constraints], [tuple(r) for r in indexes]  # type: ignore[misc]

    def drop(self) -> None:
        self.constraints, self.indexes = self._catalog()
        for table, name, kind, _definition in self.constraints:
            if kind == "f":
                self.db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for table, name, kind, _definition in self.constraints:
            if kind == "u":
                self.db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for _table, name, _definition in self.indexes:
            self.db.session.execute(text(f'DROP INDEX "{name}"'))
        self.db.session.commit()

    def restore(self) -> None:
        session = self.db.session
        session.execute(text("SET maintenance_work_mem = '1GB'"))
        for _table, _name, definition in self.indexes:
            session.execute(text(definition))
            session.commit()
        for table, name, kind, definition in self.constraints:
            if kind == "u":
                session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
                session.commit()
        for table, name, kind, definition in self.constraints:
            if kind == "f":
                session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
                session.commit()
        if self._catalog() != (self.constraints, self.indexes):
            raise SystemExit("the schema after the load differs from the one before")


def reset_sequences(db: Any) -> None:
    """PostgreSQL: move each id sequence past the ids the bulk wrote."""
    if db.engine.dialect.name != "postgresql":
        return
    for table, columns in TABLES.items():
        if "id" in columns:
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" coalesce((SELECT max(id) FROM {table}), 1))"
                )
            )
    db.session.commit()


# --- reference data: what the bulk builds on ----------------------------------------------------


@dataclass(frozen=True)
class QuestionRef:
    """A question's latest version as an attempt freezes it, with the difficulty the
    simulated learners find in it."""

    question_id: int
    version_id: int
    qtype: str
    data: dict[str, Any]
    mark: float
    difficulty: float
    #: what may be shuffled (the type's ``choices``), and whether the author lets it be
    choices: tuple[Any, ...] = ()
    shuffle: bool = True


@dataclass
class EditionRef:
    """A published edition a cohort teaches from, its modules and their paragraphs."""

    id: int
    manual: str
    language: str
    modules: list[Any]
    #: module version id → (module id, paragraph block ids)
    paragraphs: dict[int, tuple[int, list[str]]] = field(default_factory=dict)


SAMPLE = {"en": "(sample)", "ru": "(пример)", "ky": "(үлгү)"}
QUIZ_TITLES = {
    "pre": {
        "en": "Pre-test: {manual} (sample)",
        "ru": "Входной тест: {manual} (пример)",
        "ky": "Алдын ала тест: {manual} (үлгү)",
    },
    "post": {
        "en": "Post-test: {manual} (sample)",
        "ru": "Тест в конце тренинга: {manual} (пример)",
        "ky": "Тренингдин жыйынтык тести: {manual} (үлгү)",
    },
    "practice": {
        "en": "Practice quiz: {manual} (sample)",
        "ru": "Тренировочный тест: {manual} (пример)",
        "ky": "Машыгуу тести: {manual} (үлгү)",
    },
    "final": {
        "en": "Final test: {manual} (sample)",
        "ru": "Итоговый тест: {manual} (пример)",
        "ky": "Жыйынтыктоочу тест: {manual} (үлгү)",
    },
}
QUESTION_TEXTS = {
    "single": {
        "en": "Which of these sentences is from the module “{title}”? (sample)",
        "ru": "Какое из этих предложений взято из модуля «{title}»? (пример)",
        "ky": "Бул сүйлөмдөрдүн кайсынысы «{title}» модулунан алынган? (үлгү)",
    },
    "multi": {
        "en": "Which of these sentences are from the module “{title}”? Choose all that apply."
        " (sample)",
        "ru": "Какие из этих предложений взяты из модуля «{title}»? Выберите все подходящие."
        " (пример)",
        "ky": "Бул сүйлөмдөрдүн кайсылары «{title}» модулунан алынган? Баарын тандаңыз. (үлгү)",
    },
    "truefalse": {
        "en": "The module “{title}” says: “{sentence}” (sample)",
        "ru": "В модуле «{title}» сказано: «{sentence}» (пример)",
        "ky": "«{title}» модулунда мындай деп айтылат: «{sentence}» (үлгү)",
    },
    "shortanswer": {
        "en": "Fill in the missing word from the module “{title}”: “{sentence}” (sample)",
        "ru": "Впишите пропущенное слово из модуля «{title}»: «{sentence}» (пример)",
        "ky": "«{title}» модулундагы түшүп калган сөздү жазыңыз: «{sentence}» (үлгү)",
    },
    "numerical": {
        "en": "How many minutes does the manual plan for the lesson “{title}”? (sample)",
        "ru": "Сколько минут пособие отводит на урок «{title}»? (пример)",
        "ky": "Колдонмо «{title}» сабагына канча мүнөт бөлөт? (үлгү)",
    },
}
#: What the simulated learners type when they do not know a missing word.
WRONG_WORDS = {
    "en": ("water", "family", "school", "people", "rights"),
    "ru": ("вода", "семья", "школа", "люди", "права"),
    "ky": ("суу", "үй-бүлө", "мектеп", "адамдар", "укуктар"),
}
RECOMMENDATIONS = {
    "en": (
        "Add a short role play to this part; participants found it abstract. (sample)",
        "The example does not fit rural madrasas; suggest one from village life. (sample)",
        "Give the source of the hadith quoted here. (sample)",
        "This paragraph is too long to read aloud in class; split it in two. (sample)",
        "Add a question to check understanding after this paragraph. (sample)",
    ),
    "ru": (
        "Добавьте сюда короткую ролевую игру: участникам было сложно. (пример)",
        "Пример не подходит для сельских медресе, предложите другой. (пример)",
        "Укажите источник приведённого хадиса. (пример)",
        "Абзац слишком длинный для чтения вслух, разделите его на два. (пример)",
        "Добавьте вопрос для проверки понимания после этого абзаца. (пример)",
    ),
    "ky": (
        "Бул жерге кыска ролдук оюн кошуңуз: катышуучуларга түшүнүксүз болду. (үлгү)",
        "Мисал айылдык медреселерге туура келбейт, башкасын сунуштаңыз. (үлгү)",
        "Келтирилген хадистин булагын көрсөтүңүз. (үлгү)",
        "Абзац үн чыгарып окууга өтө узун, аны экиге бөлүңүз. (үлгү)",
        "Бул абзацтан кийин түшүнүгүн текшерүүчү суроо кошуңуз. (үлгү)",
    ),
}
CLASSROOM_FEEDBACK = {
    "en": (
        "My students asked about this; the manual could give one more example. (sample)",
        "The activity needs more time than the manual plans. (sample)",
        "A word here is hard for younger students; add a short explanation. (sample)",
    ),
    "ru": (
        "Ученики задавали вопросы по этому абзацу, нужен ещё один пример. (пример)",
        "Упражнение занимает больше времени, чем указано в пособии. (пример)",
        "Младшим ученикам трудно понять этот термин, добавьте пояснение. (пример)",
    ),
    "ky": (
        "Окуучулар бул абзац боюнча суроо беришти, дагы бир мисал керек. (үлгү)",
        "Көнүгүү колдонмодо жазылгандан көбүрөөк убакыт талап кылат. (үлгү)",
        "Кичүү окуучуларга бул термин түшүнүксүз, түшүндүрмө кошуңуз. (үлгү)",
    ),
}
FINDINGS = (
    "Lesson observed; the teacher followed the manual and used group work. (sample)",
    "Students took an active part; the lesson ran ten minutes over time. (sample)",
    "There are not enough copies of the manual; the teacher read from one copy. (sample)",
    "The teacher had no written lesson plan but knew the module well. (sample)",
    "Girls sat apart and spoke little; the teacher should involve them more. (sample)",
)
FOLLOW_UPS = (
    "Provide printed copies of the manual for the class. (sample)",
    "The teacher attends a refresher session on interactive methods. (sample)",
    "Check the lesson plan before the next visit. (sample)",
    "Discuss the timing of activities with the madrasa's head teacher. (sample)",
)
MANUAL_FINDINGS = (
    "The students did not understand the term in this paragraph; add an explanation.",
    "The activity in this paragraph needs materials most madrasas do not have.",
    "The example here is out of date; please replace it.",
)
TRIAGE_NOTES = {
    "accepted": "Will be changed in the next version. (sample)",
    "rejected": "The next paragraph already says this. (sample)",
    "deferred": "To discuss with the review panel. (sample)",
}
PRACTICE_COMMENTS = (
    "Clear objectives; involve the quieter participants more. (sample)",
    "Good examples from madrasa life; watch the time. (sample)",
    "Check understanding before moving on. (sample)",
    "",
    "",
)


def sentences_of(modules: Iterable[Any]) -> dict[int, list[str]]:
    """Plain sentences (30–150 characters) of each module version's paragraphs."""
    found: dict[int, list[str]] = {}
    for module in modules:
        out: list[str] = []
        for _block_id, kind, source, _html in module.blocks:
            if kind != "paragraph" or "madrasa-lms" in source:
                continue
            plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", source)
            plain = " ".join(re.sub(r"[*_`#>{}]", "", plain).split())
            for sentence in re.split(r"(?<=[.!?])\s+", plain):
                if 30 <= len(sentence) <= 150 and sentence[-1] in ".!?":
                    out.append(sentence)
        found[module.version_id] = out
    return found


class Reference:
    """What the bulk needs from the service-made data: regions, demo staff, editions with
    their modules, and the question banks (made here, through the quizzes' services)."""

    def __init__(self, db: Any, rng: random.Random, *, big_quiz: bool) -> None:
        from curriculum import api as curriculum
        from lms.accounts.models import User
        from lms.organisations.models import Region

        self.db = db
        self.rng = rng
        self.regions = {r.code: r.id for r in db.session.scalars(select(Region))}
        self.staff = {
            u.username: u.id
            for u in db.session.scalars(
                select(User).where(User.username.in_(("admin", "editor", "trainer", "monitor")))
            )
        }
        self.usernames = set(db.session.scalars(select(User.username)))
        self.password_hash = db.session.scalar(
            select(User.password_hash).where(User.username == "admin")
        )
        self.manual_titles: dict[tuple[str, str], str] = {}
        self.manual_ids: dict[str, int] = {}
        self.editions: dict[tuple[str, str], EditionRef] = {}
        for slug in MANUALS:
            manual = curriculum.get_manual(slug)
            assert manual is not None, f"the demo has no manual {slug}"
            self.manual_ids[slug] = manual.id
            for language in LANGUAGES:
                self.manual_titles[(slug, language)] = manual.title_in(language)
                info = curriculum.cohort_edition(0, slug, language)
                if info is None or info.language != language:
                    continue
                modules = curriculum.edition_modules(info.id, with_blocks=True)
                edition = EditionRef(info.id, slug, language, modules)
                module_ids = dict(
                    db.session.execute(
                        text(
                            "SELECT id, module_id FROM curriculum_module_version"
                            " WHERE id IN ({})".format(",".join(str(m.version_id) for m in modules))
                        )
                    ).all()
                )
                for module in modules:
                    edition.paragraphs[module.version_id] = (
                        module_ids[module.version_id],
                        [b[0] for b in module.blocks if b[1] == "paragraph"],
                    )
                self.editions[(slug, language)] = edition
        self.banks: dict[str, int] = {}
        self.pools: dict[tuple[str, str], list[QuestionRef]] = {}
        self._make_banks()
        self.big_quiz: dict[str, Any] | None = self._make_big_quiz() if big_quiz else None
        db.session.commit()

    def title(self, manual: str, language: str) -> str:
        return self.manual_titles[(manual, language)]

    # The question banks: made through the services, from the modules' own sentences.

    def _make_banks(self) -> None:
        from quizzes import questions, services

        editor = self.staff["editor"]
        rng = self.rng
        for slug in MANUALS:
            bank = services.create_bank(
                name=f"{self.title(slug, 'en')}: question bank (sample)",
                manual_slug=slug,
                description="Questions generated from the sample modules' own sentences, for"
                " benchmarks (sample).",
                actor_id=editor,
            )
            self.banks[slug] = bank.id
            other = MANUALS[1 - MANUALS.index(slug)]
            made: dict[tuple[str, int], dict[str, Any]] = {}
            for language in LANGUAGES:
                edition = self.editions.get((slug, language))
                distractor_edition = self.editions.get((other, language))
                if edition is None or distractor_edition is None:
                    continue
                own = sentences_of(edition.modules)
                foreign = [
                    s for found in sentences_of(distractor_edition.modules).values() for s in found
                ]
                for module in edition.modules:
                    for number, spec in enumerate(self._question_specs(module, own, foreign, rng)):
                        question = questions.create_question(
                            bank,
                            name=f"{module.module_slug}-{number + 1:02d}",
                            language=language,
                            module_slug=module.module_slug,
                            actor_id=editor,
                            **spec,
                        )
                        made.setdefault((module.module_slug, number), {})[language] = question
            for per_language in made.values():
                first = per_language.get("en")
                for language in ("ru", "ky"):
                    if first is not None and language in per_language:
                        questions.link_translation(first, per_language[language], actor_id=editor)
            self.db.session.flush()
            self._load_pool(slug, bank.id)

    def _question_specs(
        self, module: Any, own: dict[int, list[str]], foreign: list[str], rng: random.Random
    ) -> list[dict[str, Any]]:
        """Eight questions on one module: five choice questions, two true/false, one
        missing word (or a number, the lesson's length)."""
        language = module.language
        mine = own.get(module.version_id) or [module.title + "."]
        title = module.title
        specs: list[dict[str, Any]] = []

        def single() -> dict[str, Any]:
            answers = [{"text": rng.choice(mine), "fraction": 1.0}] + [
                {"text": s, "fraction": 0.0} for s in rng.sample(foreign, 3)
            ]
            rng.shuffle(answers)
            return {
                "qtype": "multichoice",
                "text": QUESTION_TEXTS["single"][language].format(title=title),
                "data": {
                    "single": True,
                    "shuffle": True,
                    "answers": [{**a, "format": "moodle", "feedback": ""} for a in answers],
                },
            }

        def multi() -> dict[str, Any]:
            rights = rng.sample(mine, min(2, len(mine)))
            answers = [{"text": s, "fraction": 1.0 / len(rights)} for s in rights] + [
                {"text": s, "fraction": -0.5} for s in rng.sample(foreign, 2)
            ]
            rng.shuffle(answers)
            return {
                "qtype": "multichoice",
                "text": QUESTION_TEXTS["multi"][language].format(title=title),
                "data": {
                    "single": False,
                    "shuffle": True,
                    "answers": [{**a, "format": "moodle", "feedback": ""} for a in answers],
                },
            }

        def truefalse(correct: bool) -> dict[str, Any]:
            sentence = rng.choice(mine if correct else foreign)
            return {
                "qtype": "truefalse",
                "text": QUESTION_TEXTS["truefalse"][language].format(
                    title=title, sentence=sentence
                ),
                "data": {"correct": correct, "feedback_true": "", "feedback_false": ""},
            }

        def missing_word() -> dict[str, Any]:
            for sentence in rng.sample(mine, len(mine)):
                words = [w for w in re.findall(r"\w+", sentence) if len(w) >= 6 and w.isalpha()]
                if words:
                    word = rng.choice(words)
                    gap = sentence.replace(word, "_____", 1)
                    return {
                        "qtype": "shortanswer",
                        "text": QUESTION_TEXTS["shortanswer"][language].format(
                            title=title, sentence=gap
                        ),
                        "data": {
                            "case_sensitive": False,
                            "answers": [{"text": word, "fraction": 1.0, "feedback": ""}],
                        },
                    }
            return single()

        specs = [single(), single(), truefalse(True), truefalse(False), single(), multi()]
        specs.append(missing_word())
        if module.duration_minutes:
            specs.append(
                {
                    "qtype": "numerical",
                    "text": QUESTION_TEXTS["numerical"][language].format(title=title),
                    "data": {
                        "answers": [
                            {
                                "value": float(module.duration_minutes),
                                "tolerance": 0.0,
                                "fraction": 1.0,
                                "feedback": "",
                            }
                        ]
                    },
                }
            )
        else:
            specs.append(single())
        return specs

    def _load_pool(self, slug: str, bank_id: int) -> None:
        """Each language's questions as a random slot draws them (``random_pool``), with a
        difficulty per question; one question per module reads worse in Kyrgyz, so the
        item analysis has a translation gap to flag."""
        from quizzes import quiz_service
        from quizzes.question_types import get_type

        difficulty = {
            "multichoice": (-0.4, 0.6),
            "truefalse": (-0.9, 0.5),
            "shortanswer": (0.7, 0.6),
            "numerical": (0.2, 0.6),
        }
        for language in LANGUAGES:
            pool = quiz_service.random_pool(bank_id, "", language)
            versions = quiz_service.latest_versions(q.id for q in pool)
            refs = []
            for question in pool:
                version = versions[question.id]
                data = version.data or {}
                mean, spread = difficulty.get(version.qtype, (0.0, 0.6))
                if version.qtype == "multichoice" and not data.get("single", True):
                    mean = 0.4
                level = self.rng.gauss(mean, spread)
                if language == "ky" and question.name.endswith("-05"):
                    level += 1.5  # a translation that changed the meaning
                refs.append(
                    QuestionRef(
                        question.id,
                        version.id,
                        version.qtype,
                        data,
                        version.default_mark,
                        level,
                        tuple(get_type(version.qtype).choices(data)),
                        bool(data.get("shuffle", True)),
                    )
                )
            if refs:
                self.pools[(slug, language)] = refs

    def _make_big_quiz(self) -> dict[str, Any]:
        """A national test of the Health Basics manual: a class cohort of its own and a
        published final quiz of 20 fixed questions, made through the services."""
        from lms.accounts.models import User
        from lms.cohorts import services as cohorts
        from lms.cohorts.models import CLASS
        from lms.organisations import services as organisations
        from quizzes import quiz_service

        admin = self.db.session.get(User, self.staff["admin"])
        madrasa = organisations.create_madrasa(
            name="National test centre (sample)",
            region_id=self.regions["bishkek"],
            locality="Bishkek",
            address="Sample address (sample)",
            actor_id=admin.id,
        )
        cohort = cohorts.create_cohort(
            admin,
            CLASS,
            cohorts.CohortFields(
                name="Health Basics: national knowledge test 2026 (sample)",
                starts_on=date(2026, 5, 4),
                ends_on=date(2026, 5, 29),
                madrasa_id=madrasa.id,
                manual="health-basics",
                completion_rule="quizzes.passed",
            ),
        )
        quiz = quiz_service.create_quiz(
            cohort,
            quiz_service.QuizSettings(
                title="National test: Health Basics (sample)",
                kind="final",
                language="en",
                attempts_allowed=1,
                time_limit_minutes=40,
                pass_mark=60.0,
            ),
            actor_id=self.staff["admin"],
        )
        pool = self.pools[("health-basics", "en")]
        chosen = [pool[i] for i in sorted(self.rng.sample(range(len(pool)), BIG_QUIZ_QUESTIONS))]
        for ref in chosen:
            quiz_service.add_question_slot(quiz, ref.question_id, actor_id=self.staff["admin"])
        quiz_service.set_published(quiz, True, actor_id=self.staff["admin"])
        return {"cohort_id": cohort.id, "quiz_id": quiz.id, "questions": chosen}


# --- the bulk -------------------------------------------------------------------------------


@dataclass
class QuizRef:
    id: int
    cohort_id: int
    kind: str
    pass_mark: float
    #: fixed questions, or a pool to draw ``count`` from
    fixed: list[QuestionRef] | None
    pool: list[QuestionRef]
    count: int
    shuffle_answers: bool = True


@dataclass
class ClassRef:
    id: int
    madrasa_id: int
    manual: str
    year: int
    language: str
    starts_on: date
    ends_on: date
    edition: EditionRef
    teachers: list[int]
    students: list[int]


class Bulk:
    """Generates the bulk and writes it through a ``BulkWriter``.

    The shapes are those the services write, so every page and report reads the rows as
    it reads its own:

    - people as ``create_user`` and the class-list import make them (one shared argon2
      hash of ``demo-password``), teachers with a ``teacher`` grant on their madrasa,
      trainers with a global ``trainer`` grant, officers with a ``monitor`` grant on their
      region; students without grants (a class membership is their grant);
    - classes as ``create_cohort`` (the creating teacher joins) plus the pinned edition
      (``assign_to_cohort``); ToT cohorts as ``create_tot_from_template`` (sessions from
      ``lessons.tot.build_plan`` in the ToT's language, completion rule ``lessons.tot``);
    - a held session as ``record_session``: attendance rows and, per learner, a ledger
      record ``lessons.session`` / session id / attended|absent|excused with
      ``{"held_on": …}``; a few are corrected later (newer attendance, newer record);
    - an attempt as ``start_attempt`` + ``submit_attempt``: questions drawn like ``_draw``,
      answers graded by the question type's own ``grade``, totals as ``_totals``, then a
      ledger record ``quizzes.quiz`` with the learner's best attempt, and for a post-test
      the ``quizzes.gain`` record of ``record_gain``;
    - practice lessons as ``add_practice`` + ``submit_score`` (a ``lessons.practice``
      record after each score, with the running averages);
    - visits as ``record_visit`` (a finding about the manual becomes monitoring feedback),
      recommendations as ``tot.recommend``, feedback as ``add_feedback`` and ``triage``;
    - an audit entry, chained, for each of these, as the services write them.
    """

    def __init__(
        self,
        db: Any,
        ref: Reference,
        writer: BulkWriter,
        rng: random.Random,
        scale: float,
    ) -> None:
        from lessons.roster import username_base
        from lms.audit import services as audit_services
        from lms.audit.services import GENESIS, entry_hash
        from quizzes.attempts import PAGE_SIZE
        from quizzes.question_types import get_type

        self.page_size = PAGE_SIZE
        self.db = db
        self.ref = ref
        self.w = writer
        self.rng = rng
        self.scale = scale
        self.ids = Ids(db)
        self.entry_hash = entry_hash
        self.hash_encoder = json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
        self.audited = 0
        keys = getattr(audit_services, "chain_keys", None)
        self.audit_key: bytes | None = keys()[-1] if keys is not None else None
        self.get_type = get_type
        self.username_base = username_base
        last = db.session.execute(
            text("SELECT hash FROM lms_audit_entry ORDER BY id DESC LIMIT 1")
        ).scalar()
        self.prev_hash = last or GENESIS
        self.admin = ref.staff["admin"]
        self.latest_login = datetime(TODAY.year, TODAY.month, TODAY.day) - timedelta(hours=7)
        self.editor = ref.staff["editor"]
        self.ability: dict[int, float] = {}
        self.username_counts: dict[str, int] = {}
        self.json_cache: dict[Any, str] = {}
        self.grade_cache: dict[tuple[int, str], tuple[float, str]] = {}
        self.teachers_by_region: dict[str, list[int]] = {}
        self.monitors_by_region: dict[str, list[tuple[int, str]]] = {}
        self.classes_by_madrasa: dict[int, list[ClassRef]] = {}
        self.madrasa_names: dict[int, str] = {}
        #: students whose accounts existed before the national test (2025–26 classes)
        self.students: list[int] = []
        self.tot_languages: dict[int, str] = {}
        self.feedback_rows: list[list[Any]] = []
        #: user id → user name, for the audit entries that name people (demo staff too)
        self.usernames: dict[int, str] = {
            uid: name for name, uid in db.session.execute(text("SELECT username, id FROM lms_user"))
        }

    # Writing ------------------------------------------------------------------------------

    def audit(
        self,
        at: datetime,
        actor_id: int | None,
        action: str,
        object_type: str,
        object_id: Any,
        details: dict[str, Any] | None = None,
    ) -> None:
        """One chained audit entry, sealed as ``lms.audit.services.entry_hash`` seals it.

        The body is encoded here with one reused encoder (``entry_hash`` makes a new one per
        call, a third of the bulk's time); every 5,000th entry is checked against
        ``entry_hash`` itself, so a change there stops the run instead of breaking chains.
        """
        details = details or {}
        when = at.isoformat(timespec="microseconds")
        key = str(object_id)[:64]
        body = {
            "prev": self.prev_hash,
            "at": when,
            "actor": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": key,
            "details": details,
        }
        encoded = self.hash_encoder.encode(body).encode()
        if self.audit_key is not None:  # an HMAC keyed by the installation's audit key
            digest = hmac.new(self.audit_key, encoded, hashlib.sha256).hexdigest()
        else:
            digest = hashlib.sha256(encoded).hexdigest()
        self.audited += 1
        if self.audited % 5_000 == 1:
            entry = SimpleNamespace(
                at=at,
                actor_id=actor_id,
                action=action,
                object_type=object_type,
                object_id=key,
                details=details,
            )
            if self.entry_hash(self.prev_hash, entry) != digest:
                raise SystemExit("lms.audit.services.entry_hash changed: update Bulk.audit")
        self.w.add(
            "lms_audit_entry",
            (
                self.ids.take("lms_audit_entry"),
                when.replace("T", " "),
                actor_id,
                action,
                object_type,
                key,
                json.dumps(details),
                self.prev_hash,
                digest,
            ),
        )
        self.prev_hash = digest

    def dumps(self, value: Any) -> str:
        """JSON as SQLAlchemy stores it (``json.dumps`` with its default separators)."""
        return json.dumps(value)

    def cached_dumps(self, value: Any, key: Any = None) -> str:
        """``dumps`` for the few values that repeat a lot (answer orders, responses)."""
        key = key if key is not None else (type(value).__name__, repr(value))
        found = self.json_cache.get(key)
        if found is None:
            found = json.dumps(value)
            if len(self.json_cache) < 100_000:
                self.json_cache[key] = found
        return found

    def progress(
        self,
        user_id: int,
        cohort_id: int,
        item_type: str,
        item_id: int,
        outcome: str,
        at: datetime | str,
        *,
        source: str,
        recorded_by: int | None,
        score: float | None = None,
        details: str = "{}",
    ) -> None:
        """``lms.progress.api.record``: one ledger record (``at``: a moment or its stamp)."""
        self.w.add(
            "lms_progress_record",
            (
                self.ids.take("lms_progress_record"),
                user_id,
                cohort_id,
                item_type,
                str(item_id),
                outcome,
                score,
                source,
                recorded_by,
                at if isinstance(at, str) else stamp(at),
                details,
            ),
        )

    # People ------------------------------------------------------------------------------

    def person_name(self, sex: str, region: str) -> str:
        rng = self.rng
        russian_share = 0.06 if region in ("chuy", "bishkek", "issyk-kul") else 0.01
        if rng.random() < russian_share:
            first = rng.choice(names.RUSSIAN_MALE if sex == "male" else names.RUSSIAN_FEMALE)
            surname = rng.choice(names.RUSSIAN_SURNAMES)
            return f"{first} {surname}{'' if sex == 'male' else 'а'}"
        first = rng.choice(names.KYRGYZ_MALE if sex == "male" else names.KYRGYZ_FEMALE)
        if rng.random() < 0.15:  # "Азамат Бакыт уулу", "Айгерим Нурлан кызы"
            father = rng.choice(names.KYRGYZ_MALE)
            return f"{first} {father} {'уулу' if sex == 'male' else 'кызы'}"
        surname = rng.choice(names.KYRGYZ_SURNAMES)
        return f"{first} {surname}{'' if sex == 'male' else 'а'}"

    def username(self, name: str) -> str:
        """As the class-list import makes them: ``aigerim.toktosunova``, then ``…2``."""
        base = self.username_base(name)
        n = self.username_counts.get(base, 1)
        while True:
            candidate = base if n == 1 else f"{base}{n}"
            n += 1
            if candidate not in self.ref.usernames:
                self.ref.usernames.add(candidate)
                self.username_counts[base] = n
                return candidate

    def user(
        self,
        *,
        sex: str,
        region: str,
        language: str,
        created: datetime,
        actor_id: int | None,
        details: dict[str, Any] | None = None,
        logged_in: datetime | None = None,
        phone: bool = False,
    ) -> int:
        """A new account (and its ``user.create`` audit entry)."""
        user_id = self.ids.take("lms_user")
        name = self.person_name(sex, region)
        username = self.username(name)
        self.usernames[user_id] = username
        number = f"+996 7{self.rng.randint(0, 99):02d} {self.rng.randint(0, 999_999):06d}"
        self.w.add(
            "lms_user",
            (
                user_id,
                username,
                name,
                sex,
                None,
                number if phone else None,
                language,
                self.ref.password_hash,
                True,
                1,
                stamp(created),
                stamp(min(logged_in, self.latest_login)) if logged_in else None,
            ),
        )
        self.audit(
            created,
            actor_id,
            "user.create",
            "user",
            user_id,
            {"username": username, **(details or {})},
        )
        return user_id

    def grant(self, user_id: int, role: str, scope_type: str, scope_id: int, at: datetime) -> None:
        self.w.add(
            "lms_role_grant",
            (self.ids.take("lms_role_grant"), user_id, role, scope_type, scope_id, None,
             self.admin, stamp(at)),
        )  # fmt: skip
        self.audit(
            at,
            self.admin,
            "role.grant",
            "user",
            user_id,
            {"role": role, "scope": scope_type, "scope_id": scope_id, "expertise": None},
        )

    def member(
        self,
        cohort_id: int,
        user_id: int,
        role: str,
        at: datetime,
        actor_id: int | None,
        source: str | None = None,
    ) -> None:
        self.w.add(
            "lms_membership", (self.ids.take("lms_membership"), cohort_id, user_id, role, stamp(at))
        )
        username = self.usernames.get(user_id, "")
        details: dict[str, Any] = {"user_id": user_id, "username": username, "role": role}
        if source:
            details["source"] = source
        self.audit(at, actor_id, "membership.add", "cohort", cohort_id, details)

    # The whole run -------------------------------------------------------------------------

    def run(self, *, big_quiz: bool) -> None:
        self.staff()
        self.madrasas()
        self.classes()
        self.tots()
        self.visits()
        self.classroom_feedback()
        self.write_feedback()
        if big_quiz:
            self.big_quiz()

    def staff(self) -> None:
        """Trainers (global grant) and monitoring officers (a grant on their region)."""
        rng = self.rng
        self.trainers: list[int] = []
        start = datetime(2024, 11, 4, 5, 0, 0, 1)
        for _ in range(max(2, scaled(TRAINERS, self.scale))):
            at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            sex = "female" if rng.random() < 0.45 else "male"
            uid = self.user(
                sex=sex, region="bishkek", language=rng.choice(("ru", "ky")), created=at,
                actor_id=self.admin, logged_in=at + timedelta(days=rng.randint(30, 700)),
                phone=True,
            )  # fmt: skip
            self.grant(uid, "trainer", "", 0, at + timedelta(seconds=30))
            self.trainers.append(uid)
        per_region = max(1, round(1.5 * self.scale))
        for code, region_id in sorted(self.ref.regions.items()):
            officers = []
            for _ in range(per_region):
                at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
                language = "ru" if code in ("bishkek", "chuy") else rng.choice(("ky", "ru"))
                uid = self.user(
                    sex="male" if rng.random() < 0.7 else "female", region=code,
                    language=language, created=at, actor_id=self.admin,
                    logged_in=at + timedelta(days=rng.randint(30, 700)), phone=True,
                )  # fmt: skip
                self.grant(uid, "monitor", "region", region_id, at + timedelta(seconds=30))
                officers.append((uid, language))
            self.monitors_by_region[code] = officers

    def madrasas(self) -> None:
        """100·N madrasas, spread over the regions like the real ones (south-heavy)."""
        rng = self.rng
        counts = allocate(scaled(MADRASAS, self.scale), names.REGION_WEIGHTS)
        taken: set[tuple[str, str]] = set()
        self.madrasa_list: list[tuple[int, str]] = []
        for code in names.REGION_WEIGHTS:
            for _ in range(counts[code]):
                locality = rng.choice(names.LOCALITIES[code])
                word = rng.choice(names.MADRASA_WORDS)
                name = f"Madrasa “{word}”, {locality} (sample)"
                number = 2
                while (code, name) in taken:
                    name = f"Madrasa “{word}” no. {number}, {locality} (sample)"
                    number += 1
                taken.add((code, name))
                madrasa_id = self.ids.take("lms_madrasa")
                at = datetime(2024, 9, 2, 4) + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
                at = at.replace(microsecond=rng.randint(1, 999_999))
                street = f"{rng.choice(names.STREETS)} St. {rng.randint(1, 180)} (sample)"
                self.w.add(
                    "lms_madrasa",
                    (madrasa_id, name, self.ref.regions[code], locality, street, stamp(at)),
                )
                self.audit(
                    at,
                    self.admin,
                    "madrasa.create",
                    "madrasa",
                    madrasa_id,
                    {"name": name, "region_id": self.ref.regions[code]},
                )
                self.madrasa_list.append((madrasa_id, code))
                self.madrasa_names[madrasa_id] = name

    # Classes ---------------------------------------------------------------------------------

    def class_language(self, region: str) -> str:
        roll = self.rng.random()
        if region in ("bishkek", "chuy"):
            return "ru" if roll < 0.5 else ("ky" if roll < 0.9 else "en")
        return "ky" if roll < 0.75 else ("ru" if roll < 0.9 else "en")

    def classes(self) -> None:
        """Per madrasa, year and manual one or two classes; teachers; students; lessons."""
        rng = self.rng
        plan: list[tuple[int, str, int, str, int]] = []  # madrasa, region, year, manual, group
        for madrasa_id, region in self.madrasa_list:
            for year in SCHOOL_YEARS:
                for manual in MANUALS:
                    for group in range(1, 3 if rng.random() < 0.5 else 2):
                        plan.append((madrasa_id, region, year, manual, group))
        students = scaled(STUDENTS, self.scale)
        sizes = self.class_sizes(len(plan), students)
        teacher_counts = self.teacher_counts(plan)
        self.madrasa_kind = {
            m: rng.choices(("boys", "girls", "mixed"), (0.55, 0.3, 0.15))[0]
            for m, _ in self.madrasa_list
        }
        by_madrasa: dict[int, list[int]] = {}
        for index, (madrasa_id, *_rest) in enumerate(plan):
            by_madrasa.setdefault(madrasa_id, []).append(index)
        last_year: dict[tuple[int, str], list[int]] = {}
        returning: set[int] = set()
        for madrasa_id, region in self.madrasa_list:
            indexes = by_madrasa[madrasa_id]
            teachers = self.madrasa_teachers(madrasa_id, region, teacher_counts[madrasa_id])
            # Every class has a teacher and every teacher a class: extra teachers co-teach.
            leads = {i: [teachers[k % len(teachers)]] for k, i in enumerate(indexes)}
            for k in range(len(indexes), len(teachers)):
                leads[indexes[k % len(indexes)]].append(teachers[k])
            for index in indexes:
                _m, _r, year, manual, group = plan[index]
                carried: list[int] = []
                if year == 2026:  # a few of last year's students take the other manual
                    other = MANUALS[1 - MANUALS.index(manual)]
                    candidates = [
                        s for s in last_year.get((madrasa_id, other), []) if s not in returning
                    ]
                    carried = rng.sample(candidates, min(len(candidates), rng.randint(0, 3)))
                    returning.update(carried)
                klass = self.make_class(
                    madrasa_id, region, year, manual, group, leads[index], sizes[index], carried
                )
                if year == 2025:
                    last_year.setdefault((madrasa_id, manual), []).extend(klass.students)
                self.lessons(klass)
                self.class_quizzes(klass)

    def class_sizes(self, classes: int, students: int) -> list[int]:
        """New students per class: 15–28 each, adding up to exactly ``students``."""
        rng = self.rng
        low, high = 15, max(28, math.ceil(students / classes) + 3)
        sizes = [rng.randint(low, high) for _ in range(classes)]
        total = sum(sizes)
        while total != students:
            i = rng.randrange(classes)
            if total < students and sizes[i] < high:
                sizes[i] += 1
                total += 1
            elif total > students and sizes[i] > min(low, students // classes):
                sizes[i] -= 1
                total -= 1
        return sizes

    def teacher_counts(self, plan: list[tuple[int, str, int, str, int]]) -> dict[int, int]:
        """500·N teachers over the madrasas in proportion to their classes (at least one)."""
        per = {m: 0 for m, _ in self.madrasa_list}
        for madrasa_id, *_rest in plan:
            per[madrasa_id] += 1
        total = scaled(TEACHERS, self.scale)
        shares = allocate(max(total - len(per), 0), {str(m): float(n) for m, n in per.items()})
        return {m: 1 + shares[str(m)] for m in per}

    def madrasa_teachers(self, madrasa_id: int, region: str, count: int) -> list[int]:
        rng = self.rng
        girls = self.madrasa_kind[madrasa_id] == "girls"
        made = []
        for _ in range(count):
            at = datetime(2024, 12, 2, 4) + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            at = at.replace(microsecond=rng.randint(1, 999_999))
            female = rng.random() < (0.8 if girls else 0.12)
            language = "ru" if region in ("bishkek", "chuy") and rng.random() < 0.5 else "ky"
            uid = self.user(
                sex="female" if female else "male", region=region, language=language,
                created=at, actor_id=self.admin, phone=True,
                logged_in=local_moment(rng, TODAY - timedelta(days=rng.randint(0, 60)), 8, 20),
            )  # fmt: skip
            self.grant(uid, "teacher", "madrasa", madrasa_id, at + timedelta(seconds=20))
            self.ability[uid] = rng.gauss(0.6, 0.8)
            self.teachers_by_region.setdefault(region, []).append(uid)
            made.append(uid)
        return made

    def make_class(
        self,
        madrasa_id: int,
        region: str,
        year: int,
        manual: str,
        group: int,
        teachers: list[int],
        new_students: int,
        carried: list[int],
    ) -> ClassRef:
        rng = self.rng
        language = self.class_language(region)
        edition = self.ref.editions[(manual, language)]
        starts_on = date(year, 9, rng.randint(1, 15))
        ends_on = date(year + 1, 5, rng.randint(24, 31))
        cohort_id = self.ids.take("lms_cohort")
        lead = teachers[0]
        created = local_moment(rng, starts_on - timedelta(days=rng.randint(3, 20)), 9, 19)
        title = self.ref.title(manual, language)
        word = {"en": "group", "ru": "группа", "ky": "тайпа"}[language]
        name = f"{title}, {year}–{(year + 1) % 100:02d}, {word} {group} {SAMPLE[language]}"
        archived = year == 2025 and rng.random() < 0.6
        self.w.add(
            "lms_cohort",
            (cohort_id, "class", name, None, madrasa_id, "", starts_on.isoformat(),
             ends_on.isoformat(), manual, "lessons.attendance", "{}", archived, stamp(created),
             lead),
        )  # fmt: skip
        self.audit(
            created, lead, "cohort.create", "cohort", cohort_id,
            {"kind": "class", "name": name, "madrasa_id": madrasa_id},
        )  # fmt: skip
        for k, teacher in enumerate(teachers):
            self.member(
                cohort_id, teacher, "teacher", created + timedelta(minutes=k), lead,
                source=None,
            )  # fmt: skip
        pinned = created + timedelta(minutes=5)
        self.w.add("curriculum_cohort_edition", (cohort_id, edition.id))
        self.audit(pinned, lead, "cohort.edition", "cohort", cohort_id, {"edition": edition.id})
        kind = self.madrasa_kind[madrasa_id]
        female_share = {"boys": 0.0, "girls": 1.0, "mixed": 0.45}[kind]
        imported = created + timedelta(days=rng.randint(1, 10))
        students: list[int] = []
        for _ in range(new_students):
            sex = "female" if rng.random() < female_share else "male"
            uid = self.user(
                sex=sex, region=region, language=language if language != "en" else "ky",
                created=imported, actor_id=lead,
                details={"source": "roster", "cohort_id": cohort_id},
                logged_in=(
                    imported + timedelta(days=rng.randint(1, 200)) if rng.random() < 0.4 else None
                ),
                phone=rng.random() < 0.3,
            )  # fmt: skip
            self.ability[uid] = rng.gauss(0.0, 1.0)
            students.append(uid)
            if year == 2025:
                self.students.append(uid)
        for uid in [*students, *carried]:
            self.member(cohort_id, uid, "student", imported, lead, source="roster")
        self.audit(
            imported, lead, "cohort.roster_import", "cohort", cohort_id,
            {"rows": len(students) + len(carried), "created": len(students),
             "added": len(students) + len(carried)},
        )  # fmt: skip
        klass = ClassRef(
            cohort_id, madrasa_id, manual, year, language, starts_on, ends_on, edition,
            teachers, [*students, *carried],
        )  # fmt: skip
        self.classes_by_madrasa.setdefault(madrasa_id, []).append(klass)
        return klass

    def lesson_dates(self, starts_on: date, ends_on: date) -> list[date]:
        """About thirty weekly lessons on one weekday, around the winter and Nooruz breaks."""
        rng = self.rng
        weekday = rng.randint(0, 5)
        day = starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7)
        candidates = []
        while day <= ends_on:
            winter = (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 10)
            nooruz = day.month == 3 and 17 <= day.day <= 25
            if not winter and not nooruz:
                candidates.append(day)
            day += timedelta(days=7)
        wanted = min(len(candidates), rng.randint(27, 33))
        return sorted(rng.sample(candidates, wanted))

    def lessons(self, klass: ClassRef) -> None:
        """The class's schedule; held lessons recorded with attendance and ledger records."""
        rng = self.rng
        modules = klass.edition.modules
        dates = self.lesson_dates(klass.starts_on, klass.ends_on)
        planned_at = local_moment(rng, klass.starts_on - timedelta(days=2), 9, 20)
        presence = {s: min(0.995, max(0.35, rng.gauss(0.87, 0.09))) for s in klass.students}
        teacher = klass.teachers[0]
        for number, held_on in enumerate(dates):
            module = modules[number * len(modules) // len(dates)]
            session_id = self.ids.take("lessons_session")
            past = held_on < TODAY
            status = "held" if past else "planned"
            if past and rng.random() < 0.02:
                status = "cancelled"
            taught_by = rng.choice(klass.teachers) if len(klass.teachers) > 1 else teacher
            recorded = (
                local_moment(rng, held_on + timedelta(days=rng.choice((0, 0, 0, 1, 2))), 12, 21)
                if status == "held"
                else None
            )
            if recorded is not None and recorded.date() >= TODAY:
                recorded = local_moment(rng, held_on, 12, 21)
            updated = recorded or planned_at
            duration = module.duration_minutes or 45
            self.w.add(
                "lessons_session",
                (session_id, klass.id, module.version_id, "", None, None, 0,
                 held_on.isoformat(), duration, status,
                 taught_by if status == "held" else None,
                 "Sample lesson." if status == "held" and rng.random() < 0.1 else "",
                 stamp(recorded) if recorded else None,
                 taught_by if recorded else None, stamp(planned_at), stamp(updated)),
            )  # fmt: skip
            self.audit(
                planned_at, teacher, "session.plan", "cohort", klass.id, {"session": session_id}
            )
            if status == "cancelled":
                self.audit(updated, teacher, "session.cancel", "session", session_id)
            if status != "held":
                continue
            assert recorded is not None
            self.record_attendance(
                session_id, klass.id, held_on, recorded, taught_by, klass.students, presence
            )

    def record_attendance(
        self,
        session_id: int,
        cohort_id: int,
        held_on: date,
        recorded: datetime,
        actor: int,
        learners: list[int],
        presence: dict[int, float],
        *,
        absent_day: set[int] | None = None,
    ) -> dict[int, str]:
        """``record_session``: attendance rows, a ledger record per learner, an audit entry;
        now and then a correction a day later (newer row values, newer records, audited)."""
        rng = self.rng
        marks: dict[int, str] = {}
        for learner in learners:
            if absent_day and learner in absent_day:
                marks[learner] = "absent" if rng.random() < 0.6 else "excused"
            elif rng.random() < presence[learner]:
                marks[learner] = "present"
            else:
                marks[learner] = "absent" if rng.random() < 0.65 else "excused"
        corrected: dict[int, str] = {}
        if rng.random() < 0.01 and learners:
            learner = rng.choice(learners)
            corrected[learner] = "present" if marks[learner] != "present" else "excused"
        when = stamp(recorded)
        fix_at = recorded + timedelta(hours=rng.randint(2, 30))
        details = self.cached_dumps({"held_on": held_on.isoformat()})
        outcome = {"present": "attended", "absent": "absent", "excused": "excused"}
        add, take, item = self.w.add, self.ids.take, str(session_id)
        for learner, status in marks.items():
            final = corrected.get(learner, status)
            add(
                "lessons_attendance",
                (take("lessons_attendance"), session_id, learner, final, actor,
                 stamp(fix_at) if learner in corrected else when),
            )  # fmt: skip
            add(
                "lms_progress_record",
                (take("lms_progress_record"), learner, cohort_id, "lessons.session", item,
                 outcome[status], None, "lessons", actor, when, details),
            )  # fmt: skip
        self.audit(
            recorded, actor, "session.record", "session", session_id,
            {"cohort": cohort_id, "changed": {str(k): v for k, v in marks.items()}},
        )  # fmt: skip
        for learner, status in corrected.items():
            self.progress(
                learner, cohort_id, "lessons.session", session_id, outcome[status], fix_at,
                source="lessons", recorded_by=actor, details=details,
            )  # fmt: skip
            self.audit(
                fix_at, actor, "session.correct", "session", session_id,
                {"cohort": cohort_id, "changed": {str(learner): status}},
            )  # fmt: skip
            marks[learner] = status
        return marks

    # Quizzes ---------------------------------------------------------------------------------

    def make_quiz(
        self,
        cohort_id: int,
        kind: str,
        manual: str,
        language: str,
        count: int,
        created: datetime,
        actor: int,
        *,
        published: bool,
        attempts_allowed: int,
        time_limit: int | None,
    ) -> QuizRef:
        """``create_quiz`` + ``add_random_slot`` (+ ``set_published``), audited."""
        quiz_id = self.ids.take("quizzes_quiz")
        title = QUIZ_TITLES[kind][language].format(manual=self.ref.title(manual, language))
        self.w.add(
            "quizzes_quiz",
            (quiz_id, cohort_id, title, kind, language, attempts_allowed, time_limit, False,
             True, 60.0, "immediately", True, None, None, published, stamp(created), actor),
        )  # fmt: skip
        self.audit(
            created, actor, "quizzes.quiz.create", "quiz", quiz_id,
            {"cohort": cohort_id, "kind": kind},
        )  # fmt: skip
        bank = self.ref.banks[manual]
        self.w.add(
            "quizzes_quiz_slot",
            (self.ids.take("quizzes_quiz_slot"), quiz_id, 1, None, bank, "", count, None),
        )
        slot_at = created + timedelta(minutes=2)
        self.audit(
            slot_at, actor, "quizzes.quiz.slot_add", "quiz", quiz_id,
            {"bank": bank, "module": "", "count": count},
        )  # fmt: skip
        if published:
            self.audit(
                created + timedelta(minutes=4), actor, "quizzes.quiz.publish", "quiz", quiz_id
            )
        pool = self.ref.pools[(manual, language)]
        return QuizRef(quiz_id, cohort_id, kind, 60.0, None, pool, min(count, len(pool)))

    def response(self, question: QuestionRef, right: bool, language: str) -> Any:
        """What a learner answers, right or wrong, in the type's stored shape."""
        rng = self.rng
        data = question.data
        if question.qtype == "multichoice":
            fractions = [a.get("fraction", 0) for a in data["answers"]]
            good = [i for i, f in enumerate(fractions) if f > 0]
            bad = [i for i, f in enumerate(fractions) if f <= 0]
            if data.get("single", True):
                if right:
                    return [good[0]]
                weights = [3.0, 1.5, 1.0][: len(bad)]
                return [rng.choices(bad, weights)[0]]
            if right:
                return sorted(good)
            return sorted(rng.choice(([good[0]], [good[0], bad[0]], [bad[-1]])))
        if question.qtype == "truefalse":
            return bool(data["correct"]) if right else not data["correct"]
        if question.qtype == "shortanswer":
            answer = data["answers"][0]["text"]
            return answer.lower() if right else rng.choice(WRONG_WORDS[language])
        if question.qtype == "numerical":
            value = data["answers"][0]["value"]
            return f"{value:g}" if right else f"{value + rng.choice((-30, -15, 15, 30)):g}"
        return None

    def grade(self, question: QuestionRef, response: Any, response_text: str) -> tuple[float, str]:
        """The question type's own grading, cached per (version, response)."""
        key = (question.version_id, response_text)
        found = self.grade_cache.get(key)
        if found is None:
            result = self.get_type(question.qtype).grade(question.data, response)
            found = (float(result.fraction or 0.0), result.feedback or "")
            self.grade_cache[key] = found
        return found

    def attempt(
        self,
        quiz: QuizRef,
        user_id: int,
        number: int,
        started: datetime,
        boost: float,
        language: str,
    ) -> tuple[int, float, bool, datetime]:
        """One online attempt, started, answered page by page (a save per page), submitted
        and graded (``start_attempt``, ``save_responses``, ``submit_attempt``)."""
        rng = self.rng
        attempt_id = self.ids.take("quizzes_attempt")
        questions = quiz.fixed or rng.sample(quiz.pool, quiz.count)
        ability = self.ability.get(user_id, 0.0) + boost
        minutes = rng.uniform(0.6, 1.8) * len(questions)
        submitted = started + timedelta(minutes=minutes, microseconds=rng.randint(1, 999_999))
        done = stamp(submitted)
        pages = -(-len(questions) // self.page_size)
        saves = [
            stamp(started + (submitted - started) * page / pages) for page in range(1, pages)
        ] + [done]
        total = maximum = 0.0
        answer_rows = []
        for position, question in enumerate(questions, start=1):
            order = list(question.choices)
            if order and quiz.shuffle_answers and question.shuffle:
                rng.shuffle(order)
            if rng.random() < 0.02:
                response = None
            else:
                right = rng.random() < sigmoid(1.7 * (ability - question.difficulty))
                response = self.response(question, right, language)
            response_text = self.cached_dumps(response)
            fraction, feedback = self.grade(question, response, response_text)
            mark = round(fraction * question.mark, 4)
            total += mark
            maximum += question.mark
            answer_rows.append(
                (self.ids.take("quizzes_answer"), attempt_id, position, question.version_id,
                 question.mark, self.cached_dumps(order, tuple(order)), response_text, fraction,
                 mark, feedback, None, done, saves[(position - 1) // self.page_size])
            )  # fmt: skip
        score, max_score = round(total, 4), round(maximum, 4)
        percent = round(score * 100 / max_score, 2) if max_score else 0.0
        passed = percent >= quiz.pass_mark
        key = uuid.UUID(int=rng.getrandbits(128)).hex
        self.w.add(
            "quizzes_attempt",
            (attempt_id, quiz.id, user_id, number, key, "graded", "online", None,
             stamp(started), done, score, max_score, percent, passed),
        )  # fmt: skip
        for row in answer_rows:
            self.w.add("quizzes_answer", row)
        self.audit(
            started, user_id, "quizzes.attempt.start", "attempt", attempt_id,
            {"quiz": quiz.id, "number": number},
        )  # fmt: skip
        self.audit(
            submitted, user_id, "quizzes.attempt.submit", "attempt", attempt_id,
            {"quiz": quiz.id, "late": False},
        )  # fmt: skip
        return attempt_id, percent, passed, submitted

    def take(
        self,
        quiz: QuizRef,
        user_id: int,
        first_day: date,
        days: int,
        attempts: int,
        boost: float,
        language: str,
        *,
        retake_gain: float = 0.3,
    ) -> tuple[float, float] | None:
        """A learner's attempts at a quiz, each followed by the ledger record of their best
        attempt (``record_outcome``); returns (first percent, best percent)."""
        rng = self.rng
        best: tuple[float, int, int] | None = None  # percent, -number, attempt id
        first = None
        day = first_day + timedelta(days=rng.randint(0, max(days - 1, 0)))
        for number in range(1, attempts + 1):
            if day >= TODAY:
                break
            started = local_moment(rng, day, 9, 19)
            attempt_id, percent, passed, submitted = self.attempt(
                quiz, user_id, number, started, boost + retake_gain * (number - 1), language
            )
            first = percent if first is None else first
            if best is None or (percent, -number) > best[:2]:
                best = (percent, -number, attempt_id)
            best_passed = best[0] >= quiz.pass_mark
            self.progress(
                user_id, quiz.cohort_id, "quizzes.quiz", quiz.id,
                "passed" if best_passed else "failed", submitted, source="quizzes",
                recorded_by=None, score=best[0],
                details=self.dumps(
                    {"attempt": attempt_id, "number": number, "best_attempt": best[2]}
                ),
            )  # fmt: skip
            again = 0.6 if not passed else 0.15
            if number >= attempts or rng.random() >= again:
                break
            day += timedelta(days=rng.randint(1, 6))
        if first is None or best is None:
            return None
        return first, best[0]

    def class_quizzes(self, klass: ClassRef) -> None:
        """A practice quiz (published in October) and a final test (published and taken in
        May for last year's classes; prepared but not yet published for this year's)."""
        rng = self.rng
        teacher = klass.teachers[0]
        opened = date(klass.year, 10, rng.randint(8, 25))
        practice = self.make_quiz(
            klass.id, "practice", klass.manual, klass.language, 6,
            local_moment(rng, opened - timedelta(days=1), 9, 20), teacher,
            published=True, attempts_allowed=3, time_limit=20,
        )  # fmt: skip
        share = 0.82 if klass.year == 2025 else 0.62
        for student in klass.students:
            if rng.random() < share:
                self.take(practice, student, opened, 40, 3, 0.1, klass.language)
        if klass.year == 2025:
            opened = date(klass.year + 1, 5, rng.randint(4, 15))
            final = self.make_quiz(
                klass.id, "final", klass.manual, klass.language, 10,
                local_moment(rng, opened - timedelta(days=2), 9, 20), teacher,
                published=True, attempts_allowed=2, time_limit=40,
            )  # fmt: skip
            for student in klass.students:
                if rng.random() < 0.93:
                    self.take(final, student, opened, 10, 2, 0.6, klass.language)
        else:
            self.make_quiz(
                klass.id, "final", klass.manual, klass.language, 10,
                local_moment(rng, TODAY - timedelta(days=rng.randint(3, 40)), 9, 20), teacher,
                published=False, attempts_allowed=2, time_limit=40,
            )  # fmt: skip

    # ToT cohorts --------------------------------------------------------------------------------

    def tot_language(self, region: str) -> str:
        roll = self.rng.random()
        if region in ("bishkek", "chuy"):
            return "ru" if roll < 0.5 else ("ky" if roll < 0.9 else "en")
        return "ky" if roll < 0.8 else ("ru" if roll < 0.95 else "en")

    def tots(self) -> None:
        """40·N ToT cohorts over regions and manuals in proportion to the teachers there;
        about 85 % of teachers take part in one ToT per manual."""
        rng = self.rng
        pools: dict[tuple[str, str], list[int]] = {}
        for region in sorted(self.teachers_by_region):
            for manual in MANUALS:
                pools[(region, manual)] = [
                    t for t in self.teachers_by_region[region] if rng.random() < 0.85
                ]
        wanted = scaled(TOTS, self.scale)
        nonempty = {f"{r}|{m}": float(len(p)) for (r, m), p in pools.items() if p}
        counts = allocate(wanted, nonempty)
        plans = []
        for key in sorted(nonempty):
            region, manual = key.split("|")
            participants = pools[(region, manual)]
            rng.shuffle(participants)
            k = min(max(counts[key], 1), len(participants))
            # Uneven groups, as venues and invitations make them (about 0.5 to 1.5 × mean).
            weights = [rng.uniform(0.5, 1.5) for _ in range(k)]
            cuts = [0]
            for i in range(1, k):
                cuts.append(round(len(participants) * sum(weights[:i]) / sum(weights)))
            cuts.append(len(participants))
            for i in range(k):
                if cuts[i + 1] > cuts[i]:
                    plans.append((region, manual, participants[cuts[i] : cuts[i + 1]]))
        rng.shuffle(plans)
        for index, (region, manual, participants) in enumerate(plans):
            self.tot(index, len(plans), region, manual, participants)

    def tot_start(self, index: int, total: int) -> date:
        """ToTs mostly before each school year; a few still to come."""
        rng = self.rng
        share = index / max(total, 1)
        if share < 0.03:
            start = TODAY + timedelta(days=rng.randint(7, 70))
        elif share < 0.6:
            start = date(2025, 3, 3) + timedelta(days=rng.randint(0, 260))
        else:
            start = date(2026, 2, 2) + timedelta(days=rng.randint(0, 290))
            if start >= TODAY - timedelta(days=3):
                start = TODAY - timedelta(days=rng.randint(10, 60))
        return start - timedelta(days=max(start.weekday() - 2, 0))  # Monday to Wednesday

    def tot(
        self, index: int, total: int, region: str, manual: str, participants: list[int]
    ) -> None:
        from flask_babel import force_locale

        from lessons import tot as tot_plan

        rng = self.rng
        language = self.tot_language(region)
        edition = self.ref.editions[(manual, language)]
        starts_on = self.tot_start(index, total)
        ends_on = starts_on + timedelta(days=tot_plan.DAYS - 1)
        trainers = rng.sample(self.trainers, 2)
        lead = trainers[0]
        cohort_id = self.ids.take("lms_cohort")
        self.tot_languages[cohort_id] = language
        city = rng.choice(names.LOCALITIES[region])
        title = self.ref.title(manual, language)
        name = f"ToT: {title}, {city}, {starts_on:%B %Y} {SAMPLE[language]}"
        venue = f"{city}, {rng.choice(names.VENUES)} (sample)"
        created = local_moment(rng, starts_on - timedelta(days=rng.randint(10, 40)), 9, 19)
        self.w.add(
            "lms_cohort",
            (cohort_id, "tot", name, self.ref.regions[region], None, venue,
             starts_on.isoformat(), ends_on.isoformat(), manual, "lessons.tot", "{}", False,
             stamp(created), lead),
        )  # fmt: skip
        self.audit(
            created, lead, "cohort.create", "cohort", cohort_id,
            {"kind": "tot", "name": name, "region_id": self.ref.regions[region]},
        )  # fmt: skip
        self.member(cohort_id, lead, "trainer", created, lead)
        with force_locale(language):
            plan = tot_plan.build_plan(edition.modules, starts_on)
        session_ids = []
        for item in plan:
            session_id = self.ids.take("lessons_session")
            session_ids.append((session_id, item))
            self.audit(created, lead, "session.plan", "cohort", cohort_id, {"session": session_id})
        self.audit(
            created, lead, "tot.create_from_template", "cohort", cohort_id,
            {"edition": edition.id, "language": language, "sessions": len(plan)},
        )  # fmt: skip
        joined = created + timedelta(hours=rng.randint(1, 72))
        self.member(cohort_id, trainers[1], "trainer", joined, lead)
        for k, person in enumerate(participants):
            self.member(cohort_id, person, "participant", joined + timedelta(seconds=k), lead)
        held = ends_on < TODAY
        presence = dict.fromkeys(participants, 0.985)
        missed_day = {p: rng.randint(1, 3) for p in participants if rng.random() < 0.08}
        marks_in_order: list[tuple[int, dict[int, str]]] = []
        for session_id, item in session_ids:
            teacher = rng.choice(trainers)
            recorded = local_moment(rng, item.held_on, 17, 21) if held else None
            self.w.add(
                "lessons_session",
                (session_id, cohort_id, item.module_version_id, item.title, item.stage,
                 item.day, item.position, item.held_on.isoformat(), item.minutes,
                 "held" if held else "planned", teacher if held else None, "",
                 stamp(recorded) if recorded else None, teacher if held else None,
                 stamp(created), stamp(recorded or created)),
            )  # fmt: skip
            if recorded is None:
                continue
            away = {p for p, d in missed_day.items() if d == item.day}
            marks = self.record_attendance(
                session_id, cohort_id, item.held_on, recorded, teacher, participants,
                presence, absent_day=away,
            )  # fmt: skip
            marks_in_order.append((item.day, marks))
        pre = self.make_quiz(
            cohort_id, "pre", manual, language, 10, created + timedelta(days=1), lead,
            published=True, attempts_allowed=1, time_limit=20,
        )  # fmt: skip
        post = self.make_quiz(
            cohort_id, "post", manual, language, 10, created + timedelta(days=1, minutes=10),
            lead, published=True, attempts_allowed=1, time_limit=20,
        )  # fmt: skip
        if not held or not marks_in_order:
            return
        # The pre-test opens the first session, the post-test closes the last one.
        first_day, last_day = marks_in_order[0][1], marks_in_order[-1][1]
        for person in participants:
            pre_score = post_score = None
            if first_day.get(person) == "present":
                started = local_moment(rng, starts_on, 9, 9.5)
                _id, pre_score, passed, submitted = self.attempt(
                    pre, person, 1, started, -0.3, language
                )
                self.progress(
                    person, cohort_id, "quizzes.quiz", pre.id, "passed" if passed else "failed",
                    submitted, source="quizzes", recorded_by=None, score=pre_score,
                    details=self.dumps({"attempt": _id, "number": 1, "best_attempt": _id}),
                )  # fmt: skip
            if last_day.get(person) == "present":
                started = local_moment(rng, ends_on, 15, 16)
                _id, post_score, passed, submitted = self.attempt(
                    post, person, 1, started, 0.8, language
                )
                self.progress(
                    person, cohort_id, "quizzes.quiz", post.id, "passed" if passed else "failed",
                    submitted, source="quizzes", recorded_by=None, score=post_score,
                    details=self.dumps({"attempt": _id, "number": 1, "best_attempt": _id}),
                )  # fmt: skip
                if pre_score is not None and pre_score < 100:
                    gain = round((post_score - pre_score) / (100 - pre_score), 4)
                    self.progress(
                        person, cohort_id, "quizzes.gain", post.id, "measured", submitted,
                        source="quizzes", recorded_by=None, score=gain,
                        details=self.dumps(
                            {"pre_quiz": pre.id, "post_quiz": post.id, "pre": pre_score,
                             "post": post_score, "gain": round(post_score - pre_score, 2)}
                        ),
                    )  # fmt: skip
        self.practice(cohort_id, starts_on, edition, trainers, participants, missed_day)
        self.recommendations(cohort_id, ends_on, edition, [*trainers, *participants], language)

    def practice(
        self,
        cohort_id: int,
        starts_on: date,
        edition: EditionRef,
        trainers: list[int],
        participants: list[int],
        missed_day: dict[int, int],
    ) -> None:
        """Stage III: each participant teaches a module and is scored by a trainer and two
        peers on the default rubric; a ledger record with the running averages after each."""
        from lessons.practice import DEFAULT_CRITERIA

        rng = self.rng
        criteria = [(cid, dimension) for cid, _label, dimension in DEFAULT_CRITERIA]
        modules = edition.modules
        middle = (len(modules) + 1) // 2
        for k, person in enumerate(participants):
            module_index = k % len(modules)
            day = 2 if module_index < middle else 3
            if missed_day.get(person) == day:
                continue
            taught_on = starts_on + timedelta(days=day - 1)
            practice_id = self.ids.take("lessons_practice_lesson")
            added = local_moment(rng, taught_on, 10, 12)
            self.w.add(
                "lessons_practice_lesson",
                (practice_id, cohort_id, person, modules[module_index].version_id,
                 taught_on.isoformat(), stamp(added)),
            )  # fmt: skip
            self.audit(
                added, trainers[0], "practice.add", "cohort", cohort_id,
                {"practice": practice_id, "participant": person},
            )  # fmt: skip
            skill = rng.gauss(3.7, 0.55)
            peers = rng.sample(
                [p for p in participants if p != person], min(2, len(participants) - 1)
            )
            values: dict[str, list[int]] = {"content": [], "methodology": []}
            everything: list[int] = []
            scored = added
            for count, (scorer, role) in enumerate(
                [(rng.choice(trainers), "trainer"), *((p, "peer") for p in peers)], start=1
            ):
                lift = 0.3 if role == "peer" else 0.0
                scores = {
                    cid: min(5, max(1, round(skill + lift + rng.gauss(0, 0.6))))
                    for cid, _dimension in criteria
                }
                scored = scored + timedelta(minutes=rng.randint(3, 40))
                comment = rng.choice(PRACTICE_COMMENTS) if role == "trainer" else ""
                self.w.add(
                    "lessons_practice_score",
                    (self.ids.take("lessons_practice_score"), practice_id, scorer, role,
                     self.dumps(scores), comment, stamp(scored), stamp(scored)),
                )  # fmt: skip
                self.audit(
                    scored, scorer, "practice.score", "practice", practice_id,
                    {"role": role, "scores": scores},
                )  # fmt: skip
                for cid, dimension in criteria:
                    values[dimension].append(scores[cid])
                    everything.append(scores[cid])
                details = {
                    "content": round(sum(values["content"]) / len(values["content"]), 2),
                    "methodology": round(
                        sum(values["methodology"]) / len(values["methodology"]), 2
                    ),
                    "scores": count,
                }
                self.progress(
                    person, cohort_id, "lessons.practice", practice_id, "scored", scored,
                    source="lessons", recorded_by=scorer,
                    score=round(sum(everything) / len(everything), 2),
                    details=self.dumps(details),
                )  # fmt: skip

    # Feedback and visits -----------------------------------------------------------------------

    def feedback(
        self,
        edition: EditionRef,
        version_id: int,
        source: str,
        author: int,
        body: str,
        created: datetime,
    ) -> tuple[int, str]:
        """``add_feedback`` on a paragraph of a published version; triaged later."""
        module_id, paragraphs = edition.paragraphs[version_id]
        paragraph = self.rng.choice(paragraphs) if paragraphs else ""
        feedback_id = self.ids.take("curriculum_feedback")
        self.feedback_rows.append(
            [feedback_id, module_id, version_id, paragraph, source, author, body, created]
        )
        self.audit(
            created, author, "feedback.add", "feedback", feedback_id,
            {"version": version_id, "paragraph": paragraph, "source": source},
        )  # fmt: skip
        return feedback_id, paragraph

    def recommendations(
        self, cohort_id: int, ends_on: date, edition: EditionRef, members: list[int], language: str
    ) -> None:
        """Stage IV: a few recommendations on the manual (``tot.recommend``)."""
        rng = self.rng
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            author = rng.choice(members)
            version_id = rng.choice(edition.modules).version_id
            body = rng.choice(RECOMMENDATIONS[language])
            at = local_moment(rng, ends_on, 14, 17)
            feedback_id, paragraph = self.feedback(edition, version_id, "tot", author, body, at)
            self.audit(
                at, author, "tot.recommend", "cohort", cohort_id,
                {"feedback": feedback_id, "version": version_id, "paragraph": paragraph,
                 "body": body},
            )  # fmt: skip

    def visits(self) -> None:
        """About two monitoring visits per madrasa and year, each observing a class."""
        from babel.dates import format_date

        rng = self.rng
        from lessons.monitoring import CHECKLIST

        for madrasa_id, region in self.madrasa_list:
            officers = self.monitors_by_region[region]
            for year in SCHOOL_YEARS:
                for _ in range(rng.choice((1, 2, 2, 2, 3))):
                    # In term time: mid-January to May, September to November.
                    offset = rng.randint(0, 136 + 90)
                    visited_on = (
                        date(year, 1, 15) + timedelta(days=offset)
                        if offset <= 136
                        else date(year, 9, 1) + timedelta(days=offset - 137)
                    )
                    if visited_on >= TODAY:
                        continue
                    officer, _language = rng.choice(officers)
                    running = [
                        c
                        for c in self.classes_by_madrasa.get(madrasa_id, [])
                        if c.starts_on <= visited_on <= c.ends_on
                    ]
                    klass = rng.choice(running) if running else None
                    module = rng.choice(klass.edition.modules) if klass else None
                    checklist = {
                        item.id: rng.choices((1, 2, 3, 4), (0.08, 0.22, 0.4, 0.3))[0]
                        for item in CHECKLIST
                        if rng.random() < 0.9
                    }
                    follow_ups = rng.choice(FOLLOW_UPS) if rng.random() < 0.45 else ""
                    done = (
                        bool(follow_ups) and (TODAY - visited_on).days > 60 and rng.random() < 0.7
                    )
                    created = local_moment(rng, visited_on, 15, 21)
                    visit_id = self.ids.take("lessons_monitoring_visit")
                    visitors = (
                        "Specialist of the regional Muftiate (sample)" if rng.random() < 0.2 else ""
                    )
                    self.w.add(
                        "lessons_monitoring_visit",
                        (visit_id, madrasa_id, visited_on.isoformat(), officer, visitors,
                         klass.id if klass else None, module.version_id if module else None,
                         self.dumps(checklist), rng.choice(FINDINGS), follow_ups, done,
                         stamp(created)),
                    )  # fmt: skip
                    feedback_id = None
                    if klass is not None and module is not None and rng.random() < 0.12:
                        when = format_date(visited_on, format="medium", locale="en")
                        body = (
                            f"{rng.choice(MANUAL_FINDINGS)} (sample)\n\nSeen on a monitoring"
                            f" visit to {self.madrasa_names[madrasa_id]} on {when}."
                        )
                        feedback_id, _paragraph = self.feedback(
                            klass.edition, module.version_id, "monitoring", officer, body, created
                        )
                    self.audit(
                        created, officer, "visit.record", "monitoring_visit", visit_id,
                        {"madrasa_id": madrasa_id, "visited_on": visited_on.isoformat(),
                         "cohort_id": klass.id if klass else None,
                         "module_version_id": module.version_id if module else None,
                         "feedback_id": feedback_id},
                    )  # fmt: skip
                    if done:
                        self.audit(
                            created + timedelta(days=rng.randint(10, 50)), officer,
                            "visit.follow_ups_done", "monitoring_visit", visit_id,
                            {"madrasa_id": madrasa_id},
                        )  # fmt: skip

    def classroom_feedback(self) -> None:
        """A few teachers send feedback on the paragraphs they teach."""
        rng = self.rng
        for classes in self.classes_by_madrasa.values():
            for klass in classes:
                if rng.random() >= 0.06:
                    continue
                version_id = rng.choice(klass.edition.modules).version_id
                day = klass.starts_on + timedelta(days=rng.randint(20, 200))
                if day >= TODAY:
                    continue
                language = klass.language
                self.feedback(
                    klass.edition, version_id, "classroom", klass.teachers[0],
                    rng.choice(CLASSROOM_FEEDBACK[language]), local_moment(rng, day, 15, 22),
                )  # fmt: skip

    def write_feedback(self) -> None:
        """The feedback rows, most older ones triaged by the editor (``triage``)."""
        rng = self.rng
        for feedback_id, module_id, version_id, paragraph, source, author, body, created in sorted(
            self.feedback_rows
        ):
            status, note, triaged_at = "new", "", None
            if (TODAY - created.date()).days > 30 and rng.random() < 0.6:
                status = rng.choices(("accepted", "rejected", "deferred"), (0.6, 0.2, 0.2))[0]
                note = TRIAGE_NOTES[status]
                triaged_at = created + timedelta(
                    days=rng.randint(5, 30), minutes=rng.randint(1, 600)
                )
                self.audit(
                    triaged_at, self.editor, "feedback.triage", "feedback", feedback_id,
                    {"status": status, "resolved_by": None},
                )  # fmt: skip
            self.w.add(
                "curriculum_feedback",
                (feedback_id, module_id, version_id, paragraph, source, author, body, status,
                 note, self.editor if triaged_at else None,
                 stamp(triaged_at) if triaged_at else None, None, stamp(created)),
            )  # fmt: skip

    # The item-analysis quiz ------------------------------------------------------------------

    def big_quiz(self) -> None:
        """50,000 learners answer the national test's 20 questions once each: students of
        last year's classes (this year's had no accounts yet in May 2026), and at small
        scales test takers made for it."""
        rng = self.rng
        info = self.ref.big_quiz
        assert info is not None
        cohort_id = info["cohort_id"]
        takers = rng.sample(self.students, min(len(self.students), BIG_QUIZ_LEARNERS))
        extra = BIG_QUIZ_LEARNERS - len(takers)
        created = datetime(2026, 4, 20, 5, 0, 0, 1)
        for _ in range(extra):  # small scales: more students than the classes hold
            region = rng.choice(list(names.REGION_WEIGHTS))
            uid = self.user(
                sex=rng.choice(("male", "female")), region=region, language="ky",
                created=created, actor_id=self.admin,
            )  # fmt: skip
            self.ability[uid] = rng.gauss(0.0, 1.0)
            takers.append(uid)
        takers.sort()
        for uid in takers:
            self.member(cohort_id, uid, "student", created, self.admin)
        quiz = QuizRef(
            info["quiz_id"], cohort_id, "final", 60.0, info["questions"], [], BIG_QUIZ_QUESTIONS
        )
        for uid in takers:
            self.take(quiz, uid, date(2026, 5, 11), 12, 1, 0.4, "en")


# --- after the bulk -----------------------------------------------------------------------------


@contextmanager
def issued_on(day: date) -> Iterator[None]:
    """Issue as on ``day`` (the service stamps certificates with today): the generated
    world's certificates were issued after each ToT, not all on the day it was made."""
    from certificates import issuance
    from lms.audit import services as audit

    moment = datetime(day.year, day.month, day.day, 5, 30, 0, 1)
    saved = issuance.local_today, issuance.utcnow, audit.utcnow
    issuance.local_today = lambda: day  # type: ignore[assignment]
    issuance.utcnow = audit.utcnow = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        issuance.local_today, issuance.utcnow, audit.utcnow = saved


def issue_certificates(db: Any, languages: dict[int, str], rng: random.Random) -> int:
    """Certificates for everyone who completed a finished ToT, through the service."""
    from certificates import issuance
    from lms.accounts.models import User
    from lms.cohorts.models import Cohort

    made = 0
    cohorts = db.session.scalars(
        select(Cohort)
        .where(Cohort.id.in_(list(languages)), Cohort.ends_on < TODAY)
        .order_by(Cohort.ends_on, Cohort.id)
    ).all()
    for cohort in cohorts:
        trainer = db.session.get(User, cohort.created_by_id)
        day = min(cohort.ends_on + timedelta(days=rng.randint(1, 14)), TODAY - timedelta(days=1))
        with issued_on(day):
            language = languages[cohort.id]
            bilingual = language == "ky" and rng.random() < 0.5
            design = "tot-completion-ky-ru" if bilingual else "tot-completion"
            issuance.choose_design(cohort, design, language, actor=trainer)
            made += len(issuance.issue_to_completers(cohort, actor=trainer))
        db.session.commit()
    return made


#: Cohorts with more learners than this are refreshed by ``refresh_large`` (see there).
LARGE_COHORT = 10_000


def _refresh_batches(app: Any, batches: list[list[int]]) -> None:
    """``lms.progress.completion.refresh`` over batches of cohorts, a commit after each."""
    from lms.cohorts.models import Cohort
    from lms.extensions import db
    from lms.progress import completion

    with app.app_context(), app.test_request_context():
        for ids in batches:
            cohorts = list(db.session.scalars(select(Cohort).where(Cohort.id.in_(ids))))
            completion.refresh(cohorts)
            db.session.commit()
            db.session.expunge_all()
        db.session.remove()


def refresh_large(db: Any, cohort_id: int) -> None:
    """The snapshot of one very large cohort, as ``completion.refresh`` would store it.

    Workaround: ``refresh`` writes every completer of its cohorts in one ``INSERT … VALUES``
    with two parameters each, and PostgreSQL accepts at most 65,535 parameters (SQLite
    32,766), so a cohort with more than 32,767 completers (16,383 on SQLite) cannot be
    refreshed. The same rows, from the same ``evaluate_completion``, written in batches.
    """
    from sqlalchemy import delete, insert

    from lms.accounts.roles import LEARNER_ROLES
    from lms.cohorts.models import Cohort, Membership
    from lms.progress.api import DEFAULT_RULE, evaluate_completion
    from lms.progress.models import CohortCompletion, CompletionState, ProgressRecord
    from lms.timeutil import utcnow

    cohort = db.session.get(Cohort, cohort_id)
    done = sorted(uid for uid, result in evaluate_completion(cohort).items() if result.completed)
    db.session.execute(delete(CohortCompletion).where(CohortCompletion.cohort_id == cohort_id))
    for start in range(0, len(done), 10_000):
        rows = [{"cohort_id": cohort_id, "user_id": uid} for uid in done[start : start + 10_000]]
        db.session.execute(insert(CohortCompletion), rows)
    ledger = db.session.scalar(
        select(func.max(ProgressRecord.id)).where(ProgressRecord.cohort_id == cohort_id)
    )
    learners, newest = db.session.execute(
        select(func.count(Membership.id), func.max(Membership.id)).where(
            Membership.cohort_id == cohort_id, Membership.role.in_(LEARNER_ROLES)
        )
    ).one()
    db.session.merge(
        CompletionState(
            cohort_id=cohort_id,
            rule=cohort.completion_rule or DEFAULT_RULE,
            ledger_mark=int(ledger or 0),
            learners=int(learners),
            members_mark=int(newest or 0),
            evaluated_at=utcnow(),
        )
    )
    db.session.commit()


def refresh_completion(app: Any, db: Any, *, batch: int = 100) -> None:
    """Completion snapshots of every cohort (``lms.progress.completion.refresh``), in
    batches; on PostgreSQL in two processes (the work is loading ledger records into
    Python), on SQLite in one (two writers would trip over each other's snapshots)."""
    import multiprocessing

    from lms.accounts.roles import LEARNER_ROLES
    from lms.cohorts.models import Cohort, Membership

    sizes = dict(
        db.session.execute(
            select(Cohort.id, func.count(Membership.id))
            .outerjoin(
                Membership,
                (Membership.cohort_id == Cohort.id) & Membership.role.in_(LEARNER_ROLES),
            )
            .group_by(Cohort.id)
            .order_by(Cohort.id)
        ).all()
    )
    for cohort_id, learners in sizes.items():
        if learners > LARGE_COHORT:
            refresh_large(db, cohort_id)
    ids = [cohort_id for cohort_id, learners in sizes.items() if learners <= LARGE_COHORT]
    batches = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    db.session.remove()
    workers = 2 if db.engine.dialect.name == "postgresql" else 1
    if workers == 1:
        _refresh_batches(app, batches)
        return
    db.engine.dispose()  # forked children must not share the parent's connections
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_refresh_batches, args=(app, batches[k::workers]))
        for k in range(workers)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()
    if any(child.exitcode for child in children):
        raise SystemExit("refreshing the completion snapshots failed")


def rebuild_attendance_totals(db: Any) -> None:
    """The report's kept attendance totals (``lessons.totals``): the bulk load wrote the
    marks without the session listener that keeps them."""
    from lessons.totals import rebuild_all

    print(f"  {rebuild_all()} cohorts")
    db.session.commit()


def rebuild_students_reached(db: Any) -> None:
    """The report's kept students-reached figures (``lms.cohorts.totals``): the bulk load
    wrote the memberships without the session listener that keeps them."""
    from lms.cohorts.totals import rebuild_all

    print(f"  {rebuild_all()} madrasas")
    db.session.commit()


def rebuild_item_statistics(db: Any) -> None:
    """The item analysis's kept counts (``quizzes.statistics``): the bulk load wrote the
    attempts and answers without the session listener that keeps them."""
    from quizzes.statistics import rebuild_all

    print(f"  {rebuild_all()} quizzes")
    db.session.commit()


def analyze(db: Any) -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def report(db: Any, phases: Phases, url: str) -> None:
    """Rows per table, time per phase, total time and the database's size."""
    print("\nrows per table")
    total_rows = 0
    for table in sorted(db.metadata.tables):
        count = db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0
        total_rows += count
        print(f"  {table:34} {count:>12,}")
    print(f"  {'(all tables)':34} {total_rows:>12,}")
    print("\ntime per phase")
    for name, took in phases.times:
        print(f"  {name:34} {took:>10.1f} s")
    print(f"  {'total':34} {phases.total:>10.1f} s")
    if db.engine.dialect.name == "postgresql":
        size = db.session.execute(text("SELECT pg_database_size(current_database())")).scalar()
    else:
        path = Path(make_url(url).database or "")
        size = sum(
            Path(f"{path}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        )
    print(f"\ndatabase size: {size / 2**20:,.0f} MiB")


def refresh_only(url: str) -> None:
    """Bring an existing generated database's completion snapshots up to date."""
    os.environ["LMS_LOAD_ENTRYPOINTS"] = "true"
    from lms import create_app
    from lms.extensions import db

    phases = Phases()
    app = create_app(app_config(url, Path(tempfile.mkdtemp(prefix="lms-data-"))))
    with app.app_context(), app.test_request_context():
        with phases("completion snapshots"):
            refresh_completion(app, db)
        with phases("analyze"):
            analyze(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1: the issue's figures")
    parser.add_argument("--database", help="a PostgreSQL (recreated) or SQLite URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--big-quiz", action="store_true", help="add a quiz with 1,000,000 answers")
    parser.add_argument(
        "--refresh-only",
        action="store_true",
        help="only refresh the completion snapshots of the existing --database (they count"
        " as stale a day after they were made) and ANALYZE",
    )
    args = parser.parse_args()
    if args.refresh_only:
        if not args.database:
            parser.error("--refresh-only needs --database")
        refresh_only(args.database)
        return

    phases = Phases()
    url, folder = prepare_database(args.database)
    os.environ["LMS_LOAD_ENTRYPOINTS"] = "true"

    from flask_migrate import upgrade

    from lms import create_app
    from lms.demo import load_demo
    from lms.extensions import db

    rng = random.Random(args.seed)
    app = create_app(app_config(url, folder))
    with app.app_context(), app.test_request_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        with phases("schema (migrations)"):
            upgrade()
        check_columns(db)
        with phases("demo (services)"):
            load_demo()
            db.session.commit()
        with phases("question banks (services)"):
            ref = Reference(db, rng, big_quiz=args.big_quiz)
        with phases("bulk"):
            db.session.remove()
            if db.engine.dialect.name == "postgresql":
                factory: Callable[[], Backend] = lambda: PostgresBackend(url)  # noqa: E731
            else:
                path = make_url(url).database or ""
                factory = lambda: SqliteBackend(path)  # noqa: E731
            load_mode = PostgresLoadMode(db) if db.engine.dialect.name == "postgresql" else None
            if load_mode is not None:
                load_mode.drop()
            writer = BulkWriter(factory)
            bulk = Bulk(db, ref, writer, rng, args.scale)
            try:
                bulk.run(big_quiz=args.big_quiz)
            finally:
                writer.close()
            db.session.remove()
            print(
                f"  {sum(writer.counts.values()):,} rows; the writer wrote for"
                f" {writer.writing:.1f} s, the generator waited for it {writer.waited:.1f} s"
            )
        if load_mode is not None:
            with phases("indexes and constraints"):
                load_mode.restore()
        reset_sequences(db)
        with phases("analyze (statistics for what follows)"):
            analyze(db)
        with phases("certificates (service)"):
            made = issue_certificates(db, bulk.tot_languages, rng)
            print(f"  {made} certificates issued")
        with phases("completion snapshots"):
            refresh_completion(app, db)
        with phases("attendance totals"):
            rebuild_attendance_totals(db)
        with phases("students reached"):
            rebuild_students_reached(db)
        with phases("item-analysis counts"):
            rebuild_item_statistics(db)
        with phases("analyze"):
            analyze(db)
        report(db, phases, url)
    print(f"\n{url}")
    print(f"log in as admin, editor, reviewer, trainer, teacher, monitor… password {PASSWORD!r};")
    print(f"SECRET_KEY={SECRET_KEY!r} PUBLIC_URL={PUBLIC_URL!r} (see benchmarks/README.md)")


if __name__ == "__main__":
    main()
