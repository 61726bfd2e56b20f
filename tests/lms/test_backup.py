"""Backup and restore: the drill (back up, restore into a fresh database, check everything),
the SQLite copy taken while another connection writes, and the refusals.

The drill runs on the test database's kind: SQLite by default, PostgreSQL when
``LMS_TEST_DATABASE_URL`` is set (the restore target is then a new database on the same
server, dropped at the end).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from certificates import issuance, rendering
from certificates.models import Certificate
from certificates.verification import KeyRing, check_payload
from lms import backup, create_app
from lms.audit import services as audit
from lms.extensions import db
from tests import factories
from tests.certificates import helpers
from tests.conftest import TEST_CONFIG


@pytest.fixture
def restore_target(make_app: Any, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of the test database's kind (dropped afterwards)."""
    source = make_url(make_app().config["SQLALCHEMY_DATABASE_URI"])
    if source.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'lms.sqlite3'}"
        return
    name = f"{source.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _app_on(url: str, tmp_path: Path) -> Any:
    """An app on another database (same secret key as the tests' apps)."""
    return create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp_path / "instance-restored"),
        }
    )


def _counts(app: Any) -> dict[str, int]:
    with app.app_context(), db.engine.connect() as connection:
        return backup.count_rows(connection)


def _build_data(app: Any) -> dict[str, Any]:
    """Users, a cohort, issued certificates (one rendered, one revoked), audit entries."""
    with app.app_context():
        admin = factories.user("admin", username="boss")
        cohort, _done, _trainer = helpers.completed_cohort(
            ["Айгүл Токтосунова", "Бакыт Осмонов", "Нурлан Садыков"]
        )
        made = helpers.issue(cohort, admin)
        kept, revoked = made[0], made[1]
        issuance.revoke(revoked, reason="Issued by mistake", actor=admin)
        audit.record("login.success", "user", admin.id, actor_id=admin.id)
        db.session.commit()
        pdf = rendering.ensure_pdf(kept)
        assert audit.verify_chain() == []
        return {
            "verification_id": kept.verification_id,
            "qr": rendering.qr_payload(kept),
            "credential": kept.credential,
            "pdf": pdf,
            "revoked_qr": rendering.qr_payload(revoked),
        }


def test_drill_backup_then_restore_into_a_fresh_database(make_app, restore_target, tmp_path):
    source_app = make_app()
    issued = _build_data(source_app)
    before = _counts(source_app)
    assert before["certificates_certificate"] == 3 and before["lms_audit_entry"] > 3

    folder = tmp_path / "backups"
    folder.mkdir()
    made = source_app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert made.exit_code == 0, made.output
    password = make_url(source_app.config["SQLALCHEMY_DATABASE_URI"]).password
    assert not password or password not in made.output
    (dump,) = (p for p in folder.iterdir() if not p.name.endswith(backup.MANIFEST_SUFFIX))
    kind = make_url(restore_target).get_backend_name()
    assert dump.suffix == backup.SUFFIXES[kind] and backup.file_kind(dump) == kind
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["tables"] == before
    assert manifest["alembic_revision"] and manifest["app_version"]

    restored_app = _app_on(restore_target, tmp_path)
    runner = restored_app.test_cli_runner()
    result = runner.invoke(args=["restore", str(dump)])
    assert result.exit_code == 0, result.output
    assert "Verified:" in result.output

    assert _counts(restored_app) == before, "every table has the rows it had"
    with restored_app.app_context():
        assert audit.verify_chain() == []
        keys = KeyRing()  # the restored database's published keys
        for payload in (issued["qr"].encode(), issued["credential"].encode(), issued["pdf"]):
            report = check_payload(payload, keys)
            assert report.ok, [(c.what, c.ok, c.detail) for c in report.checks]
            assert ("status", True, "valid") in [(c.what, c.ok, c.detail) for c in report.checks]
        stored = db.session.scalar(
            select(Certificate.pdf).where(Certificate.verification_id == issued["verification_id"])
        )
        assert stored == issued["pdf"]
        revoked = check_payload(issued["revoked_qr"].encode(), keys)
        assert not revoked.ok and "revoked" in revoked.checks[-1].detail
        db.session.remove()

    again = runner.invoke(args=["restore", str(dump)])
    assert again.exit_code != 0
    assert "not empty" in again.output and "--force" in again.output
    forced = runner.invoke(args=["restore", "--force", str(dump)])
    assert forced.exit_code == 0, forced.output
    assert _counts(restored_app) == before
    with restored_app.app_context():
        db.engine.dispose()


