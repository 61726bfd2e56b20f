"""A small cache for results that are costly to compute and may be a few minutes old.

Report figures over millions of records take seconds to aggregate; officers and donors look
at the same filters again and again. Values are JSON text under string keys, kept for a
number of seconds:

- in Redis when ``LMS_CACHE_URL`` is set (``redis://host:6379/2``), shared by every web
  worker and machine;
- otherwise in this process, in a bounded least-recently-used map (the embedded default).

Nothing here is authoritative: a missing or expired entry is simply computed again, and a
cache that cannot be reached is treated as empty (the page is slower, never broken).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

#: Entries the in-process cache keeps at most (each a few kilobytes of JSON).
MEMORY_ENTRIES = 256
_EXTENSION = "lms_cache"


class MemoryCache:
    """Least recently used entries with an expiry time, safe across threads."""

    def __init__(self, entries: int = MEMORY_ENTRIES) -> None:
        self._entries = entries
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return None
            expires, value = found
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self._entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    """The same interface on Redis, for several workers and machines."""

    def __init__(self, url: str) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5)

    def get(self, key: str) -> str | None:
        try:
            value = self._client.get(key)
        except Exception:  # an unreachable cache is an empty one
            log.warning("the cache could not be read; computing instead")
            return None
        return None if value is None else value.decode("utf-8")

    def set(self, key: str, value: str, seconds: int) -> None:
        try:
            self._client.setex(key, seconds, value.encode("utf-8"))
        except Exception:
            log.warning("the cache could not be written")

    def clear(self) -> None:
        """Drop this application's entries (only its own prefix, never the whole database)."""
        try:
            for key in self._client.scan_iter("lms:*"):
                self._client.delete(key)
        except Exception:
            log.warning("the cache could not be cleared")


def init_app(app: Flask) -> None:
    url = app.config.get("CACHE_URL")
    app.extensions[_EXTENSION] = RedisCache(url) if url else MemoryCache()


def cache() -> MemoryCache | RedisCache:
    return current_app.extensions[_EXTENSION]


def get(key: str) -> str | None:
    return cache().get(f"lms:{key}")


def put(key: str, value: str, seconds: int) -> None:
    if seconds > 0:
        cache().set(f"lms:{key}", value, seconds)
