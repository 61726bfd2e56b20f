"""Helpers for report tests: compute an indicator as a viewer would, read tables, count SQL.

Not tests themselves; the host's and the plugins' report tests import them.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event

from lms.accounts.models import User
from lms.accounts.roles import PARTICIPANT, STUDENT, TEACHER, TRAINER
from lms.cohorts.models import CLASS, TOT, Cohort
from lms.extensions import db
from lms.progress import api as progress
from lms.progress.rules import COHORT_ITEM_TYPE
from lms.reports import service
from lms.reports.filters import parse_filters
from lms.reports.indicators import DrillPage, ReportFilters, Table, parse_drill_key
from tests import factories
from tests.curriculum import helpers as manuals


def filters_for(user: User | None = None, **args: Any) -> ReportFilters:
    """The filters ``user`` (a new global admin by default) gets for these arguments."""
    viewer = user or factories.user("admin")
    parsed = parse_filters({k: str(v) for k, v in args.items()}, viewer)
    assert parsed.filters is not None, {f.name: f.errors for f in parsed.form if f.errors}
    return parsed.filters


def tables(indicator_id: str, user: User | None = None, **args: Any) -> dict[str, Table]:
    """An indicator's tables by id, computed under the filters for ``user``."""
    result = service.compute(service.get_indicator(indicator_id), filters_for(user, **args))
    return {table.id: table for table in result.tables}


def drill(
    indicator_id: str, table_id: str, key: str, user: User | None = None, **args: Any
) -> DrillPage:
    """The records behind a figure (in a request context: rows may link to pages)."""
    filters = filters_for(user, **args)
    with current_app.test_request_context():
        return service.drill(
            service.get_indicator(indicator_id), filters, table_id, parse_drill_key(key), 500
        )


def cells(page: DrillPage, column: int) -> list[Any]:
    """One column of a drill-down, links as their text."""
    return [getattr(r[column], "text", r[column]) for r in page.rows]


def by_label(table: Table) -> dict[str, dict[str, Any]]:
    """Row label → column id → value."""
    return {row.label: dict(row.values) for row in table.rows}


def row(table: Table, label: str) -> dict[str, Any]:
    return by_label(table)[label]


def sexes(values: dict[str, Any], prefix: str = "") -> tuple[Any, Any, Any]:
    """(female, male, total) of a row's values."""
    return (values[f"{prefix}female"], values[f"{prefix}male"], values[f"{prefix}total"])


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@contextlib.contextmanager
def count_statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


# --- a fixed data set --------------------------------------------------------------------

# name → sex of everyone in the data set
PEOPLE = {
    "Aida": "female",
    "Bermet": "female",
    "Chyngyz": "male",
    "Daniyar": "male",
    "Elmira": "female",
    "Farid": "male",
    "Ruslan": "male",
    "Kanykei": "female",
    "Leila": "female",
    "Marat": "male",
    "Nurlan": "male",
    "Olga": "female",
    "Pavel": "male",
}


def build_world() -> dict[str, Any]:
    """Three ToT cohorts and three classes in Osh and Chuy regions, 2024 to 2026.

    ToT (marked-complete rule)   dates            manual  participants (completed*)
      Osh ToT 2025   Osh         2025-03-10..12   health  Aida*, Bermet, Chyngyz*
      Osh ToT 2026   Osh         2026-04-01..03   civic   Aida, Daniyar*
      Chuy ToT 2025  Chuy        2025-05-05..07   health  Elmira*, Farid, Ruslan
    Classes                       dates                    manual  students
      Nur class   Nur (Osh)       2025-09-01..2026-05-31   civic   Kanykei, Leila, Marat
      Ilim class  Ilim (Osh)      2024-09-01..2025-05-31   health  Kanykei, Nurlan
      Iman class  Iman (Chuy)     2025-09-01..2026-05-31   health  Olga, Pavel
    """
    for slug in ("health-basics", "civic-education"):
        manuals.manual(slug)  # the curriculum's manuals, for their titles
    osh, chuy = factories.region("osh-region"), factories.region("chuy")
    places = {
        "Nur": factories.madrasa("Nur", region_code="osh-region"),
        "Ilim": factories.madrasa("Ilim", region_code="osh-region"),
        "Iman": factories.madrasa("Iman", region_code="chuy"),
    }
    people = {name: factories.user(name=name, sex=sex) for name, sex in PEOPLE.items()}
    cohorts: dict[str, Cohort] = {}

    def tot(name, region, starts, manual, members, completed):
        group = factories.cohort(
            TOT,
            name=name,
            region=region,
            starts_on=starts,
            ends_on=starts + timedelta(days=2),
            manual=manual,
            completion_rule="marked-complete",
        )
        factories.member(group, factories.user(), TRAINER)
        for person in members:
            factories.member(group, people[person], PARTICIPANT)
        for person in completed:
            progress.record(
                user_id=people[person].id,
                cohort_id=group.id,
                item_type=COHORT_ITEM_TYPE,
                item_id=group.id,
                outcome="completed",
                source="test",
            )
        cohorts[name] = group

    def klass(name, place, starts, ends, manual, members):
        group = factories.cohort(
            CLASS, name=name, place=places[place], starts_on=starts, ends_on=ends, manual=manual
        )
        factories.member(group, factories.user(name=f"Teacher of {name}"), TEACHER)
        for person in members:
            factories.member(group, people[person], STUDENT)
        cohorts[name] = group

    tot("Osh ToT 2025", osh, date(2025, 3, 10), "health-basics", ["Aida", "Bermet", "Chyngyz"],
        ["Aida", "Chyngyz"])  # fmt: skip
    tot("Osh ToT 2026", osh, date(2026, 4, 1), "civic-education", ["Aida", "Daniyar"], ["Daniyar"])
    tot("Chuy ToT 2025", chuy, date(2025, 5, 5), "health-basics", ["Elmira", "Farid", "Ruslan"],
        ["Elmira"])  # fmt: skip
    klass("Nur class", "Nur", date(2025, 9, 1), date(2026, 5, 31), "civic-education",
          ["Kanykei", "Leila", "Marat"])  # fmt: skip
    klass("Ilim class", "Ilim", date(2024, 9, 1), date(2025, 5, 31), "health-basics",
          ["Kanykei", "Nurlan"])  # fmt: skip
    klass("Iman class", "Iman", date(2025, 9, 1), date(2026, 5, 31), "health-basics",
          ["Olga", "Pavel"])  # fmt: skip
    admin = factories.user("admin")
    db.session.commit()
    return {
        "osh": osh,
        "chuy": chuy,
        "places": places,
        "people": people,
        "cohorts": cohorts,
        "admin": admin,
    }


#: Words only the Chuy part of ``build_world`` has: an Osh-only officer never sees them.
CHUY_WORDS = ("Chuy", "Iman", "Elmira", "Farid", "Ruslan", "Olga", "Pavel")
