"""Key pages at scale: SQL statements, page weight, time in process, and under load.

    .venv/bin/python benchmarks/pages.py --database URL            # statements, weight, time
    .venv/bin/python benchmarks/pages.py --database URL --load     # + wrk against gunicorn

Run it against a database made by ``benchmarks/generate.py`` (scale 1 and scale 10). For
each key page — reviewer queue, version diff, class progress grid, cohort page, item
analysis, report page, verify page — it picks the biggest instance in the data (the class
with the most learners, the quiz with the most answers…) and the user who would open it,
then prints:

- SQL statements a first view issues, with the kept-page and report caches turned off
  (target: the same at scale 1 and 10, at most 20), and a repeat view with them on;
- page weight: the HTML plus every stylesheet and script it loads, uncompressed (target
  ≤ 60 KB);
- the median time of the request in process (Flask's test client, warm), first view and
  repeat view.

With ``--load`` it starts gunicorn with 2 workers on this app (``benchmarks/wsgi_bench.py``,
which adds a bare ``/_bare`` route), runs ``wrk`` with 20 connections for ``--seconds`` on
each page and on the bare route in the same run, and prints p50/p95 latency and throughput
as a fraction of the bare route's (targets: p95 ≤ 100 ms, throughput ≥ 40 %), then the
resident memory of each gunicorn worker after the load (target ≤ 150 MB). Each page is
loaded twice: the first run starts with every worker's cache empty (its p95 is printed as
"p95 cold"); the second, the steady state, is the one judged against the targets. Rate limits are
turned off for the run: every request comes from one address.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-secret-key-" + "x" * 32
USER_AGENT = "madrasa-lms-benchmark"
TARGET_STATEMENTS = 20
TARGET_WEIGHT = 60 * 1024
TARGET_P95_MS = 100.0
TARGET_THROUGHPUT = 0.40
TARGET_RSS_MB = 150


@dataclass
class Page:
    name: str
    path: str
    user_id: int | None  # None: opened without logging in


def _settings(database: str, cached: bool = True) -> dict[str, Any]:
    """The app's settings; ``cached=False`` turns off kept pages and kept report figures."""
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database,
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "https://lms.example.kg",
    }
    if not cached:
        settings |= {"PAGE_CACHE_SECONDS": 0, "REPORTS_CACHE_SECONDS": 0}
    return settings


def pick_pages(app: Flask) -> list[Page]:
    """The biggest instance of each key page in the data, and who would open it."""
    from certificates.models import Certificate
    from curriculum.models import ModuleVersion, ReviewSeat
    from lessons.models import Attendance, TeachingSession
    from lms.accounts.models import RoleGrant, User
    from lms.cohorts.models import CLASS, Cohort, Membership
    from lms.extensions import db
    from quizzes.models import Answer, Attempt

    with app.app_context():
        admin = db.session.scalar(
            select(RoleGrant.user_id).where(RoleGrant.role == "admin", RoleGrant.scope_type == "")
        )
        monitor = db.session.scalar(
            select(RoleGrant.user_id).where(RoleGrant.role == "monitor", RoleGrant.scope_type == "")
        )
        reviewer = db.session.scalar(select(ReviewSeat.user_id).order_by(ReviewSeat.id))
        version = db.session.scalar(
            select(ModuleVersion.id).where(ModuleVersion.number > 1).order_by(ModuleVersion.id)
        )
        busiest_class = db.session.execute(
            select(Cohort.id, func.count(Attendance.id).label("marks"))
            .join(TeachingSession, TeachingSession.cohort_id == Cohort.id)
            .join(Attendance, Attendance.session_id == TeachingSession.id)
            .where(Cohort.kind == CLASS)
            .group_by(Cohort.id)
            .order_by(func.count(Attendance.id).desc())
            .limit(1)
        ).first()
        class_id = busiest_class[0]
        teacher = db.session.scalar(
            select(Membership.user_id).where(
                Membership.cohort_id == class_id, Membership.role == "teacher"
            )
        )
        quiz = db.session.scalar(
            select(Attempt.quiz_id)
            .join(Answer, Answer.attempt_id == Attempt.id)
            .group_by(Attempt.quiz_id)
            .order_by(func.count(Answer.id).desc())
            .limit(1)
        )
        code = db.session.scalar(select(Certificate.verification_id).limit(1))
        assert db.session.get(User, admin) is not None
    return [
        Page("reviewer queue", "/curriculum/review", reviewer),
        Page("version diff", f"/curriculum/versions/{version}/diff", reviewer),
        Page("class progress grid", f"/lessons/cohorts/{class_id}/progress", teacher),
        Page("cohort page", f"/cohorts/{class_id}", teacher),
        Page("item analysis", f"/quizzes/quizzes/{quiz}/analysis", admin),
        Page("report page", "/reports/?year=2026", monitor or admin),
        Page("verify page", f"/verify/{code}", None),
    ]


