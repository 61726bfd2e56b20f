"""Progress pages of the lessons plugin: the class grid, a learner's own page, a madrasa's
summary. Routes live on the plugin's one blueprint (``lessons.views.bp``)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from lessons import progress
from lessons.views import bp
from lms.accounts.permissions import permission_required, require
from lms.cohorts.services import get_cohort
from lms.organisations.services import get_madrasa
from lms.pagecache import cached_page


# Endpoint "lessons.progress"; the function is named apart from the ``progress`` module.
@bp.get("/cohorts/<int:cohort_id>/progress", endpoint="progress")
@permission_required("progress.view")
@cached_page
def progress_grid(cohort_id: int) -> Any:
    """Who attended which module, other plugins' items, attendance and completion."""
    cohort = get_cohort(cohort_id)
    require("progress.view", cohort)
    grid = progress.cohort_grid(cohort, str(get_locale() or "en"))
    return render_template(
        "lessons/progress.html",
        grid=grid,
        cohort=cohort,
        outcome_label=progress.outcome_label,
    )


@bp.get("/me")
@login_required
def my_progress() -> Any:
    """A learner's own attendance and completion in each cohort they learn in."""
    return render_template(
        "lessons/progress_me.html", entries=progress.learner_cohorts(current_user)
    )


@bp.get("/madrasas/<int:madrasa_id>")
@permission_required("progress.view")
def madrasa_summary(madrasa_id: int) -> Any:
    """The madrasa's classes with learners, lessons held, attendance and completion."""
    madrasa = get_madrasa(madrasa_id)
    require("progress.view", madrasa)
    return render_template(
        "lessons/summary_madrasa.html", summary=progress.madrasa_summary(madrasa)
    )