def test_a_restore_that_does_not_match_its_manifest_is_reported(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        factories.user()
        db.session.commit()
        _dump, manifest = backup.backup(db.engine.url, tmp_path)
        manifest.tables["lms_user"] += 1
        problems, revision = backup.verify(db.engine.url, manifest)
    assert problems == [
        f"table lms_user has {manifest.tables['lms_user'] - 1} rows, the backup "
        f"{manifest.tables['lms_user']}"
    ]
    assert revision == manifest.alembic_revision


# --- SQLite: a copy while the site writes --------------------------------------------------


def test_sqlite_backup_copies_a_consistent_database_while_another_connection_writes(tmp_path):
    """Page by page, with a writer committing between the steps: the copy is intact."""
    live = tmp_path / "live.sqlite3"
    setup = sqlite3.connect(live)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    setup.executemany("INSERT INTO note (body) VALUES (?)", [(os.urandom(900),)] * 3000)
    setup.commit()
    setup.close()

    written = 0
    stop = threading.Event()
    committed = threading.Condition()

    def writer() -> None:
        nonlocal written
        connection = sqlite3.connect(live, timeout=10)
        connection.execute("PRAGMA busy_timeout=10000")
        while not stop.is_set():
            connection.execute("INSERT INTO note (body) VALUES (?)", (os.urandom(900),))
            connection.commit()
            with committed:
                written += 1
                committed.notify_all()
        connection.close()

    steps = 0
    written_during: list[int] = []

    def each_step(_status: int, remaining: int, _total: int) -> None:
        """Let the writer commit at least once between every two steps of the copy."""
        nonlocal steps
        steps += 1
        with committed:
            target = written + 1
            assert committed.wait_for(lambda: written >= target, timeout=10)
        written_during.append(written)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with committed:
            assert committed.wait_for(lambda: written >= 5, timeout=10)
        started_with = written
        dump, manifest = backup.backup(
            f"sqlite:///{live}", tmp_path, pages_per_step=16, progress=each_step
        )
    finally:
        stop.set()
        thread.join(10)

    assert steps > 20, "the copy was made in many steps"
    assert written_during[-1] - started_with >= steps, "rows were committed during the copy"
    copy = sqlite3.connect(dump)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = copy.execute("SELECT count(*) FROM note").fetchone()[0]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        copy.close()
    # One moment of the database: all rows committed before the copy began, none torn.
    assert 3000 + started_with <= rows <= 3000 + written
    assert manifest.tables == {"note": rows}
    assert not (tmp_path / f"{dump.name}-wal").exists()


# --- refusals -------------------------------------------------------------------------------


def test_backup_names_tell_the_kind_and_are_never_overwritten(tmp_path):
    assert backup.backup_file_name("postgresql").endswith(".pgdump")
    named = backup.target_path(tmp_path, "sqlite")
    assert named.parent == tmp_path and named.name.startswith("lms-") and named.suffix == ".sqlite3"
    with pytest.raises(backup.BackupError, match=r"named \*\.pgdump"):
        backup.target_path(tmp_path / "nightly.sqlite3", "postgresql")
    (tmp_path / "taken.sqlite3").write_bytes(b"")
    with pytest.raises(backup.BackupError, match="never overwritten"):
        backup.target_path(tmp_path / "taken.sqlite3", "sqlite")


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path):
    sqlite_dump = tmp_path / "lms.sqlite3"
    sqlite3.connect(sqlite_dump).close()
    sqlite_dump.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(backup.BackupError, match=r"is a SQLite backup, but .* is PostgreSQL"):
        # No connection is attempted: the file is refused first.
        backup.restore("postgresql://nobody:secret@127.0.0.1:1/none", sqlite_dump)

    pg_dump = tmp_path / "lms.pgdump"
    pg_dump.write_bytes(b"PGDMP" + bytes(100))
    with pytest.raises(backup.BackupError, match=r"is a PostgreSQL backup, but .* is SQLite"):
        backup.restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", pg_dump)

    other = tmp_path / "notes.sqlite3"
    other.write_text("hello")
    with pytest.raises(backup.BackupError, match="neither a SQLite database nor a pg_dump"):
        backup.restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", other)


