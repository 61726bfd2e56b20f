"""Reports: the host's indicators against a fixed data set, filters, drill-downs, scope,
downloads, bad filters and who may see the page.

The data set (``world``) is small enough to count by hand; the expected figures are written
out in the docstrings, and each filter is also checked against plain Python over the
records (``_expected_people``), independent of the SQL under test.
"""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from lms.accounts.roles import PARTICIPANT, STUDENT
from lms.cohorts.models import CLASS, TOT, Cohort, Membership
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.progress.models import ProgressRecord
from lms.progress.rules import COHORT_ITEM_TYPE
from lms.reports.host import STUDENTS_ID, TOT_ID
from tests import factories
from tests.reports import (
    CHUY_WORDS,
    build_world,
    by_label,
    drill,
    read_csv,
    row,
    sexes,
    tables,
)


@pytest.fixture
def world(app) -> dict[str, Any]:
    return build_world()


def _label_starting(table, prefix: str) -> dict[str, Any]:
    [found] = [r for r in table.rows if r.label.startswith(prefix)]
    return dict(found.values)


# --- the figures, by hand ------------------------------------------------------------------


def test_tot_participants_in_2025_counted_by_hand(world):
    """2025: Osh ToT 2025 (Aida, Bermet, Chyngyz; Aida and Chyngyz completed) and Chuy ToT
    2025 (Elmira, Farid, Ruslan; Elmira completed). Osh ToT 2026 is outside the year."""
    found = tables(TOT_ID, world["admin"], year=2025)
    by_region = found["by_region"]
    assert sexes(row(by_region, "Osh Region"), "trained_") == (2, 1, 3)
    assert sexes(row(by_region, "Osh Region"), "completed_") == (1, 1, 2)
    assert sexes(row(by_region, "Chuy Region"), "trained_") == (1, 2, 3)
    assert sexes(row(by_region, "Chuy Region"), "completed_") == (1, 0, 1)
    assert sexes(row(by_region, "Total"), "trained_") == (3, 3, 6)
    assert sexes(row(by_region, "Total"), "completed_") == (2, 1, 3)
    by_manual = found["by_manual"]
    assert list(by_label(by_manual)) == ["Health Basics", "Total"]
    assert sexes(row(by_manual, "Health Basics"), "trained_") == (3, 3, 6)
    by_cohort = found["by_cohort"]
    assert sexes(_label_starting(by_cohort, "Osh ToT 2025"), "trained_") == (2, 1, 3)
    assert sexes(_label_starting(by_cohort, "Chuy ToT 2025"), "completed_") == (1, 0, 1)
    assert not [r for r in by_cohort.rows if r.label.startswith("Osh ToT 2026")]


def test_a_person_in_two_cohorts_counts_once_per_row(world):
    """All time in Osh region: Aida took both Osh ToTs. The cohort rows add up to five
    places, the region row counts four people (Aida, Bermet; Chyngyz, Daniyar)."""
    found = tables(TOT_ID, world["admin"], region=world["osh"].id)
    by_cohort = found["by_cohort"]
    assert sum(r.values["trained_total"] for r in by_cohort.rows if not r.total) == 5
    assert sexes(row(by_cohort, "Total"), "trained_") == (2, 2, 4)
    assert sexes(row(found["by_region"], "Osh Region"), "trained_") == (2, 2, 4)
    assert sexes(row(found["by_region"], "Osh Region"), "completed_") == (1, 2, 3)


def test_students_reached_in_2025_counted_by_hand(world):
    """2025: Nur class (Kanykei, Leila, Marat), Ilim class (Kanykei, Nurlan; ends May 2025),
    Iman class (Olga, Pavel). Kanykei is in two Osh madrasas and counts once for Osh."""
    found = tables(STUDENTS_ID, world["admin"], year=2025)
    assert sexes(row(found["by_region"], "Osh Region")) == (2, 2, 4)
    assert sexes(row(found["by_region"], "Chuy Region")) == (1, 1, 2)
    assert sexes(row(found["by_region"], "Total")) == (3, 3, 6)
    assert sexes(row(found["by_madrasa"], "Nur (Osh Region)")) == (2, 1, 3)
    assert sexes(row(found["by_madrasa"], "Ilim (Osh Region)")) == (1, 1, 2)
    assert sexes(row(found["by_madrasa"], "Iman (Chuy Region)")) == (1, 1, 2)
    in_2024 = tables(STUDENTS_ID, world["admin"], year=2024)
    assert list(by_label(in_2024["by_madrasa"])) == ["Ilim (Osh Region)", "Total"]


