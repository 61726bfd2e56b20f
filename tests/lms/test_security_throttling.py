"""Log-in throttling (ASVS 2.2.1): per address and per account, with Flask-Limiter, shared by
every worker when the counts live in Redis; the refusal is a 429 page in the user's language
that looks the same whether the account exists or not."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from lms.extensions import db
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _attempt(client, username, password="wrong password", address="10.0.0.1", **headers):
    return client.post(
        "/account/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_failed_log_ins_are_limited_per_address(make_app):
    app = make_app(
        {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100 per minute",
        }
    )
    with app.app_context():
        names = [factories.user("student").username for _ in range(5)]
        db.session.commit()
    client = app.test_client()
    # A class behind one school router logs in: successful log-ins do not count.
    for name in names:
        assert _attempt(client, name, factories.PASSWORD).status_code == 302
        client.post("/account/logout")
    codes = [_attempt(client, f"someone{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]  # failures under different names, one address
    assert _attempt(client, names[0], factories.PASSWORD).status_code == 429  # closed for now
    assert _attempt(client, "someone9", address="10.0.0.2").status_code == 200


def test_failed_log_ins_are_limited_per_account_from_any_address(make_app):
    app = make_app(
        {
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "100 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
        }
    )
    with app.app_context():
        factories.user("teacher", username="nurgul")
        factories.user("teacher", username="aziz")
        db.session.commit()
    client = app.test_client()
    # Successful log-ins do not count against the account.
    for _ in range(4):
        assert _attempt(client, "nurgul", factories.PASSWORD).status_code == 302
        client.post("/account/logout")
    # Three failures from three addresses, the name typed differently each time…
    for n, typed in enumerate(["nurgul", "  NurGul ", "NURGUL"]):
        assert _attempt(client, typed, address=f"10.0.1.{n}").status_code == 200
    # …and the account is closed for a while, even with the right password, from anywhere.
    refused = _attempt(client, "nurgul", factories.PASSWORD, address="10.0.2.1")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)
    # Other accounts are not affected.
    assert _attempt(client, "aziz", factories.PASSWORD, address="10.0.2.1").status_code == 302


def test_the_refusal_does_not_tell_whether_the_account_exists_and_speaks_russian(make_app):
    app = make_app({"RATELIMIT_ENABLED": True, "LOGIN_ACCOUNT_RATE_LIMIT": "2 per minute"})
    with app.app_context():
        factories.user("teacher", username="existing")
        db.session.commit()
    pages = {}
    for name in ("existing", "nobody-here"):
        client = app.test_client()
        for n in range(2):
            assert _attempt(client, name, address=f"10.1.{n}.1").status_code == 200
        refused = _attempt(client, name, address="10.1.9.1", **{"Accept-Language": "ru"})
        assert refused.status_code == 429
        pages[name] = _without_tokens(refused.get_data(as_text=True))
    assert pages["existing"] == pages["nobody-here"]
    assert "Слишком много попыток" in pages["existing"]


def _redis_or_skip() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception as error:  # no server, no client library
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")


#: A second "gunicorn worker": another process with its own app, on the same Redis.
WORKER = """
import json, sys
from lms import create_app
settings = json.loads(sys.argv[1])
app = create_app(settings)
client = app.test_client()
codes = []
for _ in range(int(sys.argv[2])):
    response = client.post(
        "/account/login",
        data={"username": sys.argv[3], "password": "wrong password"},
        environ_base={"REMOTE_ADDR": sys.argv[4]},
    )
    codes.append(response.status_code)
print(json.dumps(codes))
"""


def test_workers_share_the_counts_in_redis(make_app, tmp_path):
    _redis_or_skip()
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "LOGIN_RATE_LIMIT": "100 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
    }
    app = make_app(settings)
    # Names and addresses no other run uses, so counts left in Redis do not interfere.
    username = f"shared-{secrets.token_hex(6)}"
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    worker_settings = {
        **settings,
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp_path / "worker"),
        "WTF_CSRF_ENABLED": False,
        # The host alone answers the log-in page; skipping the plugins halves the start-up.
        "DISABLED_PLUGINS": ["curriculum", "lessons", "quizzes", "certificates"],
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {key: value for key, value in env.items() if not key.startswith("LMS_")}
    worker = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(worker_settings), "3", username, address],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert json.loads(worker.stdout.strip().splitlines()[-1]) == [200, 200, 200]
    # This process (the other worker) sees the other's three failures: the fourth is refused.
    client = app.test_client()
    response = _attempt(client, username, address="10.250.250.250")
    assert response.status_code == 429
