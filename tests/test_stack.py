"""The production stack on this machine, as docs/deploy.md sets it up.

``test_bulk_certificates_through_the_real_stack`` starts real processes: a new PostgreSQL
database, Redis (a database number of its own, flushed), ``lms serve --production``
(gunicorn, 2 workers, ``lms.wsgi:app``), a Celery worker (``celery -A lms.worker worker``)
and, when nginx is installed, nginx with ``deploy/nginx.conf`` in front (TLS on a high
port, a certificate made for the test). A trainer's journey then runs over HTTP with a
real client: log in through the form, choose a design, issue 60 certificates, follow the
job, download the ZIP; every PDF must be valid and rendered by the worker's chunk tasks.

The other tests check the pieces that need no services: ``nginx -t`` on the deployment's
configuration and the proxy handling of ``lms.wsgi``.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import importlib
import io
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
GUNICORN_SETTINGS = ROOT / "deploy" / "gunicorn.conf.py"
PG_SERVER = (
    os.environ.get("LMS_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"
PARTICIPANTS = 60
PASSWORD = "stack test password"
SECRET_KEY = "stack-test-secret-" + "k" * 32


# --- small helpers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(what: str, check: Callable[[], Any], deadline: float, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy, or fail when the deadline passes."""
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, urllib.error.URLError, ValueError) as error:
            last_error, result = error, None
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