def session_cookie(app: Flask, user_id: int | None) -> str | None:
    """A signed session cookie of a logged-in user, as the log-in page would set it for a
    browser at 127.0.0.1 sending ``USER_AGENT`` (wrk and the test client both send it)."""
    if user_id is None:
        return None
    from flask_login.utils import _create_identifier

    from lms.accounts.models import User
    from lms.accounts.sessions import AUTH_AT, LOGIN_AT, SEEN_AT
    from lms.extensions import db

    headers = {"User-Agent": USER_AGENT}
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        user = db.session.get(User, user_id)
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        assert serializer is not None
        moment = int(time.time())
        value = serializer.dumps(
            {
                "_user_id": user.get_session_identity(),
                "_fresh": True,
                "_id": _create_identifier(),  # Flask-Login's session protection
                LOGIN_AT: moment,
                SEEN_AT: moment,
                AUTH_AT: moment,
                "lang": "ru",
            }
        )
    return f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={value}"


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    from lms.extensions import db

    statements: list[str] = []

    def listen(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def weight(client: Any, html: str) -> int:
    """The HTML plus every stylesheet and script it loads, uncompressed."""
    total = len(html.encode())
    for link in re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html) + re.findall(
        r'<script[^>]+src="([^"]+)"', html
    ):
        response = client.get(link)
        total += len(response.data)
    return total


