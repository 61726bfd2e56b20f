"""Backing up and restoring the database: ``lms backup PATH`` and ``lms restore PATH``.

A backup is one file in the database's own format, so that the standard tools open it even
without this program: a SQLite database (``*.sqlite3``) or a ``pg_dump`` custom-format
archive (``*.pgdump``). Next to it, ``<file>.manifest.json`` records what it holds (the app
version, the Alembic revision, the row count of every table, the time, the file's SHA-256);
a restore checks the file against it first and the restored database against it after.

- SQLite: the online backup API copies the database page by page while the site keeps
  writing. The copy is taken inside one read transaction, so in WAL mode (which the app
  always uses) it is one consistent moment of the database and writers never wait for it.
- PostgreSQL: ``pg_dump --format=custom`` from a snapshot exported by a transaction that
  also counts the rows, so the counts in the manifest are exactly what the dump holds.
  ``pg_restore --clean --if-exists --no-owner`` restores it in one transaction.

Restoring over a database that already has tables is refused unless ``force`` is given.
Passwords never reach a command line or a message: ``pg_dump`` gets it in ``PGPASSWORD``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404  # fixed argument lists only, never a shell (see the calls)
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SUFFIXES = {SQLITE: ".sqlite3", POSTGRESQL: ".pgdump"}
KIND_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = "madrasa-lms-backup/1"
#: The first bytes of each kind of file (how a backup says what it is, whatever its name).
MAGIC = {SQLITE: b"SQLite format 3\x00", POSTGRESQL: b"PGDMP"}
#: Pages copied per step of a SQLite backup (4 MB with 4 KB pages).
SQLITE_PAGES_PER_STEP = 1024
#: Connection settings passed to pg_dump/pg_restore in the environment, not as arguments.
_PASSWORD_ENV = "PGPASSWORD"  # nosec B105  # the name of libpq's variable, not a password


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass
class Manifest:
    """What a backup holds, written next to it and checked when it is restored."""

    kind: str
    file: str
    size: int
    sha256: str
    created_at: str
    app_version: str
    alembic_revision: str | None
    tables: dict[str, int]
    tool: str = ""
    format: str = MANIFEST_FORMAT

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a Madrasa LMS backup manifest")
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class RestoreResult:
    manifest: Manifest | None
    problems: list[str] = field(default_factory=list)
    revision: str | None = None


# --- what kind of database, what kind of file ---------------------------------------------


def database_kind(url: str | URL) -> str:
    """``sqlite`` or ``postgresql``; any other database cannot be backed up by this tool."""
    backend = make_url(url).get_backend_name()
    if backend in (SQLITE, POSTGRESQL):
        return backend
    raise BackupError(f"Backups of {backend} databases are not supported (SQLite, PostgreSQL).")


def file_kind(path: Path) -> str | None:
    """The kind of backup a file is, from its first bytes (not its name)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def backup_file_name(kind: str, now: datetime | None = None) -> str:
    """``lms-20260131-023000.pgdump``: sorts by time; the suffix names the kind."""
    now = now or datetime.now(UTC)
    return f"lms-{now:%Y%m%d-%H%M%S}{SUFFIXES[kind]}"


def target_path(path: Path, kind: str, now: datetime | None = None) -> Path:
    """Where to write: a directory gets a new dated file; a file name must suit the kind.

    An existing file is never overwritten (a failed nightly run must not destroy the last
    good backup).
    """
    if path.is_dir():
        path = path / backup_file_name(kind, now)
    elif path.suffix != SUFFIXES[kind]:
        raise BackupError(
            f"A {KIND_NAMES[kind]} backup file is named *{SUFFIXES[kind]}, not {path.name}: "
            f"the name tells which database it restores into. Give a directory to get a "
            f"dated name."
        )
    if path.exists():
        raise BackupError(f"{path} already exists; backups are never overwritten.")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist.")
    return path


def safe_url(url: str | URL) -> str:
    """The database address for messages: without its password (nor the driver's name)."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


# --- counting rows ------------------------------------------------------------------------


def table_names(connection: Connection) -> list[str]:
    """The tables of the connection's default schema (``public`` on PostgreSQL)."""
    return sorted(inspect(connection).get_table_names())


