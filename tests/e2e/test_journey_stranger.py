"""A stranger (an employer, an official) checks a certificate by its printed address, on a
phone, without logging in — in English, Russian and Kyrgyz."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from certificates.models import VALID as STATUS_VALID
from certificates.models import Certificate
from lms.extensions import db
from tests.e2e.harness import LANGUAGES

pytestmark = pytest.mark.slow

#: What the verify page says of a valid certificate, in each language.
VALID = {"en": "Valid certificate", "ru": "Сертификат действителен", "ky": "Сертификат жарактуу"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_stranger_checks_a_certificate_by_its_address(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    with site.app.app_context():
        certificate = db.session.scalars(
            select(Certificate).where(Certificate.status == STATUS_VALID).order_by(Certificate.id)
        ).first()
        assert certificate is not None, "the demo data issues certificates"
        code, serial = certificate.verification_id, certificate.serial
        db.session.remove()
    journey, page = open_journey("stranger", site, language, phone=True)

    page.goto(journey.url(f"/verify/{code}"))
    journey.check(page, "verify")
    assert serial in page.inner_text("main")
    assert VALID[language] in page.inner_text("main")

    # A mistyped address says so, in the reader's language, and is not a server error.
    answer = page.goto(journey.url(f"/verify/{code[:-2]}xx"))
    assert answer is not None and answer.status == 404
    journey.check(page, "not-found")
