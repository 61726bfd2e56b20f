"""What a report indicator is, and the filters every indicator computes under.

Plugins import these from the host (``from lms.reports.indicators import ...``) and return
``Indicator`` objects from the ``register_indicators`` hook. An indicator's ``compute``
takes the ``ReportFilters`` and returns tables (columns + rows); each row carries a drill
key, so every figure on the page links to the records behind it through the indicator's
``drill`` function.

``ReportFilters`` holds the chosen period, region, madrasa, manual and cohort *and* the
viewer's scope (the regions or madrasas a region- or madrasa-limited monitoring officer may
see). Its SQL helpers (``cohorts()``, ``madrasas()``, ``on_dates()``, ``at_times()``) apply
both, so an indicator that builds its queries on them cannot leak figures from outside the
viewer's scope, on the page, in a drill-down or in any export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, Subquery, and_, false, func, or_, select, true
from sqlalchemy.orm import aliased

from lms.accounts.roles import SEXES
from lms.cohorts.models import Cohort
from lms.errors import Invalid
from lms.extensions import db
from lms.organisations.models import Madrasa
from lms.organisations.services import VisibleScope

#: The sexes figures are split by, in the order columns show them.
SEX_KEYS: tuple[str, ...] = tuple(SEXES)
#: Keys and values of a drill key: short, URL-safe words (ids, slugs, "female").
_DRILL_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


# --- tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of figures.

    ``kind`` says how values are shown: ``count`` (a whole number; the only kind whose
    figures link to a drill-down), ``number`` (a mean, two decimals), ``percent`` or
    ``text``. ``drill`` is added to the row's key when a figure of this column is followed
    (``{"sex": "female"}`` for a "Female" column). ``group`` puts columns under a shared
    header ("Attendances": female, male, total).
    """

    id: str
    label: Any
    kind: str = "count"
    drill: Mapping[str, str] = field(default_factory=dict)
    group: Any = None
    drillable: bool = True

    @property
    def links(self) -> bool:
        return self.kind == "count" and self.drillable

    @property
    def full_label(self) -> str:
        """The header in flat exports (CSV, XLSX): "Attendances — Female"."""
        return f"{self.group} — {self.label}" if self.group else str(self.label)


@dataclass(frozen=True)
class Row:
    """A row of a table: its label, its values by column id, and its drill key.

    ``key`` narrows the report's filters to this row's records, e.g. ``{"region": "3"}``;
    ``{}`` for a total row (every record under the filters); ``None`` when the row's
    figures do not link anywhere. ``None`` values are shown as "—" (not applicable).
    """

    label: str
    values: Mapping[str, Any]
    key: Mapping[str, str] | None = None
    total: bool = False


@dataclass(frozen=True)
class Chart:
    """Which columns to draw, as one bar per row and series; total rows are left out."""

    columns: tuple[str, ...]
    stacked: bool = False


@dataclass(frozen=True)
class Table:
    """A table of an indicator: ``id`` is unique within the indicator and stable (URLs)."""

    id: str
    title: Any
    row_label: Any
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    chart: Chart | None = None
    note: Any = ""

    def column(self, column_id: str) -> Column:
        for column in self.columns:
            if column.id == column_id:
                return column
        raise KeyError(column_id)

    @property
    def grouped(self) -> bool:
        return any(column.group for column in self.columns)

    def groups(self) -> list[tuple[Any, list[Column]]]:
        """Runs of neighbouring columns sharing a group header (``None``: no group)."""
        runs: list[tuple[Any, list[Column]]] = []
        for column in self.columns:
            if runs and column.group is not None and str(runs[-1][0]) == str(column.group):
                runs[-1][1].append(column)
            else:
                runs.append((column.group, [column]))
        return runs


@dataclass(frozen=True)
class Link:
    """A cell of a drill-down that links to the record's own page."""

    text: str
    url: str


@dataclass(frozen=True)
class DrillPage:
    """The records behind one figure: headers, at most ``limit`` rows, and how many in all."""

    columns: tuple[Any, ...]
    rows: Sequence[tuple[Any, ...]]
    total: int


