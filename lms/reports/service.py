"""Running the registered indicators: the whole report, one indicator, one drill-down.

Views, exports and the donor-report job all come through here, with ``ReportFilters`` built
by ``lms.reports.filters.parse_filters`` for the viewer, so they all show the same figures
inside the same scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.errors import Invalid, NotFound
from lms.reports.indicators import DrillPage, DrillRequest, Indicator, ReportFilters, Table


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator and the tables it computed under the filters."""

    indicator: Indicator
    tables: Sequence[Table]

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


def compute(indicator: Indicator, filters: ReportFilters) -> IndicatorResult:
    return IndicatorResult(indicator, tuple(indicator.compute(filters)))


def build_report(filters: ReportFilters) -> list[IndicatorResult]:
    """Every indicator under the filters, in page order."""
    return [compute(indicator, filters) for indicator in registered()]


def drill(
    indicator: Indicator, filters: ReportFilters, table_id: str, key: Mapping[str, str], limit: int
) -> DrillPage:
    """The records behind one figure, at most ``limit`` of them (and how many in all)."""
    if indicator.drill is None:
        raise NotFound()
    if not table_id.replace("_", "").replace("-", "").isalnum():
        raise Invalid(_l("This figure cannot be opened."))
    return indicator.drill(filters, DrillRequest(table_id, dict(key), limit))
