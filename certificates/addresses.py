"""The public addresses a certificate names: its verification page, the issuer, status lists.

They are printed on paper and signed into credentials, so they must be the address people
will use for years: production refuses to issue without ``LMS_PUBLIC_URL``. On a laptop the
address the page was opened with is used (or the development server's).
"""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l

from lms.errors import Invalid

DEVELOPMENT_URL = "http://127.0.0.1:5000"

MISSING_PUBLIC_URL = _l(
    "Certificates cannot be issued until the administrator sets LMS_PUBLIC_URL, the address "
    "at which this site is reached from the internet (it is printed on every certificate)."
)


def public_url(*, strict: bool = False) -> str:
    """The site's public base URL without a trailing slash.

    ``strict`` (used when issuing) refuses to guess in production.
    """
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    if strict and current_app.config.get("PRODUCTION"):
        raise Invalid(MISSING_PUBLIC_URL)
    if has_request_context():
        return request.url_root.rstrip("/")
    return DEVELOPMENT_URL


def issuer_url(base: str | None = None) -> str:
    return f"{base or public_url()}/certificates/issuer"


def key_url(key_id: str, base: str | None = None) -> str:
    """The verification method id of a signing key: the issuer profile plus a fragment."""
    return f"{issuer_url(base)}#{key_id}"


def status_list_url(list_id: int, base: str | None = None) -> str:
    return f"{base or public_url()}/certificates/status/{list_id}"


def verification_url(verification_id: str, base: str | None = None) -> str:
    return f"{base or public_url()}/verify/{verification_id}"


def short_url(verification_id: str, base: str | None = None) -> str:
    """The address printed for typing: no scheme, the id in groups of four."""
    host = (base or public_url()).split("://", 1)[-1]
    grouped = "-".join(verification_id[i : i + 4] for i in range(0, len(verification_id), 4))
    return f"{host}/v/{grouped}"
