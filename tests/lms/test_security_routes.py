"""Every route, with CSRF protection on and the demo data loaded (ASVS 4.2.2, 13.1, 14.4, 8.2.1).

- Every route that accepts POST, PUT, PATCH or DELETE refuses a request without a CSRF token
  (400 and the CSRF message) and changes nothing.
- No GET changes state: every GET route, with arguments taken from the demo data, leaves
  every table's row count and the audit log as they were.
- Every response carries the security headers, and every response to a logged-in user is
  ``Cache-Control: no-store`` (except static files and responses declared public).

One app and one demo database serve all three checks (building them is the slow part).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import text
from werkzeug.routing import Rule

from lms.config import LANGUAGES
from lms.demo import DEMO_PASSWORD
from lms.errors import CSRF_MESSAGE
from lms.extensions import db
from lms.security import CONTENT_SECURITY_POLICY
from tests.lms.test_security_templates import inline_script_problems

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Responses that keep their own caching even for a logged-in user.
PUBLIC_CACHE_ENDPOINTS = {
    "certificates.issuer",
    "certificates.status_list",
    "certificates.status_token",
}

#: Argument name → the query giving an example value from the demo data.
INT_EXAMPLES = {
    "user_id": "SELECT id FROM lms_user WHERE username = 'teacher'",
    "grant_id": "SELECT g.id FROM lms_role_grant g JOIN lms_user u ON u.id = g.user_id "
    "WHERE u.username = 'teacher'",
    "cohort_id": "SELECT min(cohort_id) FROM lms_membership",
    "membership_id": "SELECT min(id) FROM lms_membership WHERE cohort_id = "
    "(SELECT min(cohort_id) FROM lms_membership)",
    "madrasa_id": "SELECT min(id) FROM lms_madrasa",
    "version_id": "SELECT min(id) FROM curriculum_module_version",
    "review_id": "SELECT min(id) FROM curriculum_review",
    "comment_id": "SELECT min(id) FROM curriculum_review_comment",
    "feedback_id": "SELECT min(id) FROM curriculum_feedback",
    "term_id": "SELECT min(id) FROM curriculum_glossary_term",
    "number": "SELECT min(number) FROM curriculum_edition",
    "certificate_id": "SELECT min(id) FROM certificates_certificate",
    "list_id": "SELECT min(id) FROM certificates_status_list",
    "session_id": "SELECT min(id) FROM lessons_session",
    "practice_id": "SELECT min(id) FROM lessons_practice_lesson",
    "visit_id": "SELECT min(id) FROM lessons_monitoring_visit",
    "attempt_id": "SELECT min(id) FROM quizzes_attempt",
    "quiz_id": "SELECT min(id) FROM quizzes_quiz",
    "slot_id": "SELECT min(id) FROM quizzes_quiz_slot",
    "bank_id": "SELECT min(id) FROM quizzes_question_bank",
    "question_id": "SELECT min(id) FROM quizzes_question",
    "answer_id": "SELECT min(id) FROM quizzes_answer",
}
TEXT_EXAMPLES = {
    "slug": "SELECT m.slug FROM curriculum_edition e JOIN curriculum_manual m "
    "ON m.id = e.manual_id ORDER BY e.id LIMIT 1",
    "language": "SELECT language FROM curriculum_edition ORDER BY id LIMIT 1",
    "module_slug": "SELECT mo.slug FROM curriculum_module mo JOIN curriculum_edition e "
    "ON e.manual_id = mo.manual_id ORDER BY e.id, mo.position LIMIT 1",
    "code": "SELECT verification_id FROM certificates_certificate ORDER BY id LIMIT 1",
    "job_id": "SELECT id FROM lms_job ORDER BY created_at LIMIT 1",
    "name": "SELECT name FROM lms_job_file ORDER BY id LIMIT 1",
}


def _scalar(sql: str) -> Any:
    try:
        with db.session.begin_nested():
            return db.session.execute(text(sql)).scalar()
    except Exception:  # a column another plugin names differently: fall back to a dummy
        return None


@pytest.fixture
def site(make_app: Any) -> Any:
    """An app with CSRF protection on, on a database with the demo data."""
    app = make_app({"WTF_CSRF_ENABLED": True})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        # English pages (the sweep is about state and headers, not translations).
        db.session.execute(text("UPDATE lms_user SET preferred_language = 'en'"))
        db.session.commit()
        tables = sorted(db.metadata.tables)
        examples = {name: _scalar(sql) for name, sql in {**INT_EXAMPLES, **TEXT_EXAMPLES}.items()}
        db.session.remove()
    with app.test_request_context():
        csrf_messages = set()
        for language in LANGUAGES:
            with force_locale(language):
                csrf_messages.add(str(CSRF_MESSAGE))
    return type(
        "Site",
        (),
        {"app": app, "tables": tables, "examples": examples, "csrf_messages": csrf_messages},
    )


def csrf_token(client: FlaskClient, path: str = "/account/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def log_in(app: Flask, username: str = "admin") -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/account/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


#: Logging that a request was refused is not a change of state (``lms.audit.denied``).
NOT_STATE = {"lms_audit_entry": "WHERE action <> 'access.denied'"}


def counts(app: Flask, tables: list[str]) -> tuple[int, ...]:
    """Every table's row count, in one statement."""
    select = ", ".join(
        f'(SELECT count(*) FROM "{name}" {NOT_STATE.get(name, "")})' for name in tables
    )
    with app.app_context():
        row = tuple(db.session.execute(text(f"SELECT {select}")).one())
        db.session.remove()
    return row


