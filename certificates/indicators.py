"""The certificates plugin's report indicator: certificates issued, revoked and replaced.

What happened in the period, by the recipient's sex: certificates issued (a corrected
certificate that replaces another is issued too), certificates revoked, and certificates
replaced by a corrected one. One aggregate statement over the plugin's table, joined to
the host's ``ReportFilters.cohorts()`` (filters and the viewer's scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from certificates.models import REPLACED, REVOKED, Certificate
from certificates.views_register import STATUS_LABELS
from lms.accounts.models import User
from lms.errors import Invalid
from lms.extensions import db
from lms.reports.indicators import (
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    Link,
    ReportFilters,
    Row,
    Table,
    sex_columns,
    sex_values,
)

INDICATOR_ID = "certificates.issued"
EVENTS = ("issued", "revoked", "replaced")
EVENT_LABELS = {
    "issued": _l("Issued"),
    "revoked": _l("Revoked"),
    "replaced": _l("Replaced by a corrected certificate"),
}


def indicators() -> list[Indicator]:
    return [
        Indicator(
            INDICATOR_ID,
            _l("Certificates issued, revoked and replaced"),
            _l(
                "Issued: certificates issued in the period (the date of issue), including"
                " corrected certificates that replace an earlier one. Revoked: certificates"
                " revoked in the period. Replaced: certificates whose corrected replacement"
                " was issued in the period. By the recipient's sex; region is the region of"
                " the cohort the certificate was issued for."
            ),
            compute,
            drill,
            order=75,
        )
    ]


def _events(filters: ReportFilters) -> dict[str, Any]:
    """The condition of each event in the period, as SQL on a certificate row."""
    replacement = aliased(Certificate)
    replaced_in_period = (
        select(replacement.id)
        .where(replacement.replaces_id == Certificate.id, filters.at_times(replacement.issued_at))
        .exists()
    )
    return {
        "issued": filters.at_times(Certificate.issued_at),
        "revoked": and_(Certificate.status == REVOKED, filters.at_times(Certificate.revoked_at)),
        "replaced": and_(Certificate.status == REPLACED, replaced_in_period),
    }


def _columns() -> tuple[Column, ...]:
    """Issued by sex, then revoked and replaced in all (rare events: a split by sex would
    mostly show zeros and weigh on the page); each figure drills to its certificates."""
    issued = tuple(
        replace(column, drill={**column.drill, "event": "issued"})
        for column in sex_columns("issued_", EVENT_LABELS["issued"])
    )
    return (
        *issued,
        Column("revoked_total", EVENT_LABELS["revoked"], drill={"event": "revoked"}),
        Column("replaced_total", EVENT_LABELS["replaced"], drill={"event": "replaced"}),
    )


def compute(filters: ReportFilters) -> Sequence[Table]:
    cohorts = filters.cohorts(in_period=False)
    events = _events(filters)
    rows = db.session.execute(
        select(
            cohorts.c.id,
            cohorts.c.name,
            cohorts.c.region_id,
            User.sex,
            *(func.count(case((condition, 1))) for condition in events.values()),
        )
        .select_from(Certificate)
        .join(cohorts, cohorts.c.id == Certificate.cohort_id)
        .join(User, User.id == Certificate.recipient_id)
        .where(or_(*events.values()))
        .group_by(cohorts.c.id, cohorts.c.name, cohorts.c.region_id, User.sex)
    ).all()
    names = {row[0]: row[1] for row in rows}
    by_cohort: dict[int, dict[str, dict[str, int]]] = {}
    by_region: dict[Any, dict[str, dict[str, int]]] = {}
    total: dict[str, dict[str, int]] = {event: {} for event in EVENTS}
    region_of: dict[int, Any] = {}
    for cohort_id, _name, region_id, sex, *counts in rows:
        region_of[cohort_id] = region_id
        for event, count in zip(EVENTS, counts, strict=True):
            for target in (
                by_cohort.setdefault(cohort_id, {e: {} for e in EVENTS})[event],
                by_region.setdefault(region_id, {e: {} for e in EVENTS})[event],
                total[event],
            ):
                target[sex] = target.get(sex, 0) + int(count)

    def values(counts: dict[str, dict[str, int]]) -> dict[str, int]:
        merged: dict[str, int] = {}
        for event in EVENTS:
            merged.update(sex_values(counts[event], f"{event}_"))
        return merged

    columns = _columns()
    total_row = Row(str(_l("Total")), values(total), {}, total=True)
    region_rows = [
        Row(filters.labels.region(rid), values(by_region[rid]), {"region": str(rid)})
        for rid in filters.labels.regions
        if rid in by_region
    ]
    cohort_rows = [
        Row(names.get(cid, f"#{cid}"), values(counts), {"cohort": str(cid)})
        for cid, counts in sorted(by_cohort.items(), key=lambda item: names.get(item[0], ""))
    ]
    chart = Chart(("issued_female", "issued_male"), stacked=True)
    return [
        Table(
            "by_region",
            _l("By region"),
            _l("Region"),
            columns,
            (*region_rows, total_row),
            chart,
        ),
        Table("by_cohort", _l("By cohort"), _l("Cohort"), columns, (*cohort_rows, total_row)),
    ]


def drill(filters: ReportFilters, request: DrillRequest) -> DrillPage:
    """The certificates behind a figure: serial (linking to the certificate), name as
    printed, status and date of issue."""
    request.only("region", "cohort", "sex", "event")
    cohorts = filters.cohorts(in_period=False)
    events = _events(filters)
    event = request.get("event")
    if event is not None and event not in events:
        raise Invalid(_l("This figure cannot be opened."))
    query = (
        select(Certificate.id, Certificate.serial, Certificate.name_as_printed, Certificate.status)
        .add_columns(Certificate.issued_on)
        .select_from(Certificate)
        .join(cohorts, cohorts.c.id == Certificate.cohort_id)
        .join(User, User.id == Certificate.recipient_id)
        .where(events[event] if event else or_(*events.values()))
        .order_by(Certificate.serial)
    )
    if (region := request.get_int("region")) is not None:
        query = query.where(cohorts.c.region_id == region)
    if (cohort := request.get_int("cohort")) is not None:
        query = query.where(cohorts.c.id == cohort)
    if request.sex is not None:
        query = query.where(User.sex == request.sex)
    rows, total = request.fetch(query)
    return DrillPage(
        (_l("Serial number"), _l("Name as printed"), _l("Status"), _l("Issued on")),
        [
            (
                Link(serial, url_for("certificates.detail", certificate_id=cid)),
                name,
                str(STATUS_LABELS.get(status, status)),
                format_date(issued_on),
            )
            for cid, serial, name, status, issued_on in rows
        ],
        total,
    )