# --- every filter, against plain Python over the records ----------------------------------


def _expected_people(world, kind: str, role: str, args: dict[str, Any], who: bool = False) -> Any:
    """Distinct people by sex in cohorts of ``kind`` matching ``args``, in plain Python
    (with ``who``: the people themselves, user id → sex)."""
    start, end = args.get("start"), args.get("end")
    if "year" in args:
        start, end = date(args["year"], 1, 1), date(args["year"], 12, 31)
    found: dict[int, str] = {}
    for cohort in world["cohorts"].values():
        region_id = cohort.region_id or cohort.madrasa.region_id
        if cohort.kind != kind:
            continue
        if start and (cohort.ends_on or cohort.starts_on) < start:
            continue
        if end and cohort.starts_on > end:
            continue
        if "region" in args and region_id != args["region"]:
            continue
        if "madrasa" in args and cohort.madrasa_id != args["madrasa"]:
            continue
        if "manual" in args and cohort.manual != args["manual"]:
            continue
        if "cohort" in args and cohort.id != args["cohort"]:
            continue
        for membership in db.session.scalars(
            select(Membership).where(Membership.cohort_id == cohort.id, Membership.role == role)
        ):
            found[membership.user_id] = membership.user.sex
    if who:
        return found
    counts = {"female": 0, "male": 0}
    for sex in found.values():
        counts[sex] += 1
    return {**counts, "total": len(found)}


FILTERS = [
    {},
    {"year": 2025},
    {"year": 2026},
    {"start": date(2025, 4, 1), "end": date(2025, 6, 30)},
    {"region": "osh"},
    {"region": "chuy", "year": 2025},
    {"madrasa": "Nur"},
    {"manual": "health-basics"},
    {"manual": "civic-education", "region": "osh"},
    {"cohort": "Osh ToT 2025"},
    {"cohort": "Ilim class"},
]


def _resolve(world, args: dict[str, Any]) -> dict[str, Any]:
    resolved = dict(args)
    if "region" in args:
        resolved["region"] = world[args["region"]].id
    if "madrasa" in args:
        resolved["madrasa"] = world["places"][args["madrasa"]].id
    if "cohort" in args:
        resolved["cohort"] = world["cohorts"][args["cohort"]].id
    return resolved


@pytest.mark.parametrize("args", FILTERS, ids=lambda a: ",".join(a) or "none")
def test_each_filter_changes_the_totals_as_the_records_say(world, args):
    resolved = _resolve(world, args)
    query = {k: v.isoformat() if isinstance(v, date) else v for k, v in resolved.items()}
    tot_total = row(tables(TOT_ID, world["admin"], **query)["by_region"], "Total")
    expected = _expected_people(world, TOT, PARTICIPANT, resolved)
    assert sexes(tot_total, "trained_") == (expected["female"], expected["male"], expected["total"])
    students_total = row(tables(STUDENTS_ID, world["admin"], **query)["by_region"], "Total")
    expected = _expected_people(world, CLASS, STUDENT, resolved)
    assert sexes(students_total) == (expected["female"], expected["male"], expected["total"])


def _more_memberships(world) -> None:
    """People counted once per row though counted in several: Kanykei also in a second Nur
    class (twice in one madrasa) and in an Iman class (a second region); Olga also in the
    second Nur class; Aida also in a Chuy ToT (a second region); Bermet in two Osh ToTs."""
    places, people = world["places"], world["people"]
    nur_2026 = factories.cohort(
        CLASS,
        name="Nur class 2026",
        place=places["Nur"],
        starts_on=date(2026, 1, 10),
        ends_on=date(2026, 6, 30),
        manual="health-basics",
    )
    iman_2026 = factories.cohort(
        CLASS,
        name="Iman class 2026",
        place=places["Iman"],
        starts_on=date(2026, 2, 1),
        ends_on=date(2026, 6, 30),
        manual="civic-education",
    )
    chuy_tot = factories.cohort(
        TOT,
        name="Chuy ToT 2026",
        region=world["chuy"],
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 4, 3),
        manual="civic-education",
        completion_rule="marked-complete",
    )
    for group, names, role in (
        (nur_2026, ["Kanykei", "Olga", "Marat"], STUDENT),
        (iman_2026, ["Kanykei", "Leila"], STUDENT),
        (chuy_tot, ["Aida", "Farid"], PARTICIPANT),
        (world["cohorts"]["Osh ToT 2026"], ["Bermet"], PARTICIPANT),
    ):
        for name in names:
            factories.member(group, people[name], role)
    world["cohorts"].update(
        {"Nur class 2026": nur_2026, "Iman class 2026": iman_2026, "Chuy ToT 2026": chuy_tot}
    )
    db.session.commit()


