"""A monitoring officer records a visit and reads the programme's figures, on a desktop,
in English, Russian and Kyrgyz.

He records a visit to a madrasa in Osh region with the keyboard alone (date, class and
module observed, part of the checklist, findings, follow-up actions), then opens the report
page, narrows it to Osh region and one year, reads the counts split by sex, follows one
figure to the people it counts, and downloads every table as an XLSX workbook and the
donor report as a PDF (made by a background job).
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.models import TOT, Cohort, Membership
from lms.extensions import db
from lms.organisations.models import Madrasa, Region
from tests.e2e.harness import LANGUAGES, fill_by_keyboard, log_in, tab_to

pytestmark = pytest.mark.slow

#: WeasyPrint builds the donor report in a background job: seconds on a small machine.
JOB_TIMEOUT_MS = 120_000


def _arrange(site: Any) -> dict[str, Any]:
    """The ids and names the journey needs, and the figures it should find for Osh region."""
    with site.app.app_context():
        osh = db.session.scalar(select(Region).where(Region.code == "osh-region"))
        assert osh is not None
        madrasa = db.session.scalar(
            select(Madrasa).where(Madrasa.region_id == osh.id).order_by(Madrasa.id)
        )
        tot = db.session.scalar(
            select(Cohort).where(Cohort.kind == TOT, Cohort.region_id == osh.id)
        )
        assert madrasa is not None and tot is not None, "the demo data has both in Osh region"
        participants = db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == tot.id, Membership.role == "participant")
        ).all()
        ids = {
            "osh": osh.id,
            "madrasa": madrasa.id,
            "madrasa_name": madrasa.name,
            "year": tot.starts_on.year,
            "female": sorted(u.name for u in participants if u.sex == "female"),
            "male": sorted(u.name for u in participants if u.sex == "male"),
        }
        db.session.remove()
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_monitoring_officer_records_a_visit_and_reads_the_figures(
    demo_site: Any, open_journey: Any, language: str
) -> None:
    site = demo_site(language)
    ids = _arrange(site)
    year = ids["year"]
    # A day of the demo year, so the visit counts in the year the report is filtered to. A
    # date field orders its parts as the browser's own language does (month first in US
    # English, day first in most others): a day equal to its month types the same in both.
    visited = date(year, 10, 10)
    journey, page = open_journey("monitor", site, language)

    log_in(page, site.url, "monitor")
    journey.check(page, "home")

    # A monitoring visit: choose the madrasa, then fill the form with the keyboard alone.
    page.goto(journey.url("/lessons/visits"))
    journey.check(page, "visits")
    page.click("main a[href='/lessons/visits/new']")
    page.select_option("#madrasa", str(ids["madrasa"]))
    page.click("form[action='/lessons/visits/new'] button[type=submit]")
    expect(page.locator("#visited_on")).to_be_visible()
    journey.check(page, "visit-form")

    tab_to(page, "#visited_on")
    page.keyboard.type(visited.strftime("%d%m%Y"))
    assert page.input_value("#visited_on") == visited.isoformat()
    tab_to(page, "#visitors")
    page.keyboard.type("Aida Bekova, district education officer")
    tab_to(page, "#cohort_id")
    page.keyboard.press("ArrowDown")  # the madrasa's class
    tab_to(page, "#module_version_id")
    page.keyboard.press("ArrowDown")  # its first module
    # A radio group takes the focus on its checked button ("Not observed"); arrows move on.
    for item, steps in (("lesson_plan", 4), ("uses_manual", 3), ("interactive_methods", 2)):
        tab_to(page, f"input[name=score_{item}]:checked")
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
    fill_by_keyboard(
        page,
        [
            ("#findings", "The lesson followed the manual; pair work went well."),
            ("#follow_ups", "Share the pair-work cards with the other teacher by Friday."),
        ],
        submit="main form[method=post] button[type=submit]",
    )
    page.wait_for_url(re.compile(r"/lessons/visits/\d+$"))
    main = page.locator("main")
    expect(main).to_contain_text(ids["madrasa_name"])
    expect(main).to_contain_text("Aida Bekova, district education officer")
    expect(main).to_contain_text("pair work went well")
    journey.check(page, "visit-saved")
    page.goto(journey.url("/lessons/visits"))
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator("main tbody tr")).to_contain_text(ids["madrasa_name"])

    # The report page, narrowed to Osh region and one year.
    page.click("header nav a[href='/reports/']")
    journey.check(page, "reports")
    page.fill("#year", str(year))
    page.select_option("#region", str(ids["osh"]))
    page.click("form.report-filters button[type=submit]")
    page.wait_for_url(re.compile(rf"region={ids['osh']}"))
    journey.check(page, "reports-osh")
    trained = "a[href^='lms.tot_participants/by_region/{}?']"
    female, male = len(ids["female"]), len(ids["male"])
    expect(page.locator(trained.format("sex:female"))).to_have_text(str(female))
    expect(page.locator(trained.format("sex:male"))).to_have_text(str(male))
    expect(page.locator(trained.format("all"))).to_have_text(str(female + male))
    expect(page.locator("#lessons\\.visits table")).to_contain_text("1")

    # Drill into one figure: the women among the trained participants.
    page.click(trained.format("sex:female"))
    page.wait_for_url(re.compile(r"/reports/lms\.tot_participants/by_region/sex:female"))
    journey.check(page, "drill-down")
    for name in ids["female"]:
        expect(page.locator("main")).to_contain_text(name)
    for name in ids["male"]:
        expect(page.locator("main")).not_to_contain_text(name)
    page.go_back()

    # The indicator's own page: its breakdowns (by region, by cohort, by manual) with charts.
    page.click("#lms\\.tot_participants-h a")
    page.wait_for_url(re.compile(r"/reports/lms\.tot_participants\?"))
    journey.check(page, "indicator")
    expect(page.locator("main table").first).to_contain_text(str(female + male))
    page.go_back()

    # Every table as a workbook: it opens, and holds the figures the page showed.
    with page.expect_download() as download:
        page.click("main a[href^='/reports/report.xlsx?']")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = [row for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    assert (female, male, female + male) in {tuple(row[1:4]) for row in rows if len(row) > 3}

    # The donor report: a background job, then its PDF.
    page.click("form[action^='/reports/donor-report'] button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    expect(page.locator("progress.progress")).to_have_attribute(
        "value", "100", timeout=JOB_TIMEOUT_MS
    )
    journey.check(page, "donor-report")
    with page.expect_download() as download:
        page.click("main a[download][href$='.pdf']")
    assert download.value.path().read_bytes().startswith(b"%PDF")