def count_rows(connection: Connection) -> dict[str, int]:
    """Rows per table, read in the connection's current transaction."""
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: int(connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())  # nosec B608  # identifiers from the database's own table list, quoted by the dialect
        for name in table_names(connection)
    }


def alembic_revision(connection: Connection) -> str | None:
    """The schema revision the database is at (None before ``lms init``)."""
    if "alembic_version" not in table_names(connection):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _app_version() -> str:
    from lms import __version__

    return __version__


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomically(path: Path, data: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(data, encoding="utf-8")
    os.replace(temporary, path)


# --- backup -------------------------------------------------------------------------------


def backup(
    url: str | URL,
    path: Path,
    *,
    now: datetime | None = None,
    pages_per_step: int = SQLITE_PAGES_PER_STEP,
    progress: Callable[[int, int, int], object] | None = None,
) -> tuple[Path, Manifest]:
    """Back up the database at ``url`` to ``path`` (a file, or a directory for a dated name).

    Returns the backup file and its manifest (written next to it). ``pages_per_step`` and
    ``progress`` (SQLite only: called after each step with status, remaining, total pages)
    let a test interleave writes with the copy.
    """
    kind = database_kind(url)
    target = target_path(Path(path), kind, now)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == SQLITE:
            tables, revision, tool = _sqlite_backup(url, partial, pages_per_step, progress)
        else:
            tables, revision, tool = _postgres_backup(url, partial)
        manifest = Manifest(
            kind=kind,
            file=target.name,
            size=partial.stat().st_size,
            sha256=file_sha256(partial),
            created_at=_now_text(),
            app_version=_app_version(),
            alembic_revision=revision,
            tables=tables,
            tool=tool,
        )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_atomically(manifest_path(target), manifest.to_json())
    return target, manifest


def sqlite_file(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("The database is in memory: there is nothing to back up.")
    return Path(database)


def _sqlite_backup(
    url: str | URL,
    partial: Path,
    pages_per_step: int,
    progress: Callable[[int, int, int], object] | None,
) -> tuple[dict[str, int], str | None, str]:
    source_file = sqlite_file(url)
    if not source_file.is_file():
        raise BackupError(f"The database file {source_file} does not exist.")
    source = sqlite3.connect(source_file, timeout=30, isolation_level=None)
    try:
        # One read transaction for the whole copy: every step reads the same snapshot, so
        # writes by other connections neither restart the copy nor wait for it (WAL).
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=max(1, pages_per_step), progress=progress)
            # A standalone file: no -wal/-shm files appear next to the backup when opened.
            copy.execute("PRAGMA journal_mode=DELETE").fetchone()
            result = copy.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                raise BackupError(f"The copy failed its integrity check: {result[:5]}")
        finally:
            copy.close()
        source.execute("COMMIT")
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite backup failed: {error}") from None
    finally:
        source.close()
    engine = _engine(f"sqlite:///{partial}")
    try:
        with engine.connect() as connection:
            return (
                count_rows(connection),
                alembic_revision(connection),
                f"sqlite {sqlite3.sqlite_version}",
            )
    finally:
        engine.dispose()


# --- PostgreSQL tools -------------------------------------------------------------------


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_arguments(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it.

    Options in the URL's query (``sslmode``, ``host`` for a socket folder…) are libpq's own
    keywords, as psycopg takes them, so they pass through unchanged.
    """
    parsed = make_url(url)
    parts: dict[str, str] = {}
    if parsed.host:
        parts["host"] = parsed.host
    if parsed.port:
        parts["port"] = str(parsed.port)
    if parsed.username:
        parts["user"] = parsed.username
    if parsed.database:
        parts["dbname"] = parsed.database
    for key, value in parsed.query.items():
        parts[key] = value[-1] if isinstance(value, tuple) else str(value)
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in parts.items())
    environment = dict(os.environ)
    if parsed.password is not None:
        environment[_PASSWORD_ENV] = str(parsed.password)
    return conninfo, environment


def _version_key(major: int, minor: int = 0) -> int:
    """Comparable release numbers: 9.6 -> 906, 15 -> 1500 (before 10 the major had 2 parts)."""
    return major * 100 if major >= 10 else major * 100 + minor


def _version_text(key: int) -> str:
    return str(key // 100) if key >= 1000 else f"{key // 100}.{key % 100}"


def server_version_key(connection: Connection) -> int:
    number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    return _version_key(number // 10000) if number >= 100000 else number // 100


def tool_version_key(tool: str) -> tuple[str, int]:
    """The PostgreSQL client program on PATH and its release, or a clear error."""
    found = shutil.which(tool)
    if found is None:
        raise BackupError(
            f"{tool} was not found on PATH. Install the PostgreSQL client programs of the "
            f"server's version (Debian/Ubuntu: apt-get install postgresql-client)."
        )
    try:
        output = subprocess.run(  # nosec B603  # fixed argument list from shutil.which, no shell; settings in env
            [found, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BackupError(f"{found} --version failed: {error}") from None
    match = re.search(r"(\d+)(?:\.(\d+))?", output)
    if match is None:
        raise BackupError(f"Cannot tell the version of {found} from {output.strip()!r}.")
    return found, _version_key(int(match.group(1)), int(match.group(2) or 0))


def _require_tool(tool: str, server_key: int) -> tuple[str, int]:
    found, key = tool_version_key(tool)
    if key < server_key:
        raise BackupError(
            f"{found} is version {_version_text(key)}, older than the database server "
            f"({_version_text(server_key)}), which it cannot handle safely. Install "
            f"postgresql-client-{_version_text(server_key)} and put its bin folder first "
            f"on PATH."
        )
    return found, key


def _run_tool(command: list[str], environment: Mapping[str, str], what: str) -> None:
    try:
        result = subprocess.run(  # nosec B603  # fixed argument list from shutil.which, no shell; settings in env
            command, env=dict(environment), capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise BackupError(f"{what} could not be started: {error}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit {result.returncode}): {detail[-2000:]}")


def _engine(url: str | URL) -> Any:
    """A short-lived engine that keeps no connection open (a file, a database to drop)."""
    return create_engine(make_url(url), poolclass=NullPool)


def _postgres_backup(url: str | URL, partial: Path) -> tuple[dict[str, int], str | None, str]:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                server_key = server_version_key(connection)
                pg_dump, dump_key = _require_tool("pg_dump", server_key)
                # The dump reads the snapshot this transaction exported, so the counts taken
                # here are exactly the rows it holds, however busy the site is meanwhile.
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                tables = count_rows(connection)
                revision = alembic_revision(connection)
                conninfo, environment = libpq_arguments(url)
                _run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        "--no-password",
                        f"--snapshot={snapshot}",
                        f"--file={partial}",
                        f"--dbname={conninfo}",
                    ],
                    environment,
                    "pg_dump",
                )
    except SQLAlchemyError as error:
        raise BackupError(
            f"Cannot read the database {safe_url(url)}: {error.__class__.__name__}: "
            f"{str(error.orig if hasattr(error, 'orig') else error).strip()}"
        ) from None
    finally:
        engine.dispose()
    return tables, revision, f"pg_dump {_version_text(dump_key)}"


# --- restore ------------------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest | None:
    """The manifest next to a backup, or None if there is none; an error if it is unreadable."""
    found = manifest_path(path)
    if not found.is_file():
        return None
    try:
        return Manifest.from_json(found.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as error:
        raise BackupError(f"The manifest {found} cannot be read: {error}") from None


def check_backup_file(path: Path, kind: str) -> Manifest | None:
    """Refuse a file that is not a backup of this database's kind, or not the one described."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    found = file_kind(path)
    if found is None:
        raise BackupError(
            f"{path} is neither a SQLite database nor a pg_dump custom-format archive."
        )
    if found != kind:
        raise BackupError(
            f"{path.name} is a {KIND_NAMES[found]} backup, but the database configured here "
            f"(LMS_DATABASE_URL) is {KIND_NAMES[kind]}: restore it into a {KIND_NAMES[found]} "
            f"database."
        )
    manifest = read_manifest(path)
    if manifest is not None:
        if manifest.kind != found:
            raise BackupError(f"The manifest next to {path.name} describes another kind of backup.")
        if manifest.sha256 != file_sha256(path):
            raise BackupError(
                f"{path.name} is not the file its manifest describes (different SHA-256): it "
                f"was changed or is incomplete."
            )
    return manifest


def restore(url: str | URL, path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the backup at ``path`` into the database at ``url``, then verify it.

    Refuses a database that already has tables unless ``force``. The returned problems
    list is empty when every table has the row count the manifest recorded.
    """
    path = Path(path)
    kind = database_kind(url)
    manifest = check_backup_file(path, kind)
    existing = existing_tables(url)
    if existing and not force:
        raise BackupError(
            f"The database {safe_url(url)} is not empty ({len(existing)} tables): restoring "
            f"would replace its data. Restore into a new, empty database, or pass --force "
            f"to replace it."
        )
    if kind == SQLITE:
        _sqlite_restore(url, path)
    else:
        _postgres_restore(url, path)
    result = RestoreResult(manifest=manifest)
    result.problems, result.revision = verify(url, manifest)
    return result


def existing_tables(url: str | URL) -> list[str]:
    """The tables the target already has (an empty list for a new database)."""
    if database_kind(url) == SQLITE:
        target = sqlite_file(url)
        if not target.exists() or target.stat().st_size == 0:
            return []
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return table_names(connection)
    except SQLAlchemyError as error:
        raise BackupError(
            f"Cannot connect to {safe_url(url)}: {str(getattr(error, 'orig', error)).strip()}. "
            f"Create the (empty) database first."
        ) from None
    finally:
        engine.dispose()


def _sqlite_restore(url: str | URL, path: Path) -> None:
    target = sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = source.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                raise BackupError(f"{path.name} failed its integrity check: {result[:5]}")
            # Through SQLite's own locking, page by page: processes that have the database
            # open see the restored data instead of a file swapped under them.
            destination = sqlite3.connect(target, timeout=30)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite restore failed: {error}") from None


def _postgres_restore(url: str | URL, path: Path) -> None:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            server_key = server_version_key(connection)
    except SQLAlchemyError as error:
        raise BackupError(
            f"Cannot connect to {safe_url(url)}: {str(getattr(error, 'orig', error)).strip()}"
        ) from None
    finally:
        engine.dispose()
    pg_restore, _key = _require_tool("pg_restore", server_key)
    conninfo, environment = libpq_arguments(url)
    _run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={conninfo}",
            str(path),
        ],
        environment,
        "pg_restore",
    )


def verify(url: str | URL, manifest: Manifest | None) -> tuple[list[str], str | None]:
    """Compare a database with a manifest: (problems, the database's Alembic revision)."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            counts = count_rows(connection)
            revision = alembic_revision(connection)
    finally:
        engine.dispose()
    if manifest is None:
        return [], revision
    problems = []
    for name, expected in sorted(manifest.tables.items()):
        if name not in counts:
            problems.append(f"table {name} is missing (the backup has {expected} rows)")
        elif counts[name] != expected:
            problems.append(f"table {name} has {counts[name]} rows, the backup {expected}")
    problems.extend(
        f"table {name} is not in the backup" for name in sorted(set(counts) - set(manifest.tables))
    )
    if revision != manifest.alembic_revision:
        problems.append(
            f"the schema is at revision {revision}, the backup at {manifest.alembic_revision}"
        )
    return problems, revision


def describe(path: Path, manifest: Manifest) -> str:
    """One line for people: the file, its size and what it holds."""
    size = manifest.size
    shown = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"
    return (
        f"{path} ({shown}, {len(manifest.tables)} tables, {manifest.total_rows} rows, "
        f"schema {manifest.alembic_revision or 'empty'})"
    )