def _expected_rows(world, kind: str, role: str, args: dict[str, Any], level: str):
    """Row key → (female, male, total) distinct people, in plain Python, per ``level``:
    ``madrasa``, ``region``, ``cohort`` or ``manual`` (``{}``: the total row)."""
    people: dict[Any, dict[int, str]] = {(): {}}  # the total row is always there
    for cohort in world["cohorts"].values():
        if args.get("cohort", cohort.id) != cohort.id:
            continue
        one = _expected_people(world, kind, role, {**args, "cohort": cohort.id}, who=True)
        if not one:
            continue
        region_id = cohort.region_id or cohort.madrasa.region_id
        value = {
            "madrasa": cohort.madrasa_id,
            "region": region_id,
            "cohort": cohort.id,
            "manual": cohort.manual or "-",
        }[level]
        for key in ({level: str(value)}, {}):
            people.setdefault(tuple(key.items()), {}).update(one)
    return {
        key: (
            sum(s == "female" for s in found.values()),
            sum(s == "male" for s in found.values()),
            len(found),
        )
        for key, found in people.items()
    }


def _found_rows(table, prefix: str = "") -> dict[Any, tuple[Any, Any, Any]]:
    return {tuple(r.key.items()): sexes(r.values, prefix) for r in table.rows}


@pytest.mark.parametrize("args", FILTERS, ids=lambda a: ",".join(a) or "none")
def test_every_row_counts_each_person_once_as_the_records_say(world, args):
    """Every row of both indicators (not just the totals) against plain Python, with people
    in two classes of one madrasa and in cohorts of two regions; the viewer sees all."""
    _more_memberships(world)
    resolved = _resolve(world, args)
    query = {k: v.isoformat() if isinstance(v, date) else v for k, v in resolved.items()}
    students = tables(STUDENTS_ID, world["admin"], **query)
    for table_id, level in (("by_madrasa", "madrasa"), ("by_region", "region")):
        expected = _expected_rows(world, CLASS, STUDENT, resolved, level)
        assert _found_rows(students[table_id]) == expected, table_id
    tot = tables(TOT_ID, world["admin"], **query)
    for table_id, level in (
        ("by_cohort", "cohort"),
        ("by_region", "region"),
        ("by_manual", "manual"),
    ):
        expected = _expected_rows(world, TOT, PARTICIPANT, resolved, level)
        found = _found_rows(tot[table_id], "trained_")
        # a ToT cohort without participants in the filters still has its (empty) row
        empty = {k: v for k, v in found.items() if k and v == (0, 0, 0)}
        assert {k: v for k, v in found.items() if k not in empty} == expected, table_id


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_figure_drills_to_as_many_people(world, year):
    """With people counted in several rows, each row's figures (by sex and in all) equal
    the number of people its drill-down lists; completed ToT figures too."""
    _more_memberships(world)
    admin = world["admin"]
    checks = [
        (STUDENTS_ID, "by_madrasa", ""),
        (STUDENTS_ID, "by_region", ""),
        (TOT_ID, "by_cohort", "trained_"),
        (TOT_ID, "by_region", "trained_"),
        (TOT_ID, "by_manual", "completed_"),
    ]
    for indicator_id, table_id, prefix in checks:
        for figure in tables(indicator_id, admin, year=year)[table_id].rows:
            base = dict(figure.key)
            if prefix == "completed_":
                base["completed"] = "1"
            for sex, column in (("female", "female"), ("male", "male"), (None, "total")):
                key = {**base, **({"sex": sex} if sex else {})}
                text = ",".join(f"{k}:{v}" for k, v in key.items())
                listed = drill(indicator_id, table_id, text, admin, year=year).total
                assert listed == figure.values[prefix + column], (table_id, figure.label, key)


