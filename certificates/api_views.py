"""The certificates JSON API, under ``/api/v1/certificates`` (described in openapi.py).

A graduate's app lists their certificates and fetches one, with its signed credential and
the links to its PDF and public verification page. The public check of any certificate is
``/verify/<code>.json``, which needs no log-in.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from certificates.access import may_see
from certificates.models import Certificate
from certificates.printed import PrintedCertificate
from lms.errors import NotFound
from lms.extensions import db

api_bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1/certificates")


def certificate_json(certificate: Certificate, *, with_credential: bool = False) -> dict[str, Any]:
    printed = PrintedCertificate.from_json(certificate.printed)
    data: dict[str, Any] = {
        "id": certificate.id,
        "serial": certificate.serial,
        "status": certificate.status,
        "name": certificate.name_as_printed,
        "achievement": printed.text("achievement"),
        "cohort": printed.cohort_name,
        "language": certificate.language,
        "issuedOn": certificate.issued_on.isoformat(),
        "verificationUrl": printed.verification_url,
        "pdfUrl": url_for("certificates.download", certificate_id=certificate.id),
    }
    if with_credential:
        data["credential"] = json.loads(certificate.credential)
    return data


@api_bp.get("")
@login_required
def mine() -> ResponseReturnValue:
    """The logged-in person's certificates, newest first."""
    found = db.session.scalars(
        select(Certificate)
        .where(Certificate.recipient_id == current_user.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    return jsonify({"certificates": [certificate_json(c) for c in found]})


@api_bp.get("/<int:certificate_id>")
@login_required
def one(certificate_id: int) -> ResponseReturnValue:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not may_see(current_user, certificate):
        raise NotFound()
    return jsonify(certificate_json(certificate, with_credential=True))
