"""Keep secrets and personal data out of the application's logs.

``install()`` wraps the logging record factory, so every record made by any logger in the
process (the app's, Flask's, werkzeug's and gunicorn's access lines, Celery's, SQLAlchemy's)
has its message, arguments and traceback text redacted before any handler sees it:

- password, token, secret and CSRF fields (``password=…``, ``"password": "…"``);
- ``Authorization``, ``Cookie`` and ``Set-Cookie`` header values, bearer tokens;
- signed tokens (JWS / JWT, Flask session cookies) wherever they appear, including the
  certificate token after ``#t=`` in a verification address;
- argon2 password hashes;
- the parameters SQLAlchemy prints with a failed statement and, when statements are logged
  (``echo``), the line of bound values after each one (names, hashes, contact data);
- search terms and contact fields in query strings (``?q=…``, ``email=…``);
- verification codes in ``/verify/…`` and ``/v/…`` addresses (the first 4 characters stay).

Line breaks in the values a message is formatted with (a request path, a user name) are
written as ``\\n``, so nobody can forge a log line (log injection). People's names cannot be
recognised in free text, so the application never logs them: it logs ids.

``RedactingFilter`` does the same for a handler configured elsewhere (e.g. a gunicorn
``logconfig_dict``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

_SECRET_KEYS = (
    r"password|passwd|pwd|new_password|current_password|secret|secret_key|client_secret"  # nosec B105  # names of secret fields to redact, not a secret
    r"|token|access_token|refresh_token|id_token|csrf_token|csrf|api_key|apikey"
    r"|remember_token|session|sessionid"
)
_HEADERS = r"authorization|proxy-authorization|cookie|set-cookie|x-csrf-token|x-csrftoken"
_QUERY_KEYS = r"q|search|name|username|email|phone|password|token|code|next"

_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # SQLAlchemy's "[parameters: (...)]" line of a failed statement: every bound value.
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: " + REDACTED + "]"),
    # Header lines and header entries of a dict: the whole value.
    (
        re.compile(rf"(?im)(\b(?:{_HEADERS})\b['\"]?\s*[:=]\s*)(['\"]?)[^\r\n'\"]*"),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # key: "value" and 'key': 'value' (JSON, Python reprs).
    (
        re.compile(rf"(?i)(['\"](?:{_SECRET_KEYS})['\"]\s*:\s*)(['\"])(?:\\.|(?!\2).)*\2"),
        rf"\1\2{REDACTED}\2",
    ),
    # "password: value" in prose-like log lines.
    (
        re.compile(r"(?i)(\b(?:password|passwd|new_password|current_password)\b\s*:\s*)[^\s,;]+"),
        rf"\1{REDACTED}",
    ),
    # key=value (forms, query strings, log lines).
    (re.compile(rf"(?i)(\b(?:{_SECRET_KEYS})\b\s*=\s*)[^\s&;,'\")]+"), rf"\1{REDACTED}"),
    # Query-string fields that carry what people typed about people.
    (re.compile(rf"(?i)([?&](?:{_QUERY_KEYS})=)[^&\s'\"#]*"), rf"\1{REDACTED}"),
    # The certificate token carried after "#t=" in a verification address.
    (re.compile(r"(#t=)[^\s&'\"<>]+"), rf"\1{REDACTED}"),
    # Signed tokens: JWS/JWT and Flask session cookies (plain and compressed).
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
        REDACTED,
    ),
    (re.compile(r"\.eJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"), REDACTED),
    # argon2 password hashes.
    (re.compile(r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?[a-z0-9=,]*\$[A-Za-z0-9+/.$]+"), REDACTED),
    # Certificate verification codes in addresses: enough to tell two apart, no more.
    (re.compile(r"(/(?:verify|v)/)([A-Za-z2-7]{4})[A-Za-z2-7-]{12,}"), r"\1\2…"),
]


#: SQLAlchemy's echo line of bound values: "[generated in 0.0001s] ('name', …)".
_ENGINE_PARAMETERS = re.compile(r"^(\[[^\]\n]*\]) .+", re.DOTALL)


def redact(text: str) -> str:
    """``text`` with every known kind of secret replaced."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _encode(value: Any) -> Any:
    """A string argument with its line breaks written as ``\\n``: no forged log lines."""
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        return value.replace("\r", "\\r").replace("\n", "\\n")
    return value


def _encoded(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_encode(a) for a in args)
    if isinstance(args, dict):
        return {k: _encode(v) for k, v in args.items()}
    return args


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message (arguments merged in) and traceback text."""
    if getattr(record, "_lms_redacted", False):
        return record
    record.args = _encoded(record.args)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler
        return record
    redacted = redact(message)
    if record.name.startswith("sqlalchemy.engine"):
        # Statement logging (echo): the line after each statement holds its bound values.
        redacted = _ENGINE_PARAMETERS.sub(rf"\1 {REDACTED}", redacted)
    if redacted != message:
        record.msg, record.args = redacted, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._lms_redacted = True
    return record


class RedactingFilter(logging.Filter):
    """A handler filter doing what ``install()`` does for every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed: Callable[..., logging.LogRecord] | None = None


def install() -> None:
    """Redact every log record this process makes from now on (idempotent)."""
    global _installed
    current = logging.getLogRecordFactory()
    if _installed is not None and current is _installed:
        return
    previous = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = factory
