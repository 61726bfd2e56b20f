"""Time helpers: the database stores naive UTC, the pages show local time via Flask-Babel."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC without tzinfo, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)
