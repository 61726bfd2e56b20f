"""Report pages: the figures, a figure's records, CSV and XLSX downloads, the donor report.

Every route reads the same filter arguments with ``parse_filters`` for the current user, so
the viewer's scope limits the page, the drill-downs and every file alike. A bad filter
value answers 400 with the message next to its field, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts.permissions import permission_required
from lms.errors import Invalid
from lms.forms import LmsForm
from lms.pagecache import cached_page
from lms.reports import charts, exports, service
from lms.reports.donor import LANGUAGES, start_donor_report
from lms.reports.filters import PERMISSION, ParsedFilters, parse_filters
from lms.reports.indicators import (
    Column,
    Indicator,
    ReportFilters,
    Row,
    Table,
    format_drill_key,
    parse_drill_key,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _filters() -> ParsedFilters:
    return parse_filters(request.args, current_user)


def _valid(parsed: ParsedFilters) -> ReportFilters:
    """The filters, or a 400 that lists what to correct (for downloads and drill-downs)."""
    if parsed.filters is None:
        errors = {field.name: list(field.errors) for field in parsed.form if field.errors}
        raise Invalid(
            "; ".join(
                f"{parsed.form[name].label.text}: {message}"
                for name, messages in errors.items()
                for message in messages
            ),
            field_errors=errors,
        )
    return parsed.filters


@bp.get("/")
@permission_required(PERMISSION)
@cached_page
def index() -> Any:
    """The report page: filters, and every indicator's tables, charts and definitions."""
    parsed = _filters()
    if parsed.filters is None:
        return render_template("lms/reports/index.html", form=parsed.form, results=None), 400
    results = service.build_report(parsed.filters, fresh=request.args.get("fresh") == "1")
    return render_template(
        "lms/reports/index.html",
        form=parsed.form,
        filters=parsed.filters,
        args=parsed.filters.query_args(),
        results=results,
        described=exports.describe_filters(parsed.filters),
        legend=charts.legend,
        max_bars=charts.MAX_BARS,
        languages=LANGUAGES,
        donor_form=LmsForm(),
        drill_link=_drill_links(parsed.filters.query_args()),
    )


@bp.get("/<indicator_id>")
@permission_required(PERMISSION)
@cached_page
def indicator(indicator_id: str) -> Any:
    """One indicator: every breakdown with its chart, long tables cut to their first rows."""
    found = service.get_indicator(indicator_id)
    filters = _valid(_filters())
    args = filters.query_args()
    return render_template(
        "lms/reports/indicator.html",
        indicator=found,
        result=service.compute(found, filters),
        args=args,
        described=exports.describe_filters(filters),
        back=url_for("reports.index", **args) + f"#{found.id}",
        render_chart=charts.render_chart,
        legend=charts.legend,
        chart_rows=charts.chart_rows,
        max_bars=charts.MAX_BARS,
        chart_css=charts.CHART_CSS,
        drill_link=_drill_links(args),
        page_rows=int(current_app.config.get("REPORTS_PAGE_ROWS", 10)),
    )


@bp.get("/<indicator_id>/<table_id>")
@permission_required(PERMISSION)
def whole_table(indicator_id: str, table_id: str) -> Any:
    """One table with every row (the report page shows the first few of long tables)."""
    indicator = service.get_indicator(indicator_id)
    filters = _valid(_filters())
    table = service.compute(indicator, filters).table(table_id)
    args = filters.query_args()
    return render_template(
        "lms/reports/table.html",
        indicator=indicator,
        table=table,
        described=exports.describe_filters(filters),
        drill_link=_drill_links(args, on_table_page=True),
        csv=url_for("reports.table_csv", indicator_id=indicator.id, table_id=table.id, **args),
        back=url_for("reports.index", **args) + f"#{indicator.id}",
        legend=charts.legend,
        max_bars=charts.MAX_BARS,
    )


def _drill_links(
    args: Mapping[str, str], *, on_table_page: bool = False
) -> Callable[[Indicator, Table], Callable[[Row, Column], str | None]]:
    """URL makers for a page's figures: each figure's records, under the page's filters.

    The table's path is built once, not once per figure: a national table has hundreds.
    """

    def for_table(indicator: Indicator, table: Table) -> Callable[[Row, Column], str | None]:
        # Relative to the page the figure is on — /reports/ or /reports/<indicator>/<table>
        # — and the key in the path, so that hundreds of links stay short.
        base = f"{table.id}/" if on_table_page else f"{indicator.id}/{table.id}/"
        query = f"?{urlencode(args)}" if args else ""

        def link(row: Row, column: Column) -> str | None:
            if row.key is None or not column.links:
                return None
            key = format_drill_key({**row.key, **column.drill}) or ALL
            return f"{base}{key}{query}"

        return link

    return for_table


#: The drill key of a total: every record under the filters.
ALL = "all"


@bp.get("/<indicator_id>/<table_id>/<key>")
@permission_required(PERMISSION)
def records(indicator_id: str, table_id: str, key: str) -> Any:
    """The records behind one figure (``key``: ``region:3,sex:female``, or ``all``), within
    the viewer's scope, capped at a stated number."""
    indicator = service.get_indicator(indicator_id)
    filters = _valid(_filters())
    try:
        key = parse_drill_key("" if key == ALL else key)
    except ValueError:
        raise Invalid(_l("This figure cannot be opened.")) from None
    limit = int(current_app.config.get("REPORTS_DRILL_LIMIT", 200))
    page = service.drill(indicator, filters, table_id, key, limit)
    return render_template(
        "lms/reports/records.html",
        indicator=indicator,
        page=page,
        limit=limit,
        described=exports.describe_filters(filters),
        back=url_for("reports.index", **filters.query_args()) + f"#{indicator.id}",
    )


@bp.get("/<indicator_id>/<table_id>.csv")
@permission_required(PERMISSION)
def table_csv(indicator_id: str, table_id: str) -> Any:
    """One table as CSV, under the page's filters."""
    indicator = service.get_indicator(indicator_id)
    filters = _valid(_filters())
    table = service.compute(indicator, filters).table(table_id)
    name = exports.filename(f"{indicator_id}-{table_id}".replace(".", "-"), filters, "csv")
    return Response(
        exports.table_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/report.xlsx")
@permission_required(PERMISSION)
def report_xlsx() -> Any:
    """Every table in one workbook, with the filters and the definitions."""
    filters = _valid(_filters())
    data = exports.report_xlsx(service.build_report(filters), filters)
    name = exports.filename("report", filters, "xlsx")
    return Response(
        data,
        mimetype=exports.XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/donor-report")
@permission_required(PERMISSION)
def donor_report() -> Any:
    """Start the donor-report job (filters in the address, language in the form)."""
    form = LmsForm()
    if not form.validate_on_submit():
        raise Invalid()
    filters = _valid(_filters())
    job = start_donor_report(current_user, filters.query_args(), request.form.get("language", ""))
    return redirect(url_for("lms.job", job_id=job.id))