@dataclass(frozen=True)
class DrillRequest:
    """Which figure was followed: the table, its merged key (row + column), the row cap.

    Drill functions read the key with ``only``/``get_int``/``sex`` (a bad key is a 400,
    never a 500) and run their query with ``fetch``, which counts and caps it.
    """

    table_id: str
    key: Mapping[str, str]
    limit: int

    def only(self, *names: str) -> None:
        """Refuse keys this indicator does not know (a hand-edited address)."""
        if not set(self.key) <= set(names):
            raise _cannot_open()

    def get_int(self, name: str) -> int | None:
        """The key's value as a number, or ``None`` when the key does not name it."""
        raw = self.key.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise _cannot_open()
        return int(raw)

    def get(self, name: str) -> str | None:
        return self.key.get(name)

    @property
    def sex(self) -> str | None:
        raw = self.key.get("sex")
        if raw is not None and raw not in SEX_KEYS:
            raise _cannot_open()
        return raw

    def fetch(self, query: Select[Any]) -> tuple[list[Any], int]:
        """At most ``limit`` rows of an ordered query, and how many it has in all."""
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        return list(db.session.execute(query.limit(self.limit)).all()), int(total or 0)


def _cannot_open() -> Exception:
    return Invalid(_l("This figure cannot be opened."))


