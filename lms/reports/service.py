"""Running the registered indicators: the whole report, one indicator, one drill-down.

Views, exports and the donor-report job all come through here, with ``ReportFilters`` built
by ``lms.reports.filters.parse_filters`` for the viewer, so they all show the same figures
inside the same scope.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import copy_current_request_context, current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from lms import cache
from lms.db import is_sqlite
from lms.errors import Invalid, NotFound
from lms.reports.indicators import (
    Chart,
    Column,
    DrillPage,
    DrillRequest,
    Indicator,
    ReportFilters,
    Row,
    Table,
)


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator and the tables it computed under the filters."""

    indicator: Indicator
    tables: Sequence[Table]
    #: When the figures were computed (UTC): they may come from the cache.
    computed_at: datetime | None = None

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise NotFound()


def registered() -> list[Indicator]:
    """Every indicator the host and the plugins registered, in page order."""
    return list(current_app.extensions["lms"].registries.indicators.values())


def get_indicator(indicator_id: str) -> Indicator:
    found = current_app.extensions["lms"].registries.indicators.get(indicator_id)
    if found is None:
        raise NotFound()
    return found


def compute(
    indicator: Indicator, filters: ReportFilters, *, fresh: bool = False
) -> IndicatorResult:
    """An indicator's tables, from the cache when they were computed for the same filters,
    scope and language less than ``REPORTS_CACHE_SECONDS`` ago (unless ``fresh``).

    The page, its downloads and its whole-table pages thus show the same figures. The
    donor-report job always computes afresh.
    """
    seconds = int(current_app.config.get("REPORTS_CACHE_SECONDS") or 0)
    if filters.background or seconds <= 0:
        return IndicatorResult(indicator, tuple(indicator.compute(filters)), _now())
    key = _cache_key(indicator, filters)
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            data = json.loads(cached)
            computed_at = datetime.fromisoformat(data["at"])
            return IndicatorResult(indicator, tuple(_table(t) for t in data["tables"]), computed_at)
    result = IndicatorResult(indicator, tuple(indicator.compute(filters)), _now())
    payload = {"at": result.computed_at.isoformat(), "tables": [_plain(t) for t in result.tables]}
    cache.put(key, json.dumps(payload, ensure_ascii=False), seconds)
    return result


def build_report(filters: ReportFilters, *, fresh: bool = False) -> list[IndicatorResult]:
    """Every indicator under the filters, in page order.

    On PostgreSQL a page view counts ``REPORTS_WORKERS`` indicators at once, each in a
    thread with its own connection (the database works on them side by side, on as many
    cores as it has), so the page waits for the slowest share instead of the sum. The
    figures of each indicator come from one transaction, as before; two indicators may see
    the database a few milliseconds apart, as they may when kept for different times.
    """
    indicators = registered()
    workers = _workers(filters)
    if workers <= 1 or len(indicators) < 2:
        return [compute(indicator, filters, fresh=fresh) for indicator in indicators]
    return _compute_at_once(indicators, filters, fresh=fresh, workers=workers)


def _workers(filters: ReportFilters) -> int:
    """Indicators counted at once: one in background jobs (which compute afresh and may
    run on a worker with few connections), on SQLite (one writer, and the tests' in-memory
    database has one connection) and outside a request."""
    if filters.background or not has_request_context():
        return 1
    if is_sqlite():
        return 1
    return max(1, int(current_app.config.get("REPORTS_WORKERS") or 1))


def _compute_at_once(
    indicators: Sequence[Indicator], filters: ReportFilters, *, fresh: bool, workers: int
) -> list[IndicatorResult]:
    """Each indicator in a copy of the request's context (its own application context,
    hence its own database session), in the page's language. Indicators read the viewer's
    scope from the filters, not the logged-in person (whose object belongs to the request's
    session and must not be shared between threads)."""
    locale = str(get_locale())

    def task(indicator: Indicator) -> Callable[[], IndicatorResult]:
        def run() -> IndicatorResult:
            with force_locale(locale):
                return compute(indicator, filters, fresh=fresh)

        return copy_current_request_context(run)  # made here, in the request's thread

    tasks = [task(indicator) for indicator in indicators]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lms-report") as pool:
        futures = [pool.submit(run) for run in tasks]
        return [future.result() for future in futures]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _cache_key(indicator: Indicator, filters: ReportFilters) -> str:
    """What the figures depend on: the indicator, the filters, the viewer's scope and the
    language the labels are in."""
    scope = filters.scope
    where = (
        "all"
        if scope.everywhere
        else "r{}m{}c{}".format(
            ",".join(map(str, sorted(scope.region_ids))),
            ",".join(map(str, sorted(scope.madrasa_ids))),
            ",".join(map(str, sorted(scope.cohort_ids))),
        )
    )
    args = "&".join(f"{k}={v}" for k, v in sorted(filters.query_args().items()))
    return f"report:1:{indicator.id}:{get_locale()}:{where}:{args}"


def _text(value: Any) -> Any:
    """Lazy translated strings become text in the current language."""
    return None if value is None else str(value)


def _plain(table: Table) -> dict[str, Any]:
    """A table as JSON-able data, labels in the current language."""
    return {
        "id": table.id,
        "title": _text(table.title),
        "row_label": _text(table.row_label),
        "note": _text(table.note) or "",
        "chart": None
        if table.chart is None
        else {"columns": list(table.chart.columns), "stacked": table.chart.stacked},
        "columns": [
            {
                "id": c.id,
                "label": _text(c.label),
                "kind": c.kind,
                "drill": dict(c.drill),
                "group": _text(c.group),
                "drillable": c.drillable,
            }
            for c in table.columns
        ],
        "rows": [
            {
                "label": _text(r.label),
                "values": dict(r.values),
                "key": None if r.key is None else dict(r.key),
                "total": r.total,
            }
            for r in table.rows
        ],
    }


def _table(data: dict[str, Any]) -> Table:
    chart = data["chart"]
    return Table(
        id=data["id"],
        title=data["title"],
        row_label=data["row_label"],
        columns=tuple(Column(**c) for c in data["columns"]),
        rows=tuple(Row(**r) for r in data["rows"]),
        chart=None if chart is None else Chart(tuple(chart["columns"]), chart["stacked"]),
        note=data["note"],
    )


def drill(
    indicator: Indicator, filters: ReportFilters, table_id: str, key: Mapping[str, str], limit: int
) -> DrillPage:
    """The records behind one figure, at most ``limit`` of them (and how many in all)."""
    if indicator.drill is None:
        raise NotFound()
    if not table_id.replace("_", "").replace("-", "").isalnum():
        raise Invalid(_l("This figure cannot be opened."))
    return indicator.drill(filters, DrillRequest(table_id, dict(key), limit))
