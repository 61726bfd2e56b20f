"""Public pages anyone may open without logging in: checking a certificate by its code, the
issuer profile with every signing key, and the signed status lists.

They live on a blueprint of their own because they sit outside ``/certificates`` (the
address printed on paper is short: ``/v/<code>``). Every one is rate-limited.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from certificates import verification
from certificates.forms import VerifyForm
from certificates.issuer import issuer_profile
from certificates.models import StatusList
from certificates.views import bp
from lms.errors import NotFound
from lms.extensions import db, limiter
from lms.pagecache import cached_page

public_bp = Blueprint(
    "certificates_public",
    __name__,
    template_folder="templates",
    # The offline verifier's scripts, under /verify/ like the service worker that caches them.
    static_folder="static/certificates",
    static_url_path="/verify/static",
)


def rate() -> str:
    return str(current_app.config.get("VERIFY_RATE_LIMIT") or "60 per minute")


def _json(data: Any, *, max_age: int = 0) -> Response:
    response = Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        mimetype="application/json",
    )
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers run anywhere
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


@public_bp.get("/verify/")
@limiter.limit(rate)
def verify_form() -> Any:
    """Type or paste the code printed under the QR code."""
    form = VerifyForm(request.args)
    if request.args and form.validate():
        code = verification.normalise_code(form.code.data)
        if code is not None:
            return redirect(url_for("certificates_public.verify", code=code))
        form.code.errors = [
            *form.code.errors,
            _not_a_code(),
        ]
    status = 400 if request.args and form.errors else 200
    return render_template("certificates/verify_form.html", form=form), status


def _not_a_code() -> str:
    from flask_babel import gettext as _

    return _(
        "This is not a verification code. It has 32 letters and digits, as printed under "
        "the QR code."
    )


@public_bp.get("/v/<code>")
@limiter.limit(rate)
def short(code: str) -> Any:
    """The short address printed on paper; grouped or not, it leads to the same page."""
    normalised = verification.normalise_code(code)
    if normalised is None:
        raise NotFound()
    return redirect(url_for("certificates_public.verify", code=normalised), code=301)


@public_bp.get("/verify/<code>")
@limiter.limit(rate)
@cached_page
def verify(code: str) -> Any:
    """Name as printed, achievement, issuer, date and status — and nothing more."""
    certificate = verification.find(code)
    if certificate is None:
        return render_template("certificates/verify_unknown.html", code=code), 404
    if certificate.verification_id != code:
        return redirect(url_for("certificates_public.verify", code=certificate.verification_id))
    view = verification.public_view(certificate)
    response = Response(render_template("certificates/verify.html", view=view))
    response.headers["Cache-Control"] = "no-cache"
    return response


@public_bp.get("/verify/<code>.json")
@limiter.limit(rate)
def verify_json(code: str) -> Any:
    """The same facts as the page, and the signed credential, for programs."""
    certificate = verification.find(code)
    if certificate is None:
        raise NotFound()
    return _json(verification.public_view(certificate).to_json())


@bp.get("/issuer")
@limiter.limit(rate)
def issuer() -> Any:
    """The issuer profile: every key that ever signed a certificate (retired ones too)."""
    return _json(issuer_profile(), max_age=300)


@bp.get("/status/<int:list_id>")
@limiter.limit(rate)
def status_list(list_id: int) -> Any:
    """A signed BitstringStatusListCredential: the bit of a revoked or replaced certificate
    is set."""
    found = db.session.get(StatusList, list_id)
    if found is None:
        raise NotFound()
    return _json(json.loads(found.credential), max_age=60)


@bp.get("/status/<int:list_id>/token")
@limiter.limit(rate)
def status_token(list_id: int) -> Any:
    """The same list as a compact signed token, which the offline verifier caches."""
    token = db.session.scalar(select(StatusList.token).where(StatusList.id == list_id))
    if token is None:
        raise NotFound()
    response = Response(token, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
