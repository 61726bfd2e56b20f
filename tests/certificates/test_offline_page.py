"""The offline check's page and service worker, as served (the browser test runs them).

The page must carry everything a phone needs to check a certificate without the server —
the issuer URL, every key ever used (retired ones too) and the status lists — and no inline
executable script, so that a strict Content-Security-Policy can be added.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

import certificates.views_offline  # noqa: F401  (registers the routes before any app exists)
from certificates.credentials import (
    CredentialError,
    check_certificate_claims,
    load_public_multikey,
    verify_compact,
)
from certificates.keys import create_key, published_keys
from lms.extensions import db
from tests.certificates.helpers import completed_cohort, issue

PUBLIC_URL = "https://lms.example.kg"
#: Every verdict and message the script shows; the template must translate each one.
MESSAGES = {
    f"{verdict}{suffix}"
    for verdict in (
        "valid",
        "revoked",
        "invalid",
        "unknown-key",
        "unknown-status",
        "not-token",
        "unsupported",
    )
    for suffix in ("", "-title")
} | {"saved", "saved-none"}
MAX_SCRIPT_BYTES = 15_000


class Page(HTMLParser):
    """The scripts of a page (attributes and inline text) and its message templates."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.messages: set[str] = set()
        self.noscript_links: list[str] = []
        self.hidden_ids: set[str] = set()
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []
        self._in_noscript = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._script, self._text = found, []
        elif tag == "noscript":
            self._in_noscript = True
        elif tag == "a" and self._in_noscript:
            self.noscript_links.append(found.get("href") or "")
        if found.get("data-msg"):
            self.messages.add(str(found["data-msg"]))
        if "hidden" in found and found.get("id"):
            self.hidden_ids.add(str(found["id"]))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None
        elif tag == "noscript":
            self._in_noscript = False

    def json_block(self) -> dict[str, Any]:
        (block,) = [text for attrs, text in self.scripts if attrs.get("id") == "lms-issuer"]
        return json.loads(block)

    def inline_code(self) -> list[str]:
        """Scripts a browser would run from the page's own text (a CSP would block them)."""
        return [
            text
            for attrs, text in self.scripts
            if not attrs.get("src") and attrs.get("type") != "application/json"
        ]


@pytest.fixture
def public_app(make_app: Any) -> Any:
    """The app with a public address, as certificates are signed with it."""
    application = make_app({"PUBLIC_URL": PUBLIC_URL})
    with application.app_context():
        yield application


def _page(app: Flask, url: str = "/verify/offline") -> Page:
    response = app.test_client().get(url)
    assert response.status_code == 200, response.status_code
    return Page(response.get_data(as_text=True))


def test_the_page_needs_no_log_in_and_embeds_every_key_ever_used(public_app):
    retired = create_key(actor_id=None)
    active = create_key(actor_id=None)
    db.session.commit()

    cfg = _page(public_app).json_block()

    assert cfg["issuer"] == f"{PUBLIC_URL}/certificates/issuer"
    assert cfg["base"] == PUBLIC_URL
    assert cfg["profile"] == "/certificates/issuer"
    assert cfg["keys"] == [
        {"id": key.key_id, "multikey": key.public_multikey} for key in published_keys()
    ]
    assert [key["id"] for key in cfg["keys"]] == [retired.key_id, active.key_id]
    assert cfg["keys"][0]["multikey"] == retired.public_multikey
    assert cfg["lists"] == []


def test_the_page_alone_is_enough_to_check_a_certificate_and_its_status(public_app):
    """What the script does, done with the page's JSON: the token verifies with the embedded
    keys, and the status list it names is among the page's lists and verifies too."""
    cohort, _learners, trainer = completed_cohort(["Айгүл Токтосунова"])
    (certificate,) = issue(cohort, trainer)
    client = public_app.test_client()

    cfg = _page(public_app).json_block()
    keys = {key["id"]: load_public_multikey(key["multikey"]) for key in cfg["keys"]}
    claims = check_certificate_claims(verify_compact(certificate.token, keys.get))
    assert claims["n"] == "Айгүл Токтосунова"
    assert claims["iss"] == cfg["issuer"]

    (listed,) = [entry for entry in cfg["lists"] if entry["sl"] == claims["sl"]]
    token = client.get(listed["token"]).get_data(as_text=True)
    status = verify_compact(token, keys.get)
    assert status["sl"] == claims["sl"]
    assert status["iss"] == cfg["issuer"]

    with pytest.raises(CredentialError):
        verify_compact(certificate.token, {}.get)  # no key: no verdict


def test_no_page_has_inline_code_and_the_verify_pages_register_the_worker(public_app):
    cohort, _learners, trainer = completed_cohort(["Бакыт Осмонов"])
    (certificate,) = issue(cohort, trainer)
    urls = [
        "/verify/offline",
        "/verify/",
        f"/verify/{certificate.verification_id}",
    ]
    for url in urls:
        page = _page(public_app, url)
        assert page.inline_code() == [], url
        registering = [
            attrs for attrs, _ in page.scripts if "register-sw.js" in str(attrs.get("src"))
        ]
        assert len(registering) == 1, url
        assert "defer" in registering[0], url
        assert registering[0]["data-sw"] == "/verify/sw.js", url
    json_blocks = [
        attrs for attrs, _ in _page(public_app).scripts if attrs.get("type") == "application/json"
    ]
    assert [attrs.get("id") for attrs in json_blocks] == ["lms-issuer"]

    unknown = public_app.test_client().get("/verify/" + "a" * 32)
    assert unknown.status_code == 404
    page = Page(unknown.get_data(as_text=True))
    assert page.inline_code() == []
    assert any("register-sw.js" in str(attrs.get("src")) for attrs, _ in page.scripts)


def test_the_service_worker_is_javascript_served_from_verify(public_app):
    response = public_app.test_client().get("/verify/sw.js")

    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    # Its default scope is the folder it is served from: /verify/, which holds /verify/<code>.
    assert "Service-Worker-Allowed" not in response.headers
    body = response.get_data(as_text=True)
    assert 'addEventListener("fetch"' in body
    assert 'addEventListener("install"' in body


def test_the_scripts_are_served_small_and_nothing_else_is(public_app):
    client = public_app.test_client()
    sources = [str(attrs["src"]) for attrs, _ in _page(public_app).scripts if attrs.get("src")]
    assert sources == ["/verify/static/register-sw.js", "/verify/static/verify-offline.js"]
    total = 0
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, source
        assert "javascript" in response.mimetype, source
        assert response.headers["Cache-Control"] == "no-cache"
        total += len(response.data)
    assert total < MAX_SCRIPT_BYTES
    for missing in ("/verify/static/nope.js", "/verify/static/../views_offline.py"):
        assert client.get(missing).status_code == 404, missing


def test_without_javascript_the_page_explains_and_links_to_the_online_check(public_app):
    page = _page(public_app)

    assert "/verify/" in page.noscript_links
    assert {"lms-offline-form", "lms-saved", "lms-verdict", "lms-facts"} <= page.hidden_ids
    assert page.messages == MESSAGES


def test_the_page_is_cached_only_after_revalidation(public_app):
    """The worker keeps a copy; the browser's HTTP cache must not hide new keys from it."""
    response = public_app.test_client().get("/verify/offline")
    assert response.headers["Cache-Control"] == "no-cache"
