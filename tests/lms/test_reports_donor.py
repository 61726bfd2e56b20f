"""The donor report: a background job that writes the PDF (English or Russian) and the XLSX
of the same figures, inside the scope of the person who asked."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from lms.extensions import db
from tests import factories
from tests.reports import CHUY_WORDS, build_world


@pytest.fixture
def world(app):
    return build_world()


def _build(client, language: str, **args) -> dict[str, bytes]:
    """Ask for the donor report; follow to the job page; download what it made."""
    response = client.post("/reports/donor-report", query_string=args, data={"language": language})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The donor report is ready." in job_page
    files = {}
    for link in re.findall(r'href="(/jobs/[^"]*/files/[^"]*)"', job_page):
        download = client.get(unescape(link))
        assert download.status_code == 200
        files[link.rsplit(".", 1)[1]] = download.data
    return files


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Programme indicators", "Students reached", "Osh Region", "enrolled as students")),
        ("ru", ("Ошская область", "Чуйская область", "Регион", "Пособие")),
    ],
)
def test_the_donor_report_is_a_pdf_with_charts_tables_and_definitions(
    world,
    client,
    language,
    words,
):
    factories.login(client, world["admin"])
    files = _build(client, language, year=2025)
    assert set(files) == {"pdf", "xlsx"}
    text = _pdf_text(files["pdf"])
    for word in words:
        assert word in text, word
    assert b"/Subtype /Form" in files["pdf"] or b"/XObject" in files["pdf"]  # drawn charts
    book = load_workbook(io.BytesIO(files["xlsx"]))
    assert len(book.sheetnames) > 10


def test_the_donor_report_evaluates_every_cohort_and_keeps_the_scope(make_app, world):
    """The page evaluates one cohort's completion here; the job evaluates them all. An Osh
    officer's report has nothing from Chuy."""
    admin_name = world["admin"].username
    app = make_app({"REPORTS_COMPLETION_COHORTS": 1})
    with app.app_context():
        officer = factories.user("monitor", scope=factories.region("osh-region"))
        db.session.commit()
        client = app.test_client()
        factories.login(client, officer)
        files = _build(client, "en")
        text = _pdf_text(files["pdf"])
        assert "Osh Region" in text
        for word in CHUY_WORDS:
            assert word not in text, word
        book = load_workbook(io.BytesIO(files["xlsx"]))
        sheet = book[next(n for n in book.sheetnames if n.startswith("1.1 "))]
        values = [[c.value for c in r] for r in sheet.iter_rows()]
        # Osh: trained F2 M2 T4; completed Aida (2025), Chyngyz (2025), Daniyar (2026).
        assert ["Osh Region", 2, 2, 4, 1, 2, 3] in values
        assert admin_name  # the shared data set is there


def test_the_donor_report_needs_english_or_russian(world, client):
    factories.login(client, world["admin"])
    response = client.post("/reports/donor-report", data={"language": "fr"})
    assert response.status_code == 400
