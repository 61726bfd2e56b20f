"""A phone checks a certificate's QR code without internet (real Chromium, real server).

The app is served by werkzeug in a thread. The browser opens the offline page once online
(the service worker installs and caches it, and the page saves the signed status list),
then the network is cut *and* the server stopped, and the QR address is opened: the cached
page checks the token from the ``#t=`` fragment on its own. A changed token must fail, and
after a revocation (the list refreshed once online) the same QR code must show "revoked".

Screenshots of each state go to ``test-artifacts/e2e/offline-verification/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import certificates.views_offline  # noqa: F401  (registers the routes before any app exists)
from certificates import issuance
from certificates.credentials import generate_private_key, sign_compact, verify_compact
from certificates.keys import active_key, public_keys_by_id
from certificates.models import Certificate
from certificates.rendering import qr_payload
from lms.accounts.models import User
from lms.extensions import db
from tests.certificates.helpers import completed_cohort, issue
from tests.e2e.harness import ARTIFACTS as ALL_ARTIFACTS
from tests.e2e.harness import LiveServer

pytestmark = pytest.mark.slow

ARTIFACTS = ALL_ARTIFACTS / "offline-verification"
TIMEOUT_MS = 8_000

NAME = "Айгүл Токтосунова"


@dataclass
class Site:
    server: LiveServer
    app: Any
    certificate_id: int
    actor_id: int
    qr: str
    #: Pasted text → the verdict the page must give, and the screenshot's name.
    pasted: list[tuple[str, str, str]]


@pytest.fixture
def site(make_app: Any) -> Iterator[Site]:
    """The running app with one issued certificate."""
    server = LiveServer()
    server.start()
    app = make_app({"PUBLIC_URL": server.url, "RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    server.app = app
    with app.app_context():
        cohort, _learners, trainer = completed_cohort([NAME])
        (certificate,) = issue(cohort, trainer)
        qr = qr_payload(certificate)
        claims = verify_compact(certificate.token, public_keys_by_id().get)
        key = active_key()
        unlisted = {**claims, "sl": claims["sl"].rsplit("/", 1)[0] + "/99"}
        pasted = [
            (_tampered(qr), "invalid", "tampered"),
            (sign_compact(claims, generate_private_key(), kid=key.key_id), "invalid", "forged"),
            (sign_compact(claims, generate_private_key(), kid="key-9"), "unknown-key", "other-key"),
            (sign_compact(unlisted, key.private_key, kid=key.key_id), "unknown-status", "no-list"),
            ("https://example.org/not-a-certificate", "not-token", "not-a-token"),
        ]
        made = Site(server, app, certificate.id, trainer.id, qr, pasted)
        db.session.remove()
    try:
        yield made
    finally:
        server.stop()


def _tampered(qr: str) -> str:
    """The QR text with one character of the token's payload changed (still base64url)."""
    address, token = qr.split("#t=")
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    changed = "B" if payload[middle] != "B" else "C"
    return f"{address}#t={header}.{payload[:middle]}{changed}{payload[middle + 1 :]}.{signature}"


def _verdict(page: Any, expected: str, shot: str) -> None:
    verdict = page.wait_for_selector(f'#lms-verdict[data-verdict="{expected}"]', timeout=TIMEOUT_MS)
    assert verdict is not None and verdict.is_visible()
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)


def _open_online(page: Any, site: Site) -> None:
    """Open the offline page online and wait until what it saves is saved."""
    page.goto(f"{site.server.url}/verify/offline")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)").endswith(
        "/verify/sw.js"
    )
    page.wait_for_selector('#lms-saved[data-state="ready"]', timeout=TIMEOUT_MS)


def test_a_phone_checks_a_certificate_without_internet(site: Site, chromium: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
    context = chromium.new_context(locale="en-US", service_workers="allow", **phone)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # Online once: the worker installs, the page saves the signed status list.
        _open_online(page, site)
        assert "Saved on this device" in page.inner_text("#lms-saved")
        page.screenshot(path=str(ARTIFACTS / "1-online-ready.png"), full_page=True)

        # No network and no server: the QR address is answered by the cached page.
        context.set_offline(True)
        site.server.stop()
        page.goto(site.qr)
        _verdict(page, "valid", "2-offline-valid.png")
        assert page.inner_text('[data-claim="n"]') == NAME
        assert page.is_visible("#lms-facts")

        # Pasted: the QR text with one character changed, tokens signed by other keys, a
        # genuine token whose status list this phone never saw, and something else.
        for text, verdict, name in site.pasted:
            page.eval_on_selector("#lms-verdict", "(node) => delete node.dataset.verdict")
            page.fill("#lms-token", text)
            page.click("#lms-offline-form button[type=submit]")
            _verdict(page, verdict, f"3-offline-{name}.png")
            # Claims are shown only when their signature is verified.
            assert page.is_visible("#lms-facts") == (verdict == "unknown-status"), name

        # Revoked while the phone is away; it refreshes its list once online.
        site.server.start()
        context.set_offline(False)
        with site.app.app_context():
            issuance.revoke(
                db.session.get(Certificate, site.certificate_id),
                reason="Issued by mistake",
                actor=db.session.get(User, site.actor_id),
            )
            db.session.commit()
            db.session.remove()
        _open_online(page, site)

        context.set_offline(True)
        site.server.stop()
        page.goto(site.qr)
        _verdict(page, "revoked", "4-offline-revoked.png")
        assert page.inner_text('[data-claim="n"]') == NAME
    finally:
        context.close()
