"""Checking a certificate on a phone without internet: the offline page and its service worker.

The QR code on a certificate holds ``<verification URL>#t=<signed token>``. Online, the
phone opens the verification page and the server answers. Offline, the service worker
(scope ``/verify/``) answers any ``/verify/…`` address with the cached offline page, whose
script reads the token from the fragment (never sent to a server) and checks it with the
issuer's public keys and the signed status list saved on the phone.

The page embeds, as JSON, everything the script must trust: the issuer URL, every public key
ever used and the status lists there are. All JavaScript lives in static files (a strict
Content-Security-Policy without inline script is planned). The routes sit on the public
blueprint because the service worker's default scope is the folder it is served from, and
it must cover ``/verify/<code>``; its scripts are the public blueprint's static files,
served from ``/verify/static/`` for the same reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from sqlalchemy import select

from certificates.addresses import issuer_url, public_url, status_list_url
from certificates.issuer import issuer_name
from certificates.keys import published_keys
from certificates.models import StatusList
from certificates.views_public import public_bp, rate
from lms.extensions import db, limiter

#: ``certificates/static/certificates``: the offline verifier's scripts.
STATIC_FOLDER = Path(__file__).resolve().parent / "static" / "certificates"
SERVICE_WORKER = "sw.js"


def offline_config() -> dict[str, Any]:
    """What the offline script trusts, embedded in the page (and cached with it).

    ``base`` is the public address the certificates were signed with; the script accepts a
    status list only under it. Each list names its token path on *this* site, so a phone
    that opened the site under another host name still caches the right address. Keys are
    embedded (not only fetched from ``profile``, the issuer profile the script refreshes
    them from) so that the first visit alone is enough to check offline.
    """
    list_ids = db.session.scalars(select(StatusList.id).order_by(StatusList.id))
    locale = str(get_locale() or "en")
    return {
        "issuer": issuer_url(),
        "profile": url_for("certificates.issuer"),
        "issuer_name": issuer_name(locale),
        "base": public_url(),
        "root": request.script_root + "/",
        "keys": [{"id": key.key_id, "multikey": key.public_multikey} for key in published_keys()],
        "lists": [
            {
                "sl": status_list_url(list_id),
                "token": url_for("certificates.status_token", list_id=list_id),
            }
            for list_id in list_ids
        ],
    }


@public_bp.get("/verify/offline")
@limiter.limit(rate)
def offline() -> Response:
    """The offline check: explained for everyone, performed by JavaScript.

    ``no-cache`` so the service worker's copy (and the keys in it) is refreshed on every
    online visit rather than served stale by the HTTP cache.
    """
    response = Response(render_template("certificates/verify_offline.html", cfg=offline_config()))
    response.headers["Cache-Control"] = "no-cache"
    return response


@public_bp.get("/verify/sw.js")
def service_worker() -> Response:
    """The service worker, served from ``/verify/`` so its default scope is ``/verify/``.

    ``no-cache``: browsers compare this file on each update check, and a stale copy would
    keep an old worker (and its caching rules) alive on phones.
    """
    response = send_from_directory(STATIC_FOLDER, SERVICE_WORKER, max_age=0)
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response
