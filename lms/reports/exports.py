"""Report downloads: a CSV per table, one XLSX workbook, and the words for the filters used.

CSV files start with a UTF-8 byte-order mark so Excel opens Cyrillic names correctly. Text
that a spreadsheet would run as a formula (a madrasa called "=HYPERLINK(…)") is written
with a leading apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask_babel import format_date, format_datetime, pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.reports.indicators import ReportFilters, Table
from lms.reports.service import IndicatorResult
from lms.timeutil import utcnow

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def describe_filters(filters: ReportFilters) -> list[tuple[str, str]]:
    """(what, chosen) pairs in the page's language, for every page and file of a report."""
    every = pgettext("filter", "All")
    if filters.start or filters.end:
        start = format_date(filters.start, "medium") if filters.start else "…"
        end = format_date(filters.end, "medium") if filters.end else "…"
        period = f"{start} – {end}"
    else:
        period = str(_l("Any time"))
    cohort = every
    if filters.cohort_id is not None:
        cohort = db.session.scalar(select(Cohort.name).where(Cohort.id == filters.cohort_id)) or ""
    labels = filters.labels
    pairs = [
        (str(_l("Period")), period),
        (str(_l("Region")), labels.region(filters.region_id) if filters.region_id else every),
        (str(_l("Madrasa")), labels.madrasa(filters.madrasa_id) if filters.madrasa_id else every),
        (str(_l("Manual")), labels.manual(filters.manual) if filters.manual else every),
        (str(_l("Cohort")), cohort),
    ]
    if not filters.scope.everywhere:
        inside = [labels.region(rid) for rid in sorted(filters.scope.region_ids)] + [
            labels.madrasa(mid) for mid in sorted(filters.scope.madrasa_ids)
        ]
        pairs.append((str(_l("Limited to")), ", ".join(inside) or "—"))
    return pairs


def _safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _cell(value: Any) -> Any:
    """A value for a file: numbers stay numbers, None is empty, text is made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return _safe_text(str(value))


def header(table: Table) -> list[str]:
    return [str(table.row_label), *(column.full_label for column in table.columns)]


def table_rows(table: Table) -> list[list[Any]]:
    return [
        [_safe_text(row.label), *(_cell(row.values.get(c.id)) for c in table.columns)]
        for row in table.rows
    ]


def table_csv(table: Table) -> bytes:
    """One table as CSV (UTF-8 with a byte-order mark), with its header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe_text(h) for h in header(table)])
    writer.writerows(table_rows(table))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(results: Sequence[IndicatorResult], filters: ReportFilters) -> bytes:
    """A workbook: the filters and every definition first, then one sheet per table."""
    # Imported with the first workbook: 20 MB a web worker that never writes one keeps.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    about = book.active
    assert about is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    about.title = _sheet_title(str(_l("Filters and definitions")), set())
    bold = Font(bold=True)
    about.append([str(_l("Programme indicators"))])
    about["A1"].font = Font(bold=True, size=14)
    about.append([str(_l("Made on")), format_datetime(utcnow(), "medium")])
    about.append([])
    for what, chosen in describe_filters(filters):
        about.append([what, _safe_text(chosen)])
    about.append([])
    about.append([str(_l("Indicator")), str(_l("Definition"))])
    for cell in about[about.max_row]:
        cell.font = bold
    for result in results:
        about.append([str(result.indicator.label), str(result.indicator.definition)])
        about.cell(about.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    about.column_dimensions["A"].width = 36
    about.column_dimensions["B"].width = 100
    used = {about.title}
    for number, result in enumerate(results, start=1):
        for sub, table in enumerate(result.tables, start=1):
            title = f"{number}.{sub} {result.indicator.label} — {table.title}"
            sheet = book.create_sheet(_sheet_title(title, used))
            used.add(sheet.title)
            sheet.append([title])
            sheet["A1"].font = Font(bold=True, size=12)
            if table.note:
                sheet.append([str(table.note)])
            sheet.append([])
            sheet.append(header(table))
            for cell in sheet[sheet.max_row]:
                cell.font = bold
            for row, values in zip(table.rows, table_rows(table), strict=True):
                sheet.append(values)
                if row.total:
                    for cell in sheet[sheet.max_row]:
                        cell.font = bold
            sheet.column_dimensions["A"].width = 48
            for index in range(2, len(table.columns) + 2):
                sheet.column_dimensions[get_column_letter(index)].width = 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(text: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = " ".join(text.translate(_SHEET_FORBIDDEN).split()).strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


def filename(stem: str, filters: ReportFilters, extension: str) -> str:
    """``report-2026-01-01-2026-12-31.xlsx``: ASCII, so every browser keeps it."""
    parts = [stem]
    if filters.start:
        parts.append(filters.start.isoformat())
    if filters.end:
        parts.append(filters.end.isoformat())
    return "-".join(parts) + f".{extension}"
