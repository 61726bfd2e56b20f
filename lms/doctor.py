"""``lms doctor``: what works, what is missing, and the command that fixes it."""

from __future__ import annotations

import ctypes.util
import subprocess  # nosec B404  # fixed argument lists only, never a shell (see the calls)
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from lms.extensions import db

APT_FIX = "sudo scripts/install-system-deps.sh  (or: sudo apt-get install {packages})"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def run_checks() -> list[Check]:
    return [
        check_database(),
        check_migrations(),
        check_pango(),
        check_harfbuzz_subset(),
        check_weasyprint(),
        *check_fonts(),
        check_secret_key(),
        check_public_url(),
        check_broker(),
    ]


def check_public_url() -> Check:
    """The address printed on certificates and signed into them must be the real one."""
    url = str(current_app.config.get("PUBLIC_URL") or "")
    if url.startswith("https://"):
        return Check("public address", "ok", url)
    if current_app.config.get("PRODUCTION"):
        return Check(
            "public address",
            "fail" if not url else "warn",
            "LMS_PUBLIC_URL is not set: certificates cannot be issued"
            if not url
            else f"{url} is not https: phones and verifiers may refuse it",
            "set LMS_PUBLIC_URL to the https address people reach this site at",
        )
    return Check(
        "public address",
        "ok" if url else "warn",
        url or "not set: certificates printed on this laptop name the address it was opened at",
        "set LMS_PUBLIC_URL before issuing certificates people will keep",
    )


def check_database() -> Check:
    url = db.engine.url
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # the point is to report any failure
        return Check(
            "database",
            "fail",
            f"cannot connect to {url.render_as_string(hide_password=True)}: {error}",
            "check LMS_DATABASE_URL, and that the database server is running",
        )
    return Check(
        "database", "ok", f"{url.get_backend_name()} at {url.render_as_string(hide_password=True)}"
    )


def check_migrations() -> Check:
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    head = script.get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return Check("migrations", "fail", "the database has no tables yet", "lms init")
    if current != head:
        return Check("migrations", "fail", f"at {current}, newest is {head}", "lms init")
    return Check("migrations", "ok", f"up to date ({head})")


def _library(name: str, package: str, what: str) -> Check:
    found = ctypes.util.find_library(name)
    if found:
        return Check(package, "ok", f"{what}: {found}")
    return Check(package, "fail", f"{what} not found", APT_FIX.format(packages=package))


def check_pango() -> Check:
    return _library("pango-1.0", "libpango-1.0-0", "Pango (text layout for PDFs)")


def check_harfbuzz_subset() -> Check:
    found = ctypes.util.find_library("harfbuzz-subset")
    if found:
        return Check("libharfbuzz-subset0", "ok", f"font subsetting: {found}")
    return Check(
        "libharfbuzz-subset0",
        "warn",
        "font subsetting library missing: every PDF renders about ten times slower",
        APT_FIX.format(packages="libharfbuzz-subset0"),
    )


def check_weasyprint() -> Check:
    try:
        from weasyprint import HTML

        pdf = HTML(string="<p>Кыргызча ңөү</p>").write_pdf()
    except Exception as error:  # report any import or rendering failure
        return Check(
            "weasyprint",
            "fail",
            f"cannot render a PDF: {error}",
            APT_FIX.format(packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"),
        )
    return Check("weasyprint", "ok", f"renders PDFs ({len(pdf)} bytes for a test page)")


def _font_for(text_sample: str) -> str | None:
    """The font family fontconfig picks for the characters in ``text_sample``, if it has one."""
    charset = " ".join(f"{ord(c):x}" for c in text_sample)
    try:
        result = subprocess.run(  # nosec B603, B607  # fixed arguments, no shell; fc-list found on PATH
            ["fc-list", f":charset={charset}", "family"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    families = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return families[0] if families else None


def check_fonts() -> list[Check]:
    checks = []
    for name, sample in (("Kyrgyz Cyrillic", "ңөүҢӨҮ"), ("Arabic script", "بسم")):
        family = _font_for(sample)
        if family:
            checks.append(Check(f"fonts: {name}", "ok", family))
        else:
            checks.append(
                Check(
                    f"fonts: {name}",
                    "fail",
                    "no installed font covers it: certificates and manuals would show boxes",
                    APT_FIX.format(packages="fonts-noto-core"),
                )
            )
    return checks


def check_secret_key() -> Check:
    if current_app.config["PRODUCTION"]:
        return Check("secret key", "ok", "set for production")
    return Check("secret key", "ok", "development key kept in the instance folder")


def check_broker() -> Check:
    broker = current_app.config.get("CELERY_BROKER_URL")
    if not broker:
        return Check("jobs", "ok", "no broker configured: background jobs run in-process")
    try:
        conn = current_app.extensions["celery"].connection_for_write()
        conn.ensure_connection(max_retries=1, timeout=3)
        conn.release()
    except Exception as error:  # any connection failure is what we report
        return Check(
            "jobs",
            "fail",
            f"broker {broker} unreachable: {error}",
            "start Redis, or unset LMS_CELERY_BROKER_URL",
        )
    return Check("jobs", "ok", f"broker {broker} reachable")