@dataclass
class Service:
    """A process of the stack, in its own session so its children stop with it."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
        # Whatever is left of the group (a worker that ignored TERM) is killed.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start(name: str, command: list[str], env: dict[str, str], folder: Path) -> Service:
    log = folder / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=folder,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, log)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that the test's client trusts (and nobody else)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def unit_command(unit: str, **variables: str) -> list[str]:
    """The ExecStart= command of one of the deployment's systemd units, for this checkout's
    virtualenv (``/opt/lms/venv/bin`` becomes this interpreter's folder)."""
    lines = (ROOT / "deploy" / "systemd" / unit).read_text().replace("\\\n", " ").splitlines()
    (command,) = [line.split("=", 1)[1] for line in lines if line.startswith("ExecStart=")]
    for name, value in variables.items():
        command = command.replace(f"${{{name}}}", value)
    assert "${" not in command, f"{unit}: unexpanded variable in {command}"
    return [part.replace("/opt/lms/venv/bin/", f"{BIN}/") for part in shlex.split(command)]


def nginx_binary() -> str | None:
    """nginx, also where Debian puts it (/usr/sbin is not on every user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _replace(config: str, old: str, new: str) -> str:
    assert old in config, f"deploy/nginx.conf no longer contains {old!r}; update the test"
    return config.replace(old, new)


def nginx_test_config(folder: Path, *, http_port: int, https_port: int, app_port: int) -> Path:
    """deploy/nginx.conf with the placeholders an administrator fills in, filled in for
    this machine (high ports, a test certificate, this checkout), inside a minimal main
    configuration like Debian's."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = self_signed_certificate(folder)
    site = NGINX_SITE.read_text()
    site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace(site, "listen [::]:80;", "")
    site = _replace(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = _replace(site, "listen [::]:443 ssl http2;", "")
    site = _replace(site, "/etc/letsencrypt/live/lms.example.kg/fullchain.pem", str(cert_file))
    site = _replace(site, "/etc/letsencrypt/live/lms.example.kg/privkey.pem", str(key_file))
    site = _replace(site, " /opt/lms/src/", f" {ROOT}/")
    site = _replace(site, "server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}")
    site = _replace(site, "/var/log/nginx/", f"{folder}/")
    site = _replace(site, "root /var/www/html;", f"root {folder}/acme;")
    (folder / "site.conf").write_text(site)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read this checkout
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {folder}/access.log;\n    gzip on;  # as in Debian's nginx.conf\n"
        f"{temp}\n    include {folder}/site.conf;\n}}\n"
    )
    return main


# --- tests that need no services ------------------------------------------------------------


def test_nginx_configuration_is_valid(tmp_path):
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    config = nginx_test_config(
        tmp_path / "nginx", http_port=18080, https_port=18443, app_port=18000
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_settings_file_example_parses_as_systemd_and_sh_read_it(tmp_path, monkeypatch):
    """deploy/lms.env.example, read by sh as backup.sh does, is a valid production setup
    once the secret key is filled in."""
    example = ROOT / "deploy" / "lms.env.example"
    read = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; env -0', "sh", str(example)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        check=True,
    )
    values = dict(
        item.split("=", 1)
        for item in read.stdout.decode().split("\0")
        if item.startswith("LMS_") and "=" in item
    )
    for required in (
        "LMS_ENV",
        "LMS_SECRET_KEY",
        "LMS_DATABASE_URL",
        "LMS_PUBLIC_URL",
        "LMS_CELERY_BROKER_URL",
        "LMS_RATELIMIT_STORAGE_URI",
        "LMS_PROXY_FIX",
        "LMS_CERTIFICATES_ISSUER_NAME",
        "LMS_INSTANCE_PATH",
        "LMS_WORKER_CONCURRENCY",
    ):
        assert required in values, required
    assert values["LMS_SECRET_KEY"] == "", "no secret key is shipped"
    names = json.loads(values["LMS_CERTIFICATES_ISSUER_NAME"])
    assert set(names) == {"en", "ru", "ky"}

    from lms.config import ConfigError, build_config

    for name in [n for n in os.environ if n.startswith("LMS_") and n != "LMS_TEST_DATABASE_URL"]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY must be set"):
        build_config(str(tmp_path), None)
    monkeypatch.setenv("LMS_SECRET_KEY", "f" * 64)
    config = build_config(str(tmp_path), None)
    assert config["PRODUCTION"] and config["SESSION_COOKIE_SECURE"]
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["PUBLIC_URL"].startswith("https://")
    assert config["RATELIMIT_STORAGE_URI"].startswith("redis://")


@pytest.fixture
def wsgi_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``lms.wsgi`` imported as gunicorn imports it: configured by ``LMS_*`` variables."""
    for name in [n for n in os.environ if n.startswith("LMS_") and n != "LMS_TEST_DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.sqlite3'}")
    monkeypatch.setenv("LMS_PROXY_FIX", "1")
    sys.modules.pop("lms.wsgi", None)
    module = importlib.import_module("lms.wsgi")
    try:
        yield module
    finally:
        sys.modules.pop("lms.wsgi", None)
        with module.app.app_context():
            from lms.extensions import db

            db.engine.dispose()


def test_wsgi_app_sees_the_client_behind_one_proxy(wsgi_module):
    from flask import Flask, request

    from lms import create_app

    assert wsgi_module.app.config["PROXY_FIX"] == 1

    def echo() -> str:
        return f"{request.remote_addr} {request.scheme} {request.host}"

    def app_with(proxies: Any) -> Flask:
        app = create_app(
            {
                "SECRET_KEY": SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "PROXY_FIX": proxies,
                "TESTING": True,
            }
        )
        app.add_url_rule("/_whoami", "whoami", echo)
        return wsgi_module.apply_proxy_fix(app)

    forwarded = {
        # nginx appends the client it saw to whatever the client claimed.
        "X-Forwarded-For": "6.6.6.6, 203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "lms.example.kg",
        "X-Forwarded-Port": "443",
    }
    behind = app_with("1").test_client().get("/_whoami", headers=forwarded)
    assert behind.text == "203.0.113.9 https lms.example.kg"
    direct = app_with(None).test_client().get("/_whoami", headers=forwarded)
    assert direct.text == "127.0.0.1 http localhost", "no proxy trusted by default"
    from lms.config import ConfigError

    with pytest.raises(ConfigError, match="number of proxies"):
        app_with("yes")


# --- the stack ------------------------------------------------------------------------------


class Browser:
    """Just enough of a browser: cookies, redirects, Referer on form posts, a trusted CA."""

    def __init__(self, base: str, cafile: Path | None) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar(
            # Without nginx the test talks plain HTTP to gunicorn, standing in for the TLS
            # proxy: the (Secure) session cookie must still be sent back.
            policy=http.cookiejar.DefaultCookiePolicy(
                secure_protocols=("https", "wss") if cafile else ("https", "wss", "http")
            )
        )
        context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=context),
        )

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes, Any]:
        request = urllib.request.Request(self.url(path), headers=headers or {})
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.geturl(), response.read(), response.headers

    def post(self, path: str, fields: dict[str, str], referer: str) -> tuple[int, str, bytes]:
        request = urllib.request.Request(
            self.url(path),
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Referer": self.url(referer)},
            method="POST",
        )
        with self.opener.open(request, timeout=60) as response:
            return response.status, response.geturl(), response.read()


def csrf_token(page: bytes) -> str:
    """The CSRF token of the page's first form (CSRF protection is on, as in production)."""
    for tag in re.findall(rb"<input[^>]*>", page):
        if b'name="csrf_token"' in tag:
            found = re.search(rb'value="([^"]+)"', tag)
            if found:
                return found.group(1).decode()
    raise AssertionError("no CSRF token on the page")


def _requirements() -> str | None:
    """Why the stack cannot run here, or None."""
    for tool in ("gunicorn", "celery", "lms"):
        if not (BIN / tool).exists():
            return f"{tool} is not installed in the virtualenv ({BIN})"
    try:
        engine = create_engine(make_url(PG_SERVER).set(drivername="postgresql+psycopg"))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return f"PostgreSQL is not reachable at {make_url(PG_SERVER).render_as_string()}: {error}"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        return f"Redis is not reachable at {REDIS_URL}: {error}"
    return None


@pytest.fixture
def stack_database() -> Iterator[str]:
    """A new PostgreSQL database for the stack, dropped afterwards (connections and all)."""
    server = make_url(PG_SERVER).set(drivername="postgresql+psycopg")
    name = f"lms_stack_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stack_redis() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def _run_command(command: list[str], env: dict[str, str], folder: Path) -> str:
    result = subprocess.run(
        command, env=env, cwd=folder, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{' '.join(command[:3])}…: {result.stdout}{result.stderr}"
    return result.stdout


def _seed_cohort(url: str, folder: Path) -> int:
    """A ToT cohort whose participants all completed it, through the app's services."""
    from lms import create_app
    from lms.extensions import db
    from tests.certificates import helpers

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(folder)}
    )
    with app.app_context():
        names = [f"Участник {n:02d} Токтосунов" for n in range(1, PARTICIPANTS + 1)]
        cohort, _done, _trainer = helpers.completed_cohort(names, name="Stack ToT")
        db.session.commit()
        cohort_id = cohort.id
        db.session.remove()
        db.engine.dispose()
    return cohort_id


