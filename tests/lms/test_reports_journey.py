"""As a new user would: with the demo data, the monitoring officer opens Reports, filters to
Osh region and one year, reads the counts by sex, opens the records behind a figure, and
downloads the XLSX and the donor report PDF. The figures are checked against the records."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, STUDENT
from lms.cohorts.models import Cohort, Membership
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.organisations.models import Region

STATIC = Path(__file__).resolve().parents[2] / "lms" / "static"


@pytest.fixture
def demo_app(make_app):
    app = make_app()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


def _people_in_osh_2026(role: str) -> dict[str, list[str]]:
    """Names by sex of ``role`` members of Osh cohorts running in 2026, from the records."""
    osh = db.session.scalar(select(Region).where(Region.code == "osh-region"))
    found: dict[str, set[str]] = {"female": set(), "male": set()}
    for cohort in db.session.scalars(select(Cohort)):
        region = cohort.region_id or cohort.madrasa.region_id
        runs_in_2026 = cohort.starts_on.year <= 2026 <= (cohort.ends_on or cohort.starts_on).year
        if region != osh.id or not runs_in_2026:
            continue
        for person in db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role == role)
        ):
            found[person.sex].add(person.name)
    return {sex: sorted(names) for sex, names in found.items()}


def _row(section: str, label: str) -> list[str]:
    """The figures of the row headed ``label`` in a piece of the page."""
    cells = section.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells)]


def test_a_monitoring_officer_reports_on_osh_for_one_year(demo_app):
    client = demo_app.test_client()
    client.post("/account/login", data={"username": "monitor", "password": DEMO_PASSWORD})
    client.post("/language", data={"lang": "en"})
    home = client.get("/").get_data(as_text=True)
    assert 'href="/reports/"' in home

    page = client.get("/reports/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Programme indicators" in text
    css = sum(len((STATIC / name).read_bytes()) for name in ("lms.css", "reports.css"))
    for language in ("ru", "ky", "en"):  # Cyrillic takes two bytes a letter
        client.post("/language", data={"lang": language})
        weight = len(client.get("/reports/").data) + css
        assert weight < 60_000, f"the report page should stay light ({language}: {weight})"
    assert "<script" not in text
    osh_value = re.search(r'<option value="(\d+)">Osh Region</option>', text).group(1)

    page = client.get("/reports/", query_string={"region": osh_value, "year": "2026"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Period: <strong>Jan 1, 2026 – Dec 31, 2026</strong>" in text
    assert "Tokmok" not in text  # the Chuy ToT is outside the region

    with demo_app.app_context():
        participants = _people_in_osh_2026(PARTICIPANT)
        students = _people_in_osh_2026(STUDENT)
    tot = text.split('id="lms.tot_participants"')[1].split("</section>")[0]
    female, male = len(participants["female"]), len(participants["male"])
    assert _row(tot, "Total")[:3] == [str(female), str(male), str(female + male)]
    reached = text.split('id="lms.students_reached"')[1].split("</section>")[0]
    female_s, male_s = len(students["female"]), len(students["male"])
    assert _row(reached, "Total") == [str(female_s), str(male_s), str(female_s + male_s)]
    assert (female, male, female_s, male_s) == (2, 3, 2, 2)  # what the demo data holds

    # The indicator's page splits the same figures by region, with a chart.
    details = client.get(
        "/reports/lms.tot_participants", query_string={"region": osh_value, "year": "2026"}
    ).get_data(as_text=True)
    assert _row(details, "Osh Region")[:3] == [str(female), str(male), str(female + male)]
    assert "<svg" in details

    link = re.search(
        r'href="(lms\.tot_participants/by_region/region:\d+,sex:female\?[^"]*)"', details
    )
    records = client.get("/reports/" + unescape(link.group(1))).get_data(as_text=True)
    assert re.findall(r'<th scope="row">([^<]*)</th>', records) == participants["female"]

    xlsx = client.get("/reports/report.xlsx", query_string={"region": osh_value, "year": "2026"})
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book[next(name for name in book.sheetnames if name.startswith("1.1 "))]
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert ["Osh Region", female, male, female + male] == next(
        r[:4] for r in rows if r[0] == "Osh Region"
    )

    started = client.post(
        "/reports/donor-report",
        query_string={"region": osh_value, "year": "2026"},
        data={"language": "ru"},
    )
    job = client.get(started.headers["Location"]).get_data(as_text=True)
    pdf_link = re.search(r'href="(/jobs/[^"]*\.pdf)"', job).group(1)
    pdf = client.get(unescape(pdf_link)).data
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Ошская область" in pdf_text and "Чуйская область" not in pdf_text
