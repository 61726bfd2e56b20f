"""Security headers on every response, and what browsers may cache.

``init_app`` (called by ``create_app``) adds to every response:

- ``Content-Security-Policy``: scripts only from this site (no inline script, no ``eval``),
  no plugins, no ``<base>``, no framing, forms posting only here; inline ``style``
  attributes stay allowed (the templates use a few);
- ``Strict-Transport-Security`` in production (``ENV=production``);
- ``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options``,
  ``Permissions-Policy`` and ``Cross-Origin-Opener-Policy``;
- ``Cache-Control: no-store`` on every response to a logged-in user (pages with learners'
  data, their downloads), on every error page, and on dynamic pages that set no caching of
  their own. Static files keep their caching; so do responses a view declares ``public``
  (certificate status lists, the issuer profile) and, for visitors, the public verification
  pages' own ``no-cache``.

A view may set its own ``Content-Security-Policy`` (the header is only added when absent).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user

from lms import pagecache

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
#: One year, subdomains included (production only: a laptop serves plain HTTP).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
#: Features no page uses.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def add_security_headers(response: Any) -> Any:
    headers = response.headers
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if _is_static():
        return response
    if response.status_code >= 400 or pagecache.served_kept_page():
        _no_store(response)  # a kept page: private, and its person need not be loaded
    elif current_user.is_authenticated:
        if not response.cache_control.public:
            _no_store(response)
    elif "Cache-Control" not in headers:
        _no_store(response)
    return response


def _no_store(response: Any) -> None:
    """Nothing of this response is kept by the browser or any cache on the way."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Expires", None)