def _client_as(app: Flask, cookie: str | None) -> Any:
    """A test client carrying the session cookie (the client's jar replaces a Cookie header)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    if cookie:
        name, _, value = cookie.partition("=")
        client.set_cookie(name, value)
    return client


def _median_ms(client: Any, path: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_in_process(
    first_view: Flask, repeat_view: Flask, pages: list[Page], runs: int
) -> list[dict[str, Any]]:
    """Each page in an app without caches (every view computed) and in one with them."""
    results = []
    for page in pages:
        row: dict[str, Any] = {"page": page}
        for label, app in (("first", first_view), ("repeat", repeat_view)):
            client = _client_as(app, session_cookie(app, page.user_id))
            # Warm: templates and fonts; for the repeat view also the kept page (the first
            # request adds a CSRF token to the session, which is part of the page's key).
            client.get(page.path)
            client.get(page.path)
            with counting(app) as statements:
                response = client.get(page.path)
            row[f"{label}_statements"] = len(statements)
            row[f"{label}_ms"] = _median_ms(client, page.path, runs)
            if label == "first":
                row["status"] = response.status_code
                row["weight"] = weight(client, response.get_data(as_text=True))
        results.append(row)
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in time")


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(url: str, cookie: str | None, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", script.name]
    command += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    found = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", output)
    assert found, output
    requests, duration_us, p50, p95, errors = found.groups()
    return {
        "rps": int(requests) / (int(duration_us) / 1e6),
        "p50": float(p50),
        "p95": float(p95),
        "errors": int(errors),
    }


def worker_rss_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def measure_under_load(
    app: Flask, pages: list[Page], database: str, seconds: int, connections: int
) -> tuple[dict[str, dict[str, float]], dict[str, float], list[float]]:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: sudo apt-get install wrk")
    port = _free_port()
    env = {
        **os.environ,
        "LMS_DATABASE_URL": database,
        "LMS_SECRET_KEY": SECRET,
        "LMS_RATELIMIT_ENABLED": "false",
        "LMS_PUBLIC_URL": "https://lms.example.kg",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "benchmarks.wsgi_bench:app",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/_bare", time.monotonic() + 60)
        results: dict[str, dict[str, float]] = {}
        bare = wrk(f"{base}/_bare", None, seconds, connections)
        for page in pages:
            cookie = session_cookie(app, page.user_id)
            # Twice: the first run meets each worker's empty cache (every worker computes
            # the page once while the other connections queue behind it); the second is
            # the steady state the targets are judged on.
            cold = wrk(base + page.path, cookie, seconds, connections)
            results[page.name] = wrk(base + page.path, cookie, seconds, connections)
            results[page.name]["cold_p95"] = cold["p95"]
        rss = worker_rss_mb(server.pid)
        return results, bare, rss
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a database made by generate.py")
    parser.add_argument("--runs", type=int, default=15, help="in-process repetitions")
    parser.add_argument("--load", action="store_true", help="also run wrk against gunicorn")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument(
        "--pages",
        help="only the pages whose names start with these words, comma-separated"
        " (for example: report,verify)",
    )
    args = parser.parse_args()

    from lms import create_app
    from lms.config import normalise_database_url

    database = normalise_database_url(args.database)
    app = create_app(_settings(database))
    first_view = create_app(_settings(database, cached=False))
    pages = pick_pages(app)
    if args.pages:
        wanted = [word.strip() for word in args.pages.split(",") if word.strip()]
        pages = [page for page in pages if any(page.name.startswith(w) for w in wanted)]
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    print(
        f"{'page':<22}{'status':>7}{'statements':>12}{'(repeat)':>10}{'weight KB':>11}"
        f"{'ms first':>10}{'ms repeat':>11}"
    )
    for row in measure_in_process(first_view, app, pages, args.runs):
        page = row["page"]
        flags = []
        if row["first_statements"] > TARGET_STATEMENTS:
            flags.append("statements")
        if row["weight"] > TARGET_WEIGHT:
            flags.append("weight")
        print(
            f"{page.name:<22}{row['status']:>7}{row['first_statements']:>12}"
            f"{row['repeat_statements']:>10}{row['weight'] / 1024:>11.1f}"
            f"{row['first_ms']:>10.1f}{row['repeat_ms']:>11.1f}"
            + (f"   MISSED: {', '.join(flags)}" if flags else "")
        )
    if not args.load:
        return
    results, bare, rss = measure_under_load(app, pages, database, args.seconds, args.connections)
    print(
        f"\nunder load: wrk, {args.connections} connections, {args.seconds} s each,"
        " gunicorn with 2 workers"
    )
    print(
        f"{'page':<22}{'req/s':>9}{'of bare':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}"
        f"{'p95 cold':>10}"
    )
    print(
        f"{'bare route':<22}{bare['rps']:>9.0f}{'100 %':>9}{bare['p50']:>9.1f}{bare['p95']:>9.1f}"
    )
    for name, result in results.items():
        share = result["rps"] / bare["rps"]
        verdict = _mark(result["p95"] <= TARGET_P95_MS and share >= TARGET_THROUGHPUT)
        print(
            f"{name:<22}{result['rps']:>9.0f}{share:>8.1%}{result['p50']:>9.1f}"
            f"{result['p95']:>9.1f}{result['errors']:>8}{result['cold_p95']:>10.1f}   {verdict}"
        )
    print(
        "gunicorn workers' RSS after the load: "
        + ", ".join(f"{size:.0f} MB" for size in rss)
        + f"   {_mark(max(rss, default=0) <= TARGET_RSS_MB)} (target <= {TARGET_RSS_MB} MB)"
    )


if __name__ == "__main__":
    main()