def test_the_figures_of_a_viewer_limited_to_a_region(world):
    """An Osh officer: Kanykei, in Osh and Chuy classes, counts for Osh and in the total
    only through her Osh classes; Aida is trained once in Osh's total."""
    _more_memberships(world)
    officer = factories.user("monitor", scope=world["osh"])
    db.session.commit()
    students = tables(STUDENTS_ID, officer, year=2026)
    assert list(by_label(students["by_region"])) == ["Osh Region", "Total"]
    assert sexes(row(students["by_madrasa"], "Nur (Osh Region)")) == (3, 1, 4)
    assert sexes(row(students["by_region"], "Total")) == (3, 1, 4)
    tot = tables(TOT_ID, officer, year=2026)
    assert sexes(row(tot["by_region"], "Total"), "trained_") == (2, 1, 3)


def test_a_class_placed_in_another_region_than_its_madrasa_counts_once_there(world):
    """A class given a region of its own (the services never do; the schema allows it):
    its madrasa then has classes in two regions, and a person in both counts once for the
    madrasa, once in each region and once in all."""
    places, people = world["places"], world["people"]
    elsewhere = factories.cohort(
        CLASS,
        name="Nur class in Chuy",
        place=places["Nur"],
        region=world["chuy"],
        starts_on=date(2025, 10, 1),
        ends_on=date(2026, 3, 1),
    )
    for name in ("Kanykei", "Marat", "Olga"):
        factories.member(elsewhere, people[name], STUDENT)
    db.session.commit()
    found = tables(STUDENTS_ID, world["admin"], year=2025)
    assert sexes(row(found["by_madrasa"], "Nur (Osh Region)")) == (3, 1, 4)
    assert sexes(row(found["by_region"], "Osh Region")) == (2, 2, 4)
    assert sexes(row(found["by_region"], "Chuy Region")) == (2, 2, 4)
    assert sexes(row(found["by_region"], "Total")) == (3, 3, 6)


# --- completion ---------------------------------------------------------------------------


def _complete_behind_the_ledgers_back(world, cohort_name: str, person: str) -> None:
    """A completion written without the ORM (as a bulk import would): the snapshot of that
    cohort's completion is not refreshed, so it falls behind the ledger."""
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == cohort_name))
    db.session.execute(
        insert(ProgressRecord),
        [
            {
                "user_id": world["people"][person].id,
                "cohort_id": cohort.id,
                "item_type": COHORT_ITEM_TYPE,
                "item_id": str(cohort.id),
                "outcome": "completed",
                "source": "bulk",
                "details": {},
            }
        ],
    )
    db.session.commit()


def test_completion_snapshots_follow_the_ledger(make_app, world):
    """Marking someone complete updates the figures at once (the snapshot is refreshed in
    the same transaction); a snapshot that fell behind is re-evaluated by the page."""
    osh_id = world["osh"].id
    by_cohort = tables(TOT_ID, None, region=osh_id)["by_cohort"]
    assert sexes(_label_starting(by_cohort, "Osh ToT 2026"), "completed_") == (0, 1, 1)

    _complete_behind_the_ledgers_back(world, "Osh ToT 2026", "Aida")
    found = tables(TOT_ID, None, region=osh_id)
    assert sexes(_label_starting(found["by_cohort"], "Osh ToT 2026"), "completed_") == (1, 1, 2)
    assert not found["by_cohort"].note


def test_only_a_few_snapshots_are_re_evaluated_on_a_page(make_app, world):
    """With room for one re-evaluation, the other cohort that fell behind is shown as of its
    last evaluation, and a note says so; the donor report re-evaluates every cohort."""
    osh_id = world["osh"].id
    _complete_behind_the_ledgers_back(world, "Osh ToT 2025", "Bermet")
    _complete_behind_the_ledgers_back(world, "Osh ToT 2026", "Aida")
    limited = make_app({"REPORTS_COMPLETION_COHORTS": 1})
    with limited.app_context():
        by_cohort = tables(TOT_ID, None, region=osh_id)["by_cohort"]
        older = _label_starting(by_cohort, "Osh ToT 2025")  # evaluated again (first in line)
        newer = _label_starting(by_cohort, "Osh ToT 2026")  # as of its last evaluation
        assert older["completed_total"] == 3 and newer["completed_total"] == 1
        assert "Completion of 1 ToT cohorts is as of their last evaluation" in str(by_cohort.note)


