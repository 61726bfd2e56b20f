"""The WSGI entry point for production servers: ``gunicorn lms.wsgi:app``.

The app is built once, when gunicorn imports this module (in the master process, with
``preload_app``, so every worker shares the loaded code and a configuration mistake stops
the server before it forks instead of in each worker).

Behind nginx every request reaches the app from 127.0.0.1. ``LMS_PROXY_FIX`` (the number of
trusted proxies in front of the app, 0 by default) lets werkzeug's ``ProxyFix`` take the
client's address and the ``https`` scheme from the ``X-Forwarded-*`` headers those proxies
set, so rate limits count per client rather than one bucket for everyone, the audit log and
``request.remote_addr`` name the client, and generated URLs say ``https``. It must equal the
number of proxies exactly: one more would let a client forge its address in the header.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import create_app
from lms.config import ConfigError
from lms.extensions import db


def proxy_count(value: Any) -> int:
    """The number of trusted proxies from the setting (the environment gives a string)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):  # bool is an int; True would silently mean one proxy
        raise ConfigError("LMS_PROXY_FIX must be the number of proxies in front of the app.")
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"LMS_PROXY_FIX must be the number of proxies in front of the app, not {value!r}."
        ) from None
    if count < 0:
        raise ConfigError("LMS_PROXY_FIX cannot be negative.")
    return count


def apply_proxy_fix(application: Flask) -> Flask:
    """Trust ``X-Forwarded-For/-Proto/-Host/-Port`` from ``PROXY_FIX`` proxies, if any.

    ``X-Forwarded-Prefix`` is not trusted: the site is served at the root of its host, and
    nginx would pass a prefix a client sent straight through.
    """
    count = proxy_count(application.config.get("PROXY_FIX", 0))
    application.config["PROXY_FIX"] = count
    if count:
        application.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            application.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )
    return application


def reset_after_fork() -> None:
    """Drop database connections inherited from the gunicorn master.

    A pooled connection opened before the fork would be one socket shared by several
    processes, and their queries would interleave. ``close=False`` leaves the parent's
    connections to the parent.
    """
    with app.app_context():
        db.engine.dispose(close=False)


app = apply_proxy_fix(create_app())
application = app  # the name some WSGI servers look for
