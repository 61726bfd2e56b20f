"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def is_local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site that no browser reads as another host.

    Refused: absolute URLs and other schemes (``https://…``, ``javascript:…``),
    protocol-relative ones (``//host``, ``///host``), backslashes (``/\\host``: browsers read
    them as slashes) and control characters (``/<tab>/host``: browsers drop them).
    """
    if not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "lms.home") -> str:
    """Follow ``next`` only to a path on this site, never to another host."""
    if target and is_local_path(target):
        return target
    return url_for(default_endpoint)