def changed(before: tuple[int, ...], after: tuple[int, ...], tables: list[str]) -> dict[str, Any]:
    return {t: (b, a) for t, b, a in zip(tables, before, after, strict=True) if b != a}


def example_url(rule: Rule, examples: dict[str, Any]) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        value = examples.get(name)
        if converter == "IntegerConverter":
            values[name] = value if isinstance(value, int) else 1
        else:
            values[name] = value if isinstance(value, str) and value else "x"
    return rule.build(values, append_unknown=False)[1]


def routes(app: Flask, methods: set[str]) -> list[tuple[Rule, str]]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) & methods):
            found.append((rule, method))
    return found


def check_csrf_on_every_state_changing_route(site: Any) -> None:
    client = log_in(site.app)
    checked = []
    before = counts(site.app, site.tables)
    for rule, method in routes(site.app, STATE_CHANGING):
        url = example_url(rule, site.examples)
        response = client.open(url, method=method, data={"name": "x", "reason": "x"})
        assert response.status_code == 400, (method, url, response.status_code)
        if response.is_json:  # the JSON API answers in JSON
            body = response.json["error"]["message"]
        else:
            body = response.get_data(as_text=True)
        assert any(message in body for message in site.csrf_messages), (method, url, body[:300])
        checked.append(f"{method} {rule.rule}")
    assert changed(before, counts(site.app, site.tables), site.tables) == {}
    assert client.get("/account/").status_code == 200  # still logged in: logout was refused too
    assert len(checked) > 60, checked


def _check_headers(response: Any, url: str) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
    assert headers["X-Content-Type-Options"] == "nosniff", url
    assert headers["Referrer-Policy"] == "same-origin", url
    assert headers["X-Frame-Options"] == "DENY", url
    assert "camera=()" in headers["Permissions-Policy"], url
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin", url
    assert "Strict-Transport-Security" not in headers, url  # development: plain HTTP


def check_every_get_route(site: Any) -> None:
    """Every GET route as an administrator: nothing changes, the headers are there, and
    nothing a logged-in user receives may be stored (``no-store``)."""
    client = log_in(site.app)
    before = counts(site.app, site.tables)
    seen = 0
    for rule, _method in routes(site.app, {"GET"}):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        url = example_url(rule, site.examples)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert changed(before, counts(site.app, site.tables), site.tables) == {}, url
        _check_headers(response, url)
        if response.mimetype == "text/html":  # what the templates made, as served
            assert inline_script_problems(response.get_data(as_text=True)) == [], url
        if rule.endpoint in PUBLIC_CACHE_ENDPOINTS and response.status_code == 200:
            assert "public" in response.headers["Cache-Control"], url
        else:
            assert response.headers["Cache-Control"] == "no-store", (url, response.status_code)
        seen += 1
    assert seen > 80
    assert client.get("/account/").status_code == 200  # no GET logged the admin out


def check_visitors_and_static_files(site: Any) -> None:
    client = log_in(site.app)
    visitor = site.app.test_client()
    # Dynamic pages and error pages are never stored.
    for url in ("/", "/account/login", "/verify/", "/no-such-page"):
        response = visitor.get(url)
        _check_headers(response, url)
        assert response.headers["Cache-Control"] == "no-store", url
    # The public verification page keeps its own caching for visitors.
    code = site.examples["code"]
    assert code
    response = visitor.get(f"/verify/{code}")
    assert response.status_code == 200
    _check_headers(response, "/verify/<code>")
    assert response.headers["Cache-Control"] == "no-cache"
    # Static files keep their caching for everyone.
    for who in (client, visitor):
        response = who.get("/static/lms.css")
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        _check_headers(response, "/static/lms.css")


def test_every_route_with_csrf_protection_on_and_the_demo_data(site):
    """One test, so the demo database is built once (xdist would split separate tests)."""
    check_csrf_on_every_state_changing_route(site)
    check_every_get_route(site)
    check_visitors_and_static_files(site)