# --- the page, drill-downs and downloads -----------------------------------------------------


def _page(client, **args) -> str:
    response = client.get("/reports/", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _section(page: str, indicator_id: str) -> str:
    return page.split(f'id="{indicator_id}"')[1].split("</section>")[0]


def _link(page: str, indicator_id: str, table_id: str, key: str) -> str:
    """The drill-down URL of the figure with ``key`` in a table of the page."""
    pattern = rf'href="({re.escape(indicator_id)}/{table_id}/{re.escape(key)}\?[^"]*)"'
    found = re.search(pattern, page)
    assert found, f"no figure links to {key}"
    return "/reports/" + unescape(found.group(1))


def _names(page: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]*)</th>', page)


def _indicator_page(client, indicator_id: str, **args) -> str:
    response = client.get(f"/reports/{indicator_id}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_page_shows_each_indicators_totals_and_links_its_breakdowns(world, client):
    factories.login(client, world["admin"])
    page = _page(client, year=2025)
    tot = _section(page, TOT_ID)
    assert 'class="total"' in tot and "Osh Region" not in tot  # totals here…
    # …and every breakdown on the indicator's own page
    assert re.search(
        rf'href="/reports/{re.escape(TOT_ID)}\?[^"#]*#{re.escape(TOT_ID)}-by_region"', tot
    )
    details = _indicator_page(client, TOT_ID, year=2025)
    assert "Osh Region" in details and "<svg" in details  # breakdowns with their charts


def test_drilling_into_a_figure_lists_exactly_the_people_counted(world, client):
    osh = world["osh"]
    factories.login(client, world["admin"])
    page = _indicator_page(client, TOT_ID, year=2025)
    records = client.get(_link(page, TOT_ID, "by_region", f"region:{osh.id},sex:female"))
    text = records.get_data(as_text=True)
    assert records.status_code == 200
    assert _names(text) == ["Aida", "Bermet"]
    assert "2 records are counted in this figure." in text
    completed = client.get(
        _link(page, TOT_ID, "by_region", f"completed:1,region:{osh.id},sex:male")
    ).get_data(as_text=True)
    assert _names(completed) == ["Chyngyz"]
    page = _indicator_page(client, STUDENTS_ID, year=2025)
    students = client.get(_link(page, STUDENTS_ID, "by_region", f"region:{osh.id}"))
    assert _names(students.get_data(as_text=True)) == ["Kanykei", "Leila", "Marat", "Nurlan"]


def test_the_drill_down_states_its_cap(make_app, world):
    capped = make_app({"REPORTS_DRILL_LIMIT": 2})
    with capped.app_context():
        client = capped.test_client()
        factories.login(client, world["admin"])
        text = client.get("/reports/lms.students_reached/by_region/all").get_data(as_text=True)
    assert len(_names(text)) == 2
    assert "6 records are counted in this figure." in text
    assert "The first 2 are listed here" in text


def test_every_figure_on_the_page_and_its_table_pages_opens(world, client):
    factories.login(client, world["admin"])
    page = _page(client, year=2025)
    figure = r'href="([\w.]+/\w+/[\w:,.-]+\?[^"]*)"'
    links = [unescape(h) for h in re.findall(figure, page)]
    indicators = set(re.findall(r'href="/reports/([\w.]+)\?[^"]*"', page)) - {"report.xlsx"}
    assert len(indicators) >= 8
    tables: set[str] = set()
    for indicator in sorted(indicators):
        details = _indicator_page(client, indicator, year=2025)
        links += [unescape(h) for h in re.findall(figure, details)]
        tables |= set(re.findall(r'href="/reports/([\w.]+/\w+)\?[^"]*"', details))
    for table in sorted(tables):
        whole = client.get(f"/reports/{table}", query_string={"year": 2025})
        assert whole.status_code == 200, table
        indicator = table.split("/")[0]
        links += [
            f"{indicator}/{unescape(h)}"
            for h in re.findall(r'href="(\w+/[\w:,.-]+\?[^"]*)"', whole.get_data(as_text=True))
        ]
    assert len(links) > 50
    for link in links:
        assert client.get("/reports/" + link).status_code == 200, link


def test_csv_of_a_table_opens_in_excel_and_matches_the_page(world, client):
    factories.login(client, world["admin"])
    response = client.get(f"/reports/{STUDENTS_ID}/by_madrasa.csv", query_string={"year": 2025})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        'filename="lms-students_reached-by_madrasa-2025-01-01-2025-12-31.csv"'
        in (response.headers["Content-Disposition"])
    )
    assert read_csv(response.data) == [
        ["Madrasa", "Female", "Male", "Total"],
        ["Iman (Chuy Region)", "1", "1", "2"],
        ["Ilim (Osh Region)", "1", "1", "2"],
        ["Nur (Osh Region)", "2", "1", "3"],
        ["Total", "3", "3", "6"],
    ]


