"""Configuration: safe defaults for a laptop, every value overridable by ``LMS_*`` variables.

The embedded default (SQLite in the instance folder, jobs in-process, rate limits in memory)
needs no configuration at all. A deployment sets ``LMS_ENV=production`` and at least
``LMS_SECRET_KEY`` and ``LMS_DATABASE_URL``; see docs/deploy.md.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "LMS_"

#: Languages the interface is translated into, in the order the switch shows them.
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "ky": "Кыргызча"}

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": None,  # nosec B105  # no default secret: production refuses to start without one
    "DATABASE_URL": None,
    #: The address people reach the site at (printed on certificates); required in production.
    "PUBLIC_URL": "",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "LANGUAGES": list(LANGUAGES),
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Bishkek",
    "DISABLED_PLUGINS": [],
    "LOAD_ENTRYPOINTS": True,
    "CELERY_BROKER_URL": None,
    "CELERY_RESULT_BACKEND": None,
    "JOBS_IN_BACKGROUND": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    #: Failed log-ins (and password confirmations) per account, whoever tries.
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute; 20 per hour",
    #: A session ends after this long without a request, and this long after the log-in.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    #: Approving a version, revoking a certificate or changing roles needs a password typed
    #: this recently; otherwise the person confirms it again.
    "FRESH_LOGIN_MINUTES": 10,
    #: "Keep me logged in" lasts this long (seconds), and the server refuses older cookies.
    "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "USERS_PER_PAGE": 50,
    "CSV_IMPORT_MAX_ROWS": 500,
    "LESSONS_EDIT_WINDOW_DAYS": 7,
    # Reports: ToT cohorts whose completion rule the page evaluates (the donor-report job
    # evaluates all), and records listed behind one figure.
    "REPORTS_COMPLETION_COHORTS": 4,
    "REPORTS_DRILL_LIMIT": 200,
    # Report figures are kept this many seconds (0: computed on every view); the cache is
    # Redis when CACHE_URL is set, else in the process.
    "REPORTS_CACHE_SECONDS": 600,
    # Indicators a report page counts at once on PostgreSQL, each on its own connection
    # (1: one after the other). SQLite always counts them one after the other.
    "REPORTS_WORKERS": 2,
    "CACHE_URL": "",
    # The busiest pages are served again unchanged while the database has not changed
    # (see lms/pagecache.py). 0 turns it off.
    "PAGE_CACHE_SECONDS": 300,
    # Rows of a long table shown on the page and in the donor PDF (CSV and XLSX: all rows).
    "REPORTS_PAGE_ROWS": 10,
    "REPORTS_PDF_ROWS": 40,
}

#: Keys that hold lists and may be given as comma-separated text in the environment.
LIST_KEYS = {"DISABLED_PLUGINS", "LANGUAGES"}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def parse_env_value(key: str, raw: str) -> Any:
    """Turn an environment string into the type the key's default has."""
    default = DEFAULTS.get(key)
    if key in LIST_KEYS:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, bool):
        if raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.strip().lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{key} must be true or false, not {raw!r}.")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a whole number, not {raw!r}.") from None
    if isinstance(default, dict):
        try:
            return json.loads(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key} must be a JSON object.") from None
    return raw


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every ``LMS_FOO`` variable becomes the config key ``FOO``."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX) and name != "LMS_TEST_DATABASE_URL":
            key = name[len(ENV_PREFIX) :]
            values[key] = parse_env_value(key, raw)
    return values


def build_config(instance_path: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults, then the environment, then explicit overrides; then derived values."""
    config: dict[str, Any] = dict(DEFAULTS)
    config.update(from_environment())
    if overrides:
        config.update(overrides)

    production = config["ENV"] == "production"
    config["PRODUCTION"] = production

    if not config.get("SQLALCHEMY_DATABASE_URI"):
        url = config.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'lms.sqlite3'}"
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        config["SQLALCHEMY_DATABASE_URI"], config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    )

    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "LMS_SECRET_KEY must be set to a long random value in production "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))").'
            )
        config["SECRET_KEY"] = instance_secret_key(instance_path)
    elif production and len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError("LMS_SECRET_KEY is too short for production: use 32 characters or more.")

    if production:
        config.setdefault("SESSION_COOKIE_SECURE", True)
        config.setdefault("REMEMBER_COOKIE_SECURE", True)
    return config


def engine_options(url: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """PostgreSQL sessions run without JIT compilation.

    PostgreSQL compiles a query it estimates as expensive to machine code first; for the
    report aggregates that took 0.4 s of a 2.5 s query and saved nothing. Settings given in
    ``LMS_SQLALCHEMY_ENGINE_OPTIONS`` (``connect_args``) take precedence.
    """
    merged = dict(options)
    if url.startswith("postgresql"):
        connect_args = dict(merged.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        merged["connect_args"] = connect_args
    return merged


def normalise_database_url(url: str) -> str:
    """Let people write ``postgresql://`` and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """A random key kept in the instance folder, so a laptop install keeps its sessions."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