@dataclass(frozen=True)
class Indicator:
    """A figure the organisation reports, with its definition and how to compute it.

    - ``id``: stable, ``"<plugin>.<name>"``; URLs and exports use it.
    - ``definition``: what is counted and how, in words a donor reads (translatable).
    - ``compute(filters)``: the tables, built with SQL aggregates on the helpers of
      ``ReportFilters`` (a bounded number of statements, whatever the data size).
    - ``drill(filters, request)``: the records behind a figure (``None``: figures of this
      indicator do not link).
    """

    id: str
    label: Any
    definition: Any
    compute: Callable[[ReportFilters], Sequence[Table]]
    drill: Callable[[ReportFilters, DrillRequest], DrillPage] | None = None
    order: int = 100


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Names looked up once per report (not once per indicator): regions, madrasas, manuals."""

    regions: Mapping[int, str] = field(default_factory=dict)
    #: madrasa id → (name, region id)
    madrasas: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    manuals: Mapping[str, str] = field(default_factory=dict)

    def region(self, region_id: int | None) -> str:
        if region_id is None:
            return str(_l("No region"))
        return self.regions.get(region_id, f"#{region_id}")

    def madrasa(self, madrasa_id: int | None) -> str:
        if madrasa_id is None:
            return str(_l("No madrasa"))
        found = self.madrasas.get(madrasa_id)
        return found[0] if found else f"#{madrasa_id}"

    def manual(self, slug: str | None) -> str:
        if not slug:
            return str(_l("No manual"))
        return self.manuals.get(slug, slug)


EVERYWHERE = VisibleScope(everywhere=True)


@dataclass(frozen=True)
class ReportFilters:
    """The filters a report is computed under, and the viewer's scope.

    ``start``/``end`` bound the period (inclusive, in the app's time zone); every other
    field narrows to one region, madrasa, manual (a slug) or cohort. ``scope`` is where the
    viewer holds ``reports.view``; ``background`` is true when a job builds the report and
    an indicator may do work the page cannot afford.
    """

    start: date | None = None
    end: date | None = None
    region_id: int | None = None
    madrasa_id: int | None = None
    manual: str | None = None
    cohort_id: int | None = None
    scope: VisibleScope = EVERYWHERE
    labels: Labels = field(default_factory=Labels)
    background: bool = False

    @property
    def limited(self) -> bool:
        """True when only part of the country is shown (a place or cohort filter, or a
        viewer limited to some regions or madrasas): figures that belong to no place, such
        as feedback on the manuals, are then left out."""
        return bool(
            self.region_id or self.madrasa_id or self.cohort_id or not self.scope.everywhere
        )

    # -- the period ------------------------------------------------------------------------

    def whole_years(self) -> tuple[int | None, int | None] | None:
        """(first year, last year) when the period is whole calendar years (None: open at
        that end), else None (it starts or ends inside a year). Kept totals are per year."""
        start, end = self.start, self.end
        if start is not None and (start.month, start.day) != (1, 1):
            return None
        if end is not None and (end.month, end.day) != (12, 31):
            return None
        return (start.year if start else None, end.year if end else None)

    def on_dates(self, column: Any) -> ColumnElement[bool]:
        """WHERE clause for a ``date`` column inside the period."""
        clauses: list[ColumnElement[bool]] = []
        if self.start is not None:
            clauses.append(column >= self.start)
        if self.end is not None:
            clauses.append(column <= self.end)
        return and_(true(), *clauses)

    def at_times(self, column: Any) -> ColumnElement[bool]:
        """WHERE clause for a timestamp column (naive UTC) inside the period's local days."""
        zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC"))
        clauses: list[ColumnElement[bool]] = []
        if self.start is not None:
            clauses.append(column >= _utc(self.start, zone))
        if self.end is not None:
            clauses.append(column < _utc(self.end + timedelta(days=1), zone))
        return and_(true(), *clauses)

    def overlaps(self, starts_on: Any, ends_on: Any) -> ColumnElement[bool]:
        """Something running from ``starts_on`` to ``ends_on`` (either may be missing)
        runs at some time in the period."""
        clauses: list[ColumnElement[bool]] = []
        if self.end is not None:
            clauses.append(or_(starts_on.is_(None), starts_on <= self.end))
        if self.start is not None:
            last = func.coalesce(ends_on, starts_on)
            clauses.append(or_(last.is_(None), last >= self.start))
        return and_(true(), *clauses)

    # -- places and cohorts ---------------------------------------------------------------

    def cohorts(self, *, kind: str | None = None, in_period: bool = True) -> Subquery:
        """The cohorts inside the filters and the viewer's scope, as a subquery to join.

        Columns: ``id``, ``kind``, ``name``, ``manual``, ``madrasa_id``, ``region_id`` (the
        ToT's region or the class's madrasa's), ``starts_on``, ``ends_on``. With
        ``in_period`` only cohorts running in the period; pass ``False`` when the records
        have dates of their own (sessions, attempts) and the period applies to those.
        """
        place = aliased(Madrasa)
        region = func.coalesce(Cohort.region_id, place.region_id)
        query = (
            select(
                Cohort.id,
                Cohort.kind,
                Cohort.name,
                Cohort.manual,
                Cohort.madrasa_id,
                region.label("region_id"),
                Cohort.starts_on,
                Cohort.ends_on,
            )
            .outerjoin(place, place.id == Cohort.madrasa_id)
            .where(self._scope_of_cohorts(region))
        )
        if kind is not None:
            query = query.where(Cohort.kind == kind)
        if self.region_id is not None:
            query = query.where(region == self.region_id)
        if self.madrasa_id is not None:
            query = query.where(Cohort.madrasa_id == self.madrasa_id)
        if self.manual:
            query = query.where(Cohort.manual == self.manual)
        if self.cohort_id is not None:
            query = query.where(Cohort.id == self.cohort_id)
        if in_period:
            query = query.where(self.overlaps(Cohort.starts_on, Cohort.ends_on))
        return query.subquery("report_cohorts")

    def _scope_of_cohorts(self, region: Any) -> ColumnElement[bool]:
        scope = self.scope
        if scope.everywhere:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if scope.cohort_ids:
            clauses.append(Cohort.id.in_(scope.cohort_ids))
        if scope.madrasa_ids:
            clauses.append(Cohort.madrasa_id.in_(scope.madrasa_ids))
        if scope.region_ids:
            clauses.append(region.in_(scope.region_ids))
        return or_(*clauses) if clauses else false()

    def madrasas(self) -> Subquery:
        """The madrasas inside the region/madrasa filters and the viewer's scope.

        Columns: ``id``, ``name``, ``region_id``. The manual and cohort filters do not
        narrow madrasas; an indicator about madrasa records that name a cohort (a visit's
        observed class) joins ``cohorts()`` as well when ``manual`` or ``cohort_id`` is set.
        """
        query = select(Madrasa.id, Madrasa.name, Madrasa.region_id).where(
            self.madrasa_scope(Madrasa)
        )
        if self.region_id is not None:
            query = query.where(Madrasa.region_id == self.region_id)
        if self.madrasa_id is not None:
            query = query.where(Madrasa.id == self.madrasa_id)
        return query.subquery("report_madrasas")

    def madrasa_scope(self, madrasa: Any) -> ColumnElement[bool]:
        """The viewer's scope over madrasas (a cohort-limited viewer sees none)."""
        scope = self.scope
        if scope.everywhere:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if scope.madrasa_ids:
            clauses.append(madrasa.id.in_(scope.madrasa_ids))
        if scope.region_ids:
            clauses.append(madrasa.region_id.in_(scope.region_ids))
        return or_(*clauses) if clauses else false()

    # -- URLs -------------------------------------------------------------------------------

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (the form's field names)."""
        args: dict[str, str] = {}
        if self.start is not None:
            args["start"] = self.start.isoformat()
        if self.end is not None:
            args["end"] = self.end.isoformat()
        for name, value in (
            ("region", self.region_id),
            ("madrasa", self.madrasa_id),
            ("manual", self.manual),
            ("cohort", self.cohort_id),
        ):
            if value not in (None, ""):
                args[name] = str(value)
        return args


def _utc(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of ``day`` as the naive UTC time the database stores."""
    local = datetime.combine(day, time.min, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# --- helpers for indicator authors -----------------------------------------------------


def sex_columns(
    prefix: str = "", group: Any = None, *, drillable: bool = True
) -> tuple[Column, ...]:
    """Female, male and total columns (ids ``<prefix>female``…), each drilling to its sex."""
    columns = [
        Column(f"{prefix}{sex}", SEXES[sex], drill={"sex": sex}, group=group, drillable=drillable)
        for sex in SEX_KEYS
    ]
    columns.append(Column(f"{prefix}total", _l("Total"), group=group, drillable=drillable))
    return tuple(columns)


def sex_values(counts: Mapping[str, int], prefix: str = "") -> dict[str, int]:
    """``{"female": 3, "male": 2}`` → values for ``sex_columns(prefix)`` with the total."""
    values = {f"{prefix}{sex}": int(counts.get(sex, 0) or 0) for sex in SEX_KEYS}
    values[f"{prefix}total"] = sum(values.values())
    return values


def tally(rows: Iterable[tuple[Any, str, int]]) -> dict[Any, dict[str, int]]:
    """(key, sex, count) rows of a GROUP BY → key → sex → count."""
    result: dict[Any, dict[str, int]] = {}
    for key, sex, count in rows:
        counts = result.setdefault(key, {})
        counts[sex] = counts.get(sex, 0) + int(count or 0)
    return result


def mean(total: float | None, count: int | None, digits: int = 2) -> float | None:
    """A mean from a SQL sum and count; ``None`` when nothing was counted."""
    if not count or total is None:
        return None
    return round(float(total) / count, digits)


def parse_drill_key(raw: str) -> dict[str, str]:
    """``"region:3,sex:female"`` → ``{"region": "3", "sex": "female"}``; ValueError if bad."""
    key: dict[str, str] = {}
    if not raw:
        return key
    for part in raw.split(","):
        name, sep, value = part.partition(":")
        if not sep or not _DRILL_PART.match(name) or not _DRILL_PART.match(value):
            raise ValueError(raw)
        key[name] = value
    return key


def format_drill_key(key: Mapping[str, str]) -> str:
    return ",".join(f"{name}:{value}" for name, value in sorted(key.items()))