def test_csv_cells_never_become_spreadsheet_formulas(world, client):
    world["places"]["Nur"].name = "=HYPERLINK(1)"
    db.session.commit()
    factories.login(client, world["admin"])
    rows = read_csv(client.get(f"/reports/{STUDENTS_ID}/by_madrasa.csv").data)
    assert ["'=HYPERLINK(1) (Osh Region)", "2", "1", "3"] in rows


def test_xlsx_has_the_filters_definitions_and_one_sheet_per_table(world, client):
    factories.login(client, world["admin"])
    response = client.get("/reports/report.xlsx", query_string={"year": 2025})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    first = book.worksheets[0]
    cells = [[c.value for c in r] for r in first.iter_rows()]
    assert ["Period", "Jan 1, 2025 – Dec 31, 2025"] in cells
    assert any(r[0] == "Students reached" and "enrolled as students" in r[1] for r in cells)
    titles = book.sheetnames
    assert len(titles) == 1 + sum(1 for _ in _all_tables(world))
    sheet = book[next(t for t in titles if t.startswith("2.1 Students reached"))]
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert ["Region", "Female", "Male", "Total"] in values
    assert ["Osh Region", 2, 2, 4] in values and ["Total", 3, 3, 6] in values


def _all_tables(world):
    from lms.reports import service
    from tests.reports import filters_for

    filters = filters_for(world["admin"], year=2025)
    for result in service.build_report(filters):
        yield from result.tables


# --- scope ----------------------------------------------------------------------------------


def test_an_osh_officer_never_sees_chuy_in_page_drill_down_or_files(world, client):
    officer = factories.user("monitor", scope=world["osh"])
    db.session.commit()
    factories.login(client, officer)
    page = _page(client)
    assert "Osh Region" in page and "Aida" not in page
    for word in CHUY_WORDS:
        assert word not in page, word
    assert sexes(row(tables(STUDENTS_ID, officer)["by_region"], "Total")) == (2, 2, 4)
    everyone = client.get("/reports/lms.tot_participants/by_region/all").get_data(as_text=True)
    assert _names(everyone) == ["Aida", "Bermet", "Chyngyz", "Daniyar"]
    chuy_key = f"region:{world['chuy'].id}"
    chuy = client.get(f"/reports/lms.students_reached/by_region/{chuy_key}")
    assert chuy.status_code == 200 and _names(chuy.get_data(as_text=True)) == []
    assert client.get("/reports/", query_string={"region": world["chuy"].id}).status_code == 400
    files = [
        client.get(f"/reports/{TOT_ID}/by_cohort.csv").data.decode("utf-8-sig"),
        client.get(f"/reports/{STUDENTS_ID}/by_madrasa.csv").data.decode("utf-8-sig"),
    ]
    book = load_workbook(io.BytesIO(client.get("/reports/report.xlsx").data))
    files.append(
        " ".join(str(c.value) for sheet in book.worksheets for r in sheet.iter_rows() for c in r)
    )
    for text in files:
        assert "Osh" in text
        for word in CHUY_WORDS:
            assert word not in text, word


