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


def _replacements(filters: ReportFilters) -> Any:
    """Corrected certificates issued in the period, by the certificate each replaces: a
    subquery to outer-join on ``replaces_id``.

    ``replaces_id`` is unique, so the join adds no rows, and ``IS NOT NULL`` lets the
    planner read the few replacements through its unique index. The correlated ``EXISTS``
    this replaces was run, on PostgreSQL, as a hash of a second full scan of the table.
    """
    return (
        select(Certificate.replaces_id)
        .where(Certificate.replaces_id.is_not(None), filters.at_times(Certificate.issued_at))
        .subquery("replacements")
    )


def _events(filters: ReportFilters, replacements: Any) -> dict[str, Any]:
    """The condition of each event in the period, as SQL on a certificate row outer-joined
    to ``_replacements(filters)``."""
    return {
        "issued": filters.at_times(Certificate.issued_at),
        "revoked": and_(Certificate.status == REVOKED, filters.at_times(Certificate.revoked_at)),
        "replaced": and_(Certificate.status == REPLACED, replacements.c.replaces_id.is_not(None)),
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


def _no_events() -> dict[str, dict[str, int]]:
    """Event → sex → count, nothing counted yet."""
    return {event: {} for event in EVENTS}


def compute(filters: ReportFilters) -> Sequence[Table]:
    """Events per cohort and recipient's sex, in one statement.

    The recipient's sex is read by primary key for each certificate in the period (a
    correlated subquery) rather than by joining the user table, which the planner hashed
    whole (over 150,000 users at scale 10) for a few thousand certificates.
    """
    cohorts = filters.cohorts(in_period=False)
    replacements = _replacements(filters)
    events = _events(filters, replacements)
    recipient_sex = select(User.sex).where(User.id == Certificate.recipient_id).scalar_subquery()
    rows = db.session.execute(
        select(
            cohorts.c.id,
            cohorts.c.name,
            cohorts.c.region_id,
            recipient_sex,
            *(func.count(case((condition, 1))) for condition in events.values()),
        )
        .select_from(Certificate)
        .join(cohorts, cohorts.c.id == Certificate.cohort_id)
        .outerjoin(replacements, replacements.c.replaces_id == Certificate.id)
        .where(or_(*events.values()))
        .group_by(cohorts.c.id, cohorts.c.name, cohorts.c.region_id, recipient_sex)
    ).all()
    names = {row[0]: row[1] for row in rows}
    by_cohort: dict[int, dict[str, dict[str, int]]] = {}
    by_region: dict[Any, dict[str, dict[str, int]]] = {}
    total = _no_events()
    for cohort_id, _name, region_id, sex, *counts in rows:
        cohort = by_cohort.get(cohort_id) or by_cohort.setdefault(cohort_id, _no_events())
        region = by_region.get(region_id) or by_region.setdefault(region_id, _no_events())
        for event, count in zip(EVENTS, counts, strict=True):
            for target in (cohort[event], region[event], total[event]):
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
    # Cohorts of one name are ordered by id, so the order never depends on the plan.
    cohort_rows = [
        Row(names.get(cid, f"#{cid}"), values(counts), {"cohort": str(cid)})
        for cid, counts in sorted(
            by_cohort.items(), key=lambda item: (names.get(item[0], ""), item[0])
        )
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
    replacements = _replacements(filters)
    events = _events(filters, replacements)
    event = request.get("event")
    if event is not None and event not in events:
        raise Invalid(_l("This figure cannot be opened."))
    query = (
        select(Certificate.id, Certificate.serial, Certificate.name_as_printed, Certificate.status)
        .add_columns(Certificate.issued_on)
        .select_from(Certificate)
        .join(cohorts, cohorts.c.id == Certificate.cohort_id)
        .join(User, User.id == Certificate.recipient_id)
        .outerjoin(replacements, replacements.c.replaces_id == Certificate.id)
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