@pytest.mark.slow
def test_bulk_certificates_through_the_real_stack(tmp_path, request):
    missing = _requirements()
    if missing:
        pytest.skip(f"the production stack cannot run here: {missing}")
    url = request.getfixturevalue("stack_database")
    broker = request.getfixturevalue("stack_redis")
    nginx = nginx_binary()
    timings: dict[str, float] = {}
    began = time.monotonic()

    app_port = free_port()
    if nginx:
        http_port, https_port = free_port(), free_port()
        public = f"https://127.0.0.1:{https_port}"
    else:
        public = f"http://127.0.0.1:{app_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        LMS_ENV="production",
        LMS_SECRET_KEY=SECRET_KEY,
        LMS_DATABASE_URL=url,
        LMS_PUBLIC_URL=public,
        LMS_CELERY_BROKER_URL=broker,
        LMS_RATELIMIT_STORAGE_URI=broker,
        LMS_PROXY_FIX="1" if nginx else "0",
        LMS_LOAD_ENTRYPOINTS="true",
        LMS_INSTANCE_PATH=str(tmp_path / "instance"),
        LMS_CERTIFICATES_ISSUER_NAME="Madrasa LMS stack test",
        LMS_WEB_WORKERS="2",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    services: list[Service] = []
    try:
        # What docs/deploy.md has an administrator do: schema, first administrator.
        _run_command([str(BIN / "lms"), "init"], env, tmp_path)
        _run_command(
            [
                *(str(BIN / "lms"), "create-user", "--username", "stackadmin"),
                *(
                    "--name",
                    "Stack Admin",
                    "--sex",
                    "female",
                    "--role",
                    "admin",
                    "--language",
                    "en",
                ),
                *("--password", PASSWORD),
            ],
            env,
            tmp_path,
        )
        timings["init"] = time.monotonic() - began
        # The commands of deploy/systemd/lms-web.service and lms-worker.service.
        web = unit_command("lms-web.service")
        web[web.index("--port") + 1] = str(app_port)
        services.append(start("web", web, env, tmp_path))
        worker = unit_command("lms-worker.service", LMS_WORKER_CONCURRENCY="2")
        worker[worker.index("--hostname") + 1] = f"stack-{uuid.uuid4().hex[:6]}@localhost"
        worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        services.append(start("worker", worker, env, tmp_path))
        cafile = None
        if nginx:
            config = nginx_test_config(
                tmp_path / "nginx", http_port=http_port, https_port=https_port, app_port=app_port
            )
            services.append(
                start("nginx", [nginx, "-c", str(config), "-g", "daemon off;"], env, tmp_path)
            )
            cafile = tmp_path / "nginx" / "cert.pem"
        cohort_id = _seed_cohort(url, tmp_path / "seed")
        browser = Browser(public, cafile)

        deadline = time.monotonic() + 60

        def healthy() -> bool:
            for service in services:
                assert service.running(), f"{service.name} exited: {service.output()[-3000:]}"
            status, _url, body, _headers = browser.get("/healthz")
            return status == 200 and json.loads(body) == {"status": "ok"}

        wait_until("/healthz", healthy, deadline)
        wait_until("the worker", lambda: " ready." in services[1].output(), deadline)
        timings["stack up"] = time.monotonic() - began

        # Log in through the real form.
        _status, login_url, page, _headers = browser.get("/account/login")
        _status, landed, _body = browser.post(
            "/account/login",
            {"username": "stackadmin", "password": PASSWORD, "csrf_token": csrf_token(page)},
            referer=login_url,
        )
        assert "/account/login" not in landed, "the log-in was refused"

        # Choose a design, then issue to everyone who completed.
        cohort_page = f"/certificates/cohorts/{cohort_id}"
        _status, _url, page, _headers = browser.get(cohort_page)
        assert f"all {PARTICIPANTS} who completed".encode() in page
        _status, _url, page = browser.post(
            f"{cohort_page}/design",
            {"design": "tot-completion", "language": "ru", "csrf_token": csrf_token(page)},
            referer=cohort_page,
        )
        assert b"The certificate design was saved." in page
        issued_at = time.monotonic()
        _status, job_url, page = browser.post(
            f"{cohort_page}/issue", {"csrf_token": csrf_token(page)}, referer=cohort_page
        )
        job_id = urllib.parse.urlparse(job_url).path.rsplit("/", 1)[-1]
        assert re.fullmatch(r"[0-9a-f-]{36}", job_id), job_url
        assert f"{PARTICIPANTS} certificates were issued".encode() in page

        def finished() -> dict[str, Any] | None:
            _status, _url, body, _headers = browser.get(f"/jobs/{job_id}.json")
            job = json.loads(body)
            return job if job["status"] in ("succeeded", "failed") else None

        job = wait_until("the rendering job", finished, time.monotonic() + 60, every=0.25)
        timings["render 60 PDFs"] = time.monotonic() - issued_at
        assert job["status"] == "succeeded", job
        assert (job["done"], job["total"], job["percent"]) == (PARTICIPANTS, PARTICIPANTS, 100)

        # One ZIP with every PDF: valid, signed, and the very files the worker stored.
        _status, _url, archive, headers = browser.get(f"{cohort_page}/certificates.zip")
        assert headers["Content-Type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            pdfs = [opened.read(name) for name in opened.namelist()]
        assert len(pdfs) == PARTICIPANTS
        _check_pdfs(url, tmp_path / "check", cohort_id, pdfs)

        worker_log = services[1].output()
        chunks = re.findall(r"render_batch_chunk\[[^\]]+\] succeeded", worker_log)
        assert len(chunks) == -(-PARTICIPANTS // 20), worker_log[-3000:]
        assert re.search(r"render_batch\[[^\]]+\] succeeded", worker_log)
        assert services[0].output().count("Booting worker") == 2
        assert "Control socket listening" not in services[0].output()
        if nginx:
            _check_nginx(browser, http_port, app_port)
        timings["total"] = time.monotonic() - began
        print("stack timings (s):", {k: round(v, 1) for k, v in timings.items()})
    except BaseException:
        for service in services:
            print(f"\n===== {service.name} (exit {service.process.poll()}) =====")
            print(service.output()[-20000:])
        if nginx and (tmp_path / "nginx" / "error.log").exists():
            print("\n===== nginx error.log =====")
            print((tmp_path / "nginx" / "error.log").read_text()[-5000:])
        raise
    finally:
        for service in reversed(services):
            service.stop()


def _check_pdfs(url: str, folder: Path, cohort_id: int, pdfs: list[bytes]) -> None:
    """Each PDF verifies (signature, printed name, status) against the stack's database,
    and is byte for byte the PDF the worker stored with its SHA-256."""
    from certificates.models import Certificate
    from certificates.verification import KeyRing, check_payload
    from lms import create_app
    from lms.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(folder)}
    )
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Certificate.pdf_sha256, Certificate.rendered_at).where(
                    Certificate.cohort_id == cohort_id
                )
            ).all()
        )
        assert len(stored) == PARTICIPANTS and None not in stored and all(stored.values())
        keys = KeyRing()
        for pdf in pdfs:
            assert pdf.startswith(b"%PDF")
            assert hashlib.sha256(pdf).hexdigest() in stored
            report = check_payload(pdf, keys)
            assert report.ok, [(c.what, c.ok, c.detail) for c in report.checks]
        db.session.remove()
        db.engine.dispose()


SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
)


def _check_nginx(browser: Browser, http_port: int, app_port: int) -> None:
    """What nginx adds: static files with caching, gzip and the app's own security headers
    (compared with what the app sends for the same file), each header once on pages, no
    way out of the static folders, and the HTTP-to-HTTPS redirect."""
    status, _url, _body, headers = browser.get(
        "/static/lms.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "max-age=86400" in headers["Cache-Control"]
    assert "gunicorn" not in (headers.get("Server") or "")
    with urllib.request.urlopen(f"http://127.0.0.1:{app_port}/static/lms.css") as direct:
        from_app = direct.headers
    for name in SECURITY_HEADERS:
        assert headers.get_all(name) == from_app.get_all(name), f"{name} differs from the app's"
        assert from_app.get_all(name), f"the app sends no {name}"

    _status, _url, _page, headers = browser.get(
        "/account/login", headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in headers, "pages with a CSRF token are not compressed"
    for name in SECURITY_HEADERS:
        assert len(headers.get_all(name) or []) == 1, f"{name} once on pages"

    for escape in ("/static/../../../../etc/passwd", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd"):
        try:
            _status, _url, body, _headers = browser.get(escape)
        except urllib.error.HTTPError as error:
            body = error.read()
        assert b"root:" not in body, escape

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    plain = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        plain.open(f"http://127.0.0.1:{http_port}/verify/abc?x=1", timeout=10)
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == "https://127.0.0.1/verify/abc?x=1"