def test_a_madrasa_officer_sees_that_madrasa_and_no_tot(world):
    officer = factories.user("monitor", scope=world["places"]["Iman"])
    db.session.commit()
    students = tables(STUDENTS_ID, officer)
    assert list(by_label(students["by_madrasa"])) == ["Iman (Chuy Region)", "Total"]
    assert sexes(row(students["by_region"], "Total")) == (1, 1, 2)
    assert sexes(row(tables(TOT_ID, officer)["by_region"], "Total"), "trained_") == (0, 0, 0)


# --- bad filters and access -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"start": "2026-13-01"}, "start", "Not a valid date value."),
        ({"year": "twenty"}, "year", "Not a valid integer value."),
        ({"year": "1812"}, "year", "Choose a year from 2000 to 2100."),
        ({"year": "2025", "start": "2025-02-01"}, "year", "Choose a year or dates, not both."),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "end", "The end comes before the start."),
        ({"region": "abc"}, "region", "Invalid Choice: could not coerce."),
        ({"region": "99999"}, "region", "Not a valid choice."),
        ({"manual": "astronomy"}, "manual", "Not a valid choice."),
        ({"cohort": "99999"}, "cohort", "Choose a cohort you may see"),
        ({"madrasa": "Iman", "region": "osh"}, "madrasa", "This madrasa is not in the region."),
    ],
)
def test_a_bad_filter_answers_400_with_the_message_by_its_field(
    world, client, args, field, message
):
    if args.get("madrasa") == "Iman":
        args = {**args, "madrasa": world["places"]["Iman"].id, "region": world["osh"].id}
    factories.login(client, world["admin"])
    response = client.get("/reports/", query_string=args)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    errors = text.split(f'id="{field}-errors"')[1].split("</ul>")[0]
    assert message in unescape(errors) and errors.count("<li>") == 1
    assert 'aria-invalid="true"' in text
    for download in ("/reports/report.xlsx", f"/reports/{TOT_ID}/by_region.csv"):
        assert client.get(download, query_string=args).status_code == 400


def test_bad_drill_downs_answer_400_or_404(world, client):
    factories.login(client, world["admin"])
    assert client.get(f"/reports/{TOT_ID}/by_region/region:x").status_code == 400
    assert client.get(f"/reports/{TOT_ID}/by_region/planet:3").status_code == 400
    assert client.get(f"/reports/{TOT_ID}/by_region/sex:other").status_code == 400
    assert client.get(f"/reports/{TOT_ID}/by_region/a:b:c").status_code == 400
    assert client.get("/reports/no.such/by_region/all").status_code == 404
    assert client.get(f"/reports/{TOT_ID}/no_such.csv").status_code == 404


def test_visitors_are_sent_to_log_in_and_teachers_are_refused(world, client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    teacher = factories.user("teacher")
    db.session.commit()
    factories.login(client, teacher)
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/{TOT_ID}/by_region.csv").status_code == 403
    assert client.get("/reports/report.xlsx").status_code == 403
    assert client.post("/reports/donor-report", data={"language": "en"}).status_code == 403
    assert 'href="/reports/"' not in client.get("/").get_data(as_text=True)


def test_monitoring_officers_find_reports_in_the_navigation(world, client):
    officer = factories.user("monitor")
    db.session.commit()
    factories.login(client, officer)
    assert 'href="/reports/"' in client.get("/").get_data(as_text=True)


def test_a_country_of_madrasas_is_listed_region_by_region(world, client):
    """With more madrasas than a select can sensibly hold, they are listed once a region is
    chosen; one chosen by its address is still offered, and an unknown one is refused."""
    osh = world["osh"]
    for n in range(61):
        factories.madrasa(f"Extra madrasa {n}", region_code="chuy")
    db.session.commit()
    factories.login(client, world["admin"])
    page = _page(client)
    assert "Extra madrasa 1 " not in page and "Choose a region first" in page
    in_osh = _page(client, region=osh.id)
    assert "Extra madrasa" not in in_osh and "Nur (" in in_osh
    some = db.session.scalar(select(Madrasa.id).where(Madrasa.name == "Extra madrasa 7"))
    chosen = _page(client, madrasa=some)
    assert "Extra madrasa 7 (" in chosen
    assert client.get("/reports/", query_string={"madrasa": 999999}).status_code == 400
