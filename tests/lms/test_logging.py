"""No passwords, tokens, session cookies or learners' names in the application's logs.

Logs are captured at DEBUG from every logger, SQL statements included (the most a
deployment could turn on), while people log in and fail, a page fails with a database
error, and a certificate is verified; then the captured text is searched for the secrets.
"""

from __future__ import annotations

import logging

import pytest
from flask import request
from sqlalchemy import insert

from lms.accounts.models import User
from lms.accounts.passwords import hash_password
from lms.log_redaction import REDACTED, RedactingFilter, redact
from tests import factories

PASSWORD = "Tulpar-Secret-9381"
NAME = "Zarina Kylychbekovna"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    return caplog


def _everything(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record as a handler would write it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("login form: username=aida password=hunter2&next=/", "hunter2"),
        ('{"password": "hunter2", "username": "aida"}', "hunter2"),
        ("{'new_password': 'hunter2'}", "hunter2"),
        ("login refused, password: hunter2", "hunter2"),
        ("csrf_token=ImFiYzEyMyI.ZaBcDe.q1w2e3r4t5y6", "ImFiYzEyMyI"),
        ("Authorization: Bearer abcdef123456789", "abcdef123456789"),
        ("headers: {'Cookie': 'session=.eJwlzjE.ZaBcDe.x1y2', 'Host': 'lms'}", "eJwlzjE"),
        ("Set-Cookie: remember_token=7|a1b2c3d4e5; Path=/", "a1b2c3d4e5"),
        ("GET /verify/abcdefghijklmnopqrstuvwxyz234567#t=eyJhbGciOi.eyJzdWIi.c2lnbmF0", "eyJ"),
        ("GET /verify/abcdefghijklmnopqrstuvwxyz234567 200", "ijklmnopqrstuvwxyz"),
        ("GET /v/ABCD-EFGH-IJKL-MNOP-QRST 301", "EFGH-IJKL"),
        ("GET /admin/users?q=Zarina+Kylychbekovna&role=student HTTP/1.1", "Zarina"),
        ("user row: ('aida', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 1)", "c2FsdA"),
        ("[SQL: INSERT INTO lms_user ...]\n[parameters: ('aida', 'Aida A.')]", "Aida A."),
        ("token eyJhbGciOiJFZERTQSJ9.eyJuIjoiQWlkYSJ9.c2lnbmF0dXJl in a QR", "eyJuIjoiQWlkYSJ9"),
    ],
)
def test_known_secrets_are_redacted(raw, secret):
    cleaned = redact(raw)
    assert secret not in cleaned
    assert REDACTED in cleaned or "…" in cleaned


def test_line_breaks_in_values_cannot_forge_a_log_line(app, caplog):
    caplog.set_level(logging.INFO)
    path = "/cohorts/1\n2026-12-07 INFO login.success user=admin"
    logging.getLogger("lms.errors").error("unhandled error on %s %s", "GET", path)
    (record,) = caplog.records
    assert "\n" not in record.getMessage()
    assert record.getMessage().endswith("/cohorts/1\\n2026-12-07 INFO login.success user=admin")


def test_ordinary_text_is_left_alone():
    text = "GET /cohorts/12/sessions 200; 3 certificates issued for cohort 12 by user 5"
    assert redact(text) == text


def test_the_filter_redacts_records_of_handlers_configured_elsewhere():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", ("x",), None)
    record.msg, record.args = "%s %s", ("GET /admin/users?q=Aida", "password=hunter2")
    assert RedactingFilter().filter(record)
    assert "hunter2" not in record.getMessage() and "Aida" not in record.getMessage()


def test_log_in_failures_leave_no_password_in_the_logs(app, client, logs):
    person = factories.user(name=NAME)
    from lms.extensions import db

    db.session.commit()
    logs.clear()
    for _ in range(3):
        factories.login(client, person, PASSWORD)
    factories.login(client, person)  # and a success, which may re-hash the password
    client.post("/account/login", data={"username": PASSWORD, "password": PASSWORD})
    text = _everything(logs)
    assert "SELECT" in text, "SQL statements were logged (the test looks at something)"
    assert PASSWORD not in text
    assert "$argon2" not in text
    assert NAME not in text


def test_a_500_logs_the_error_without_secrets_or_names(app, logs):
    def crash() -> str:
        from lms.extensions import db

        existing = db.session.get(User, person_id)
        # A database error whose message carries the statement's values (name, hash)...
        db.session.execute(
            insert(User).values(
                username=existing.username,  # duplicate: IntegrityError
                name=NAME,
                sex="female",
                password_hash=hash_password(PASSWORD),
                email="zarina@example.org",
            )
        )
        return "unreachable"

    def crash_plain() -> str:
        # ...and an error message a careless library might write.
        raise RuntimeError(
            f"upstream refused password={PASSWORD}; Cookie: {request.headers.get('Cookie')}"
        )

    app.add_url_rule("/test-crash", view_func=crash)
    app.add_url_rule("/test-crash-plain", view_func=crash_plain)
    from lms.extensions import db

    person = factories.user()
    db.session.commit()
    person_id = person.id
    client = app.test_client()
    client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.ZaBcDe.s1gn4tur3")
    logs.clear()
    assert client.get("/test-crash").status_code == 500
    assert client.get("/test-crash-plain").status_code == 500
    text = _everything(logs)
    assert "unhandled error on GET /test-crash" in text
    assert "IntegrityError" in text and "[parameters: [redacted]]" in text
    for secret in (NAME, PASSWORD, "zarina@example.org", "$argon2", "s1gn4tur3"):
        assert secret not in text, secret


def test_certificate_verification_leaves_no_token_or_code_in_the_logs(app, logs):
    from tests.certificates import helpers

    admin = factories.user("admin")
    cohort, _people, _trainer = helpers.completed_cohort([NAME])
    (certificate,) = helpers.issue(cohort, admin)
    code, token = certificate.verification_id, certificate.token
    qr = f"{certificate.printed['verification_url']}#t={token}"
    logs.clear()
    client = app.test_client()
    assert client.get(f"/verify/{code}").status_code == 200
    assert client.get(f"/verify/{code}.json").status_code == 200
    assert client.get(f"/v/{code}").status_code == 301
    result = app.test_cli_runner().invoke(args=["certificates", "verify", qr])
    assert result.exit_code == 0, result.output
    # What gunicorn's and werkzeug's access logs would write for these requests.
    logging.getLogger("gunicorn.access").info('10.0.0.7 "GET /verify/%s HTTP/1.1" 200', code)
    logging.getLogger("werkzeug").info('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', qr)
    text = _everything(logs)
    assert "SELECT" in text
    assert code not in text and code[4:20] not in text
    assert token not in text and token.split(".")[1] not in text
    assert NAME not in text
