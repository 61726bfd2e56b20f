"""The reports' filter form: query-string arguments → ``ReportFilters``, or field errors.

The same parsing serves the page, the drill-downs, the CSV and XLSX downloads and the
donor-report job, so every one of them sees exactly the figures the page shows. The
choices offered (regions, madrasas, cohorts) are limited to the viewer's scope, and a value
outside it is refused like any other bad value: a 400 with the message next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import and_, select
from werkzeug.datastructures import MultiDict
from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from lms.cohorts.models import TOT
from lms.extensions import db
from lms.organisations.forms import GetForm
from lms.organisations.models import Madrasa, Region
from lms.organisations.services import VisibleScope, madrasa_clause, visible_scope
from lms.reports.indicators import Labels, ReportFilters

PERMISSION = "reports.view"
#: Cohorts offered in the cohort select at most (the most recent first); any cohort in
#: scope may still be chosen by its id in the address.
COHORT_CHOICES = 30
#: Madrasas offered without choosing a region first: a country has a thousand, and a select
#: of them all would weigh more than the rest of the page.
MADRASA_CHOICES = 60
#: The years a report may cover.
YEARS = (2000, 2100)


def strict_optional_int(value: Any) -> int | None:
    """ "" → None, digits → int; anything else is a bad value (WTForms reports it)."""
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


class ReportFilterForm(GetForm):
    """Period, place, manual and cohort; read from the query string (GET, no CSRF)."""

    year = IntegerField(_l("Year"), validators=[Optional()])
    start = DateField(validators=[Optional()])
    end = DateField(validators=[Optional()])
    region = SelectField(_l("Region"), coerce=strict_optional_int, validators=[Optional()])
    madrasa = SelectField(
        _l("Madrasa"), coerce=strict_optional_int, validators=[Optional()], validate_choice=False
    )
    manual = SelectField(_l("Manual"), validators=[Optional()])
    cohort = SelectField(
        _l("Cohort"), coerce=strict_optional_int, validators=[Optional()], validate_choice=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "From" and "To" mean other things elsewhere: translators see them in context.
        self.start.label.text = pgettext("period", "From")
        self.end.label.text = pgettext("period", "To")

    def validate_year(self, field: IntegerField) -> None:
        """A range check that stays quiet when the value was not a number at all (WTForms
        has already said so)."""
        if field.data is not None and not YEARS[0] <= field.data <= YEARS[1]:
            raise ValidationError(_l("Choose a year from %(a)s to %(b)s.", a=YEARS[0], b=YEARS[1]))


@dataclass(frozen=True)
class ParsedFilters:
    """The form (with its errors) and, when every value is good, the filters."""

    form: ReportFilterForm
    filters: ReportFilters | None


def parse_filters(
    args: Mapping[str, Any] | MultiDict[str, Any], user: Any, *, background: bool = False
) -> ParsedFilters:
    """Read the filters the way the page does, for ``user`` (whose scope limits them)."""
    scope = visible_scope(user, PERMISSION)
    formdata = args if isinstance(args, MultiDict) else MultiDict(dict(args))
    form = ReportFilterForm(formdata=formdata)
    labels = load_labels(scope)
    _set_choices(form, scope, labels)
    valid = form.validate()
    if form.madrasa.data is not None and form.madrasa.data not in labels.madrasas:
        form.madrasa.errors = [*form.madrasa.errors, _l("Choose a madrasa you may see.")]
    start, end = _period(form)
    valid = valid and not _has_errors(form)
    if (
        valid
        and form.madrasa.data is not None
        and form.region.data is not None
        and labels.madrasas[form.madrasa.data][1] != form.region.data
    ):
        form.madrasa.errors = [*form.madrasa.errors, _l("This madrasa is not in the region.")]
        valid = False
    filters = ReportFilters(
        start=start,
        end=end,
        region_id=form.region.data,
        madrasa_id=form.madrasa.data,
        manual=form.manual.data or None,
        cohort_id=None,
        scope=scope,
        labels=labels,
        background=background,
    )
    _set_cohort_choices(form, filters)
    if valid and form.cohort.data is not None and not _cohort_is_offered(form, filters):
        form.cohort.errors = [
            *form.cohort.errors,
            _l("Choose a cohort you may see that matches the other filters."),
        ]
        valid = False
    if not valid:
        return ParsedFilters(form, None)
    return ParsedFilters(form, replace(filters, cohort_id=form.cohort.data))


def _has_errors(form: ReportFilterForm) -> bool:
    return any(field.errors for field in form)


def _period(form: ReportFilterForm) -> tuple[date | None, date | None]:
    """A year, or dates; never both. Errors go on the field to correct."""
    start, end, year = form.start.data, form.end.data, form.year.data
    if year is not None and not form.year.errors:
        if start is not None or end is not None:
            form.year.errors = [*form.year.errors, _l("Choose a year or dates, not both.")]
            return None, None
        return date(year, 1, 1), date(year, 12, 31)
    if start is not None and end is not None and end < start:
        form.end.errors = [*form.end.errors, _l("The end comes before the start.")]
    return start, end


def load_labels(scope: VisibleScope) -> Labels:
    """Region, madrasa and manual names for the page and the indicators (two queries:
    the regions with the madrasas in scope, and the manuals)."""
    regions: dict[int, str] = {}
    madrasas: dict[int, tuple[str, int]] = {}
    for region, madrasa_id, madrasa_name in db.session.execute(
        select(Region, Madrasa.id, Madrasa.name)
        .outerjoin(Madrasa, and_(Madrasa.region_id == Region.id, madrasa_clause(scope)))
        .order_by(Region.position, Region.id, Madrasa.name, Madrasa.id)
    ):
        if region.id not in regions:
            regions[region.id] = region.name
        if madrasa_id is not None:
            madrasas[madrasa_id] = (madrasa_name, region.id)
    pm = current_app.extensions["lms"].pm
    manuals = {
        str(slug): str(title)
        for result in pm.hook.cohort_manual_choices()
        for slug, title in result or ()
    }
    return Labels(regions=regions, madrasas=madrasas, manuals=manuals)


def _set_choices(form: ReportFilterForm, scope: VisibleScope, labels: Labels) -> None:
    every = pgettext("filter", "All")
    if scope.everywhere:
        region_ids = list(labels.regions)
    else:
        inside = set(scope.region_ids) | {region for _, region in labels.madrasas.values()}
        region_ids = [rid for rid in labels.regions if rid in inside]
    form.region.choices = [SelectChoice("", every)] + [
        SelectChoice(str(rid), labels.regions[rid]) for rid in region_ids
    ]
    region = form.region.data
    offered = [
        (mid, name, region_id)
        for mid, (name, region_id) in labels.madrasas.items()
        if region is None or region_id == region
    ]
    chosen = form.madrasa.data
    if region is None and len(offered) > MADRASA_CHOICES:
        # Too many to list: the madrasas of a region are listed once it is chosen.
        offered = [m for m in offered if m[0] == chosen]
        form.madrasa.description = _l("Choose a region first to list its madrasas.")
    form.madrasa.choices = [SelectChoice("", every)] + [
        SelectChoice(str(mid), f"{name} ({labels.region(region_id)})")
        for mid, name, region_id in offered
    ]

    form.manual.choices = [SelectChoice("", every)] + [
        SelectChoice(slug, title) for slug, title in labels.manuals.items()
    ]


def _set_cohort_choices(form: ReportFilterForm, filters: ReportFilters) -> None:
    """The most recent cohorts matching the other filters, ToT cohorts first (one query)."""
    cohorts = filters.cohorts()
    rows = db.session.execute(
        select(cohorts.c.id, cohorts.c.name, cohorts.c.kind)
        .order_by(
            (cohorts.c.kind != TOT),
            cohorts.c.starts_on.desc().nulls_last(),
            cohorts.c.id.desc(),
        )
        .limit(COHORT_CHOICES)
    ).all()
    tot_label = str(_l("ToT"))
    form.cohort.choices = [SelectChoice("", pgettext("filter", "All"))] + [
        SelectChoice(str(cid), f"{name} ({tot_label})" if kind == TOT else name)
        for cid, name, kind in rows
    ]


def _cohort_is_offered(form: ReportFilterForm, filters: ReportFilters) -> bool:
    """The chosen cohort is in the viewer's scope and matches the other filters."""
    chosen = form.cohort.data
    if any(choice.value == str(chosen) for choice in form.cohort.choices):
        return True
    cohorts = filters.cohorts(in_period=False)
    found = db.session.execute(
        select(cohorts.c.id, cohorts.c.name).where(cohorts.c.id == chosen)
    ).first()
    if found is None:
        return False
    form.cohort.choices = [*form.cohort.choices, SelectChoice(str(found.id), found.name)]
    return True
