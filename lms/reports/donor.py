"""The donor report: every indicator under the chosen filters, as a PDF (and its XLSX).

It runs as a background job (DESIGN §6), because it evaluates every ToT cohort's completion
(the page evaluates a bounded number) and renders with WeasyPrint. The job re-reads the
filters for the user who asked, so their scope applies exactly as on the page. The PDF is
in English or Russian, chosen on the form; charts are inline SVG, so the locked-down URL
fetcher of ``lms.pdf`` has nothing to fetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from lms.accounts.models import User
from lms.errors import Invalid
from lms.extensions import db
from lms.jobs import Job, attach_file, finish_job, job_task, report_progress, start_job
from lms.pdf import html_to_pdf
from lms.reports import charts, exports
from lms.reports.filters import parse_filters
from lms.reports.service import compute, registered
from lms.timeutil import utcnow

#: Languages the donor report is written in (the donors read English or Russian).
LANGUAGES: dict[str, Any] = {"en": "English", "ru": "Русский"}


def start_donor_report(user: User, args: dict[str, str], language: str) -> Job:
    """Queue the job for ``user`` with the page's filter arguments; returns the job."""
    if language not in LANGUAGES:
        message = _l("Choose English or Russian for the donor report.")
        raise Invalid(message, field_errors={"language": [message]})
    return start_job(
        str(_l("Donor report")), build_donor_report, user.id, args, language, created_by_id=user.id
    )


@job_task()
def build_donor_report(job_id: str, user_id: int, args: dict[str, str], language: str) -> None:
    """Compute every indicator (reporting progress), render the PDF, keep it and the XLSX."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise Invalid(_l("The account that asked for this report is no longer active."))
    interface = user.preferred_language  # the job page speaks the user's language

    def say(message: str, **values: object) -> str:
        with force_locale(interface):
            return _(message, **{k: str(v) for k, v in values.items()})

    with force_locale(language):
        parsed = parse_filters(args, user, background=True)
        if parsed.filters is None:
            raise Invalid(_("The filters are not valid any more."))
        filters = parsed.filters
        indicators = registered()
        steps = len(indicators) + 1
        results = []
        for done, indicator in enumerate(indicators):
            report_progress(job_id, done, steps, say("Computing: %(name)s", name=indicator.label))
            results.append(compute(indicator, filters))
        report_progress(job_id, len(indicators), steps, say("Writing the PDF"))
        html = render_template(
            "lms/reports/donor.html",
            results=results,
            described=exports.describe_filters(filters),
            made_on=format_datetime(utcnow(), "medium"),
            language=language,
            render_chart=lambda table: charts.render_chart(table, embed_style=True),
            legend=charts.legend,
            chart_rows=charts.chart_rows,
            max_bars=charts.MAX_BARS,
            pdf_rows=int(current_app.config.get("REPORTS_PDF_ROWS", 40)),
            reports_css=_stylesheet(),
            chart_css=Markup(charts.CHART_CSS),  # nosec B704  # our own stylesheet files, not user data
        )
        pdf = html_to_pdf(html)
        xlsx = exports.report_xlsx(results, filters)
        stem = f"donor-report-{language}"
        attach_file(job_id, exports.filename(stem, filters, "pdf"), "application/pdf", pdf)
        attach_file(job_id, exports.filename(stem, filters, "xlsx"), exports.XLSX_MIMETYPE, xlsx)
        db.session.commit()
        report_progress(job_id, steps, steps, say("The donor report is ready."))
        finish_job(job_id, {"pdf_bytes": len(pdf)}, say("The donor report is ready."))


def _stylesheet() -> Markup:
    """The page's report stylesheet, inlined: the PDF fetches nothing."""
    folder = current_app.static_folder or ""
    return Markup((Path(folder) / "reports.css").read_text(encoding="utf-8"))  # nosec B704  # our own stylesheet files, not user data