def test_restore_refuses_a_file_its_manifest_does_not_describe(tmp_path):
    live = tmp_path / "live.sqlite3"
    connection = sqlite3.connect(live)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    dump, _manifest = backup.backup(f"sqlite:///{live}", tmp_path)
    with dump.open("ab") as handle:
        handle.write(b"\0" * 4096)
    with pytest.raises(backup.BackupError, match="different SHA-256"):
        backup.restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", dump)


def test_postgres_tools_get_the_password_in_the_environment_only():
    conninfo, environment = backup.libpq_arguments(
        "postgresql+psycopg://lms:s3cr%27et@db.example:5433/lms?sslmode=require"
    )
    assert "s3cr" not in conninfo
    assert environment["PGPASSWORD"] == "s3cr'et"
    assert conninfo == "host='db.example' port='5433' user='lms' dbname='lms' sslmode='require'"
    assert "s3cr" not in backup.safe_url("postgresql+psycopg://lms:s3cret@db/lms")


def _fake_tool(folder: Path, name: str, version: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    script.chmod(0o755)


@pytest.mark.skipif(
    not os.environ.get("LMS_TEST_DATABASE_URL"), reason="needs PostgreSQL (LMS_TEST_DATABASE_URL)"
)
def test_postgres_backup_explains_a_missing_or_old_pg_dump(app, tmp_path, monkeypatch):
    url = db.engine.url
    db.session.remove()
    empty = tmp_path / "bin-empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(backup.BackupError, match="pg_dump was not found on PATH"):
        backup.backup(url, tmp_path)

    old = tmp_path / "bin-old"
    old.mkdir()
    _fake_tool(old, "pg_dump", "9.6.24")
    monkeypatch.setenv("PATH", str(old))
    with pytest.raises(backup.BackupError, match=r"version 9\.6, older than the database server"):
        backup.backup(url, tmp_path)
    assert list(tmp_path.glob("*.pgdump")) == [] and list(tmp_path.glob(".*partial")) == []


# --- the nightly script ---------------------------------------------------------------------


def test_nightly_script_backs_up_then_keeps_the_last_days(tmp_path):
    """deploy/backup.sh reads the settings file, backs up, and deletes only its own old files."""
    live = tmp_path / "live.sqlite3"
    connection = sqlite3.connect(live)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    connection.close()
    settings = tmp_path / "lms.env"
    settings.write_text(
        f"LMS_DATABASE_URL=sqlite:///{live}\nLMS_INSTANCE_PATH={tmp_path / 'instance'}\n"
        f"LMS_LOGIN_RATE_LIMIT='10 per minute'\n"
    )
    folder = tmp_path / "backups"
    folder.mkdir()
    day = 24 * 3600
    now = time.time()
    files = {
        "lms-20200101-023000.sqlite3": 30,
        "lms-20200101-023000.sqlite3.manifest.json": 30,
        "lms-20200117-023000.pgdump": 15,
        "lms-20200118-023000.sqlite3": 12,
        "notes.txt": 30,
    }
    for name, age in files.items():
        (folder / name).write_text("old")
        os.utime(folder / name, (now - age * day, now - age * day))
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BACKUP_DIR": str(folder),
        "BACKUP_KEEP_DAYS": "14",
        "BACKUP_ENV_FILE": str(settings),
        "BACKUP_LMS": str(Path(sys.executable).parent / "lms"),
    }
    script = Path(__file__).resolve().parents[2] / "deploy" / "backup.sh"
    result = subprocess.run(
        ["sh", str(script)], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    left = sorted(p.name for p in folder.iterdir())
    new = [name for name in left if name not in files]
    assert len(new) == 2 and new[0].endswith(".sqlite3") and new[1].endswith(".manifest.json")
    assert (folder / new[0]).stat().st_mode & 0o077 == 0, "only the owner reads backups"
    assert "lms-20200101-023000.sqlite3" not in left
    assert "lms-20200117-023000.pgdump" not in left
    assert {"lms-20200118-023000.sqlite3", "notes.txt"} <= set(left)

    environment["BACKUP_KEEP_DAYS"] = "none"
    refused = subprocess.run(["sh", str(script)], env=environment, capture_output=True, text=True)
    assert refused.returncode == 2 and "BACKUP_KEEP_DAYS" in refused.stderr
