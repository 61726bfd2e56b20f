"""Lesson-plan pages: the index of a teacher's modules, one plan, and its printable PDF."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, url_for
from flask_babel import force_locale
from flask_login import current_user

from lessons.plans import (
    LessonPlan,
    PublishedModule,
    lesson_plan,
    pdf_filename,
    plans_for,
    published_module,
)
from lessons.views import bp
from lms.accounts.permissions import permission_required
from lms.config import LANGUAGES
from lms.errors import NotFound
from lms.pdf import html_to_pdf


def _published_plan(version_id: int) -> tuple[PublishedModule, LessonPlan]:
    """Only text published in an edition is planned: drafts and unreleased versions 404."""
    found = published_module(version_id, current_user)
    if found is None:
        raise NotFound()
    return found, lesson_plan(version_id)


def _reader_url(found: PublishedModule) -> str:
    edition = found.edition
    return url_for(
        "curriculum.read_module",
        slug=edition.manual_slug,
        language=edition.language,
        number=edition.number,
        module_slug=found.module.module_slug,
    )


@bp.get("/plans", endpoint="plans")
@permission_required("lessons.teach")
def plans_index() -> Any:
    """Every module of the editions the user's classes and cohorts teach from."""
    return render_template("lessons/plans.html", groups=plans_for(current_user))


@bp.get("/plans/<int:version_id>", endpoint="plan")
@permission_required("lessons.teach")
def plan(version_id: int) -> Any:
    found, the_plan = _published_plan(version_id)
    return render_template(
        "lessons/plan.html",
        plan=the_plan,
        edition=found.edition,
        reader_url=_reader_url(found),
        language_name=LANGUAGES.get(the_plan.module.language, the_plan.module.language),
    )


@bp.get("/plans/<int:version_id>.pdf", endpoint="plan_pdf")
@permission_required("lessons.teach")
def plan_pdf(version_id: int) -> Any:
    """The plan printed in the module's own language, labels included."""
    found, the_plan = _published_plan(version_id)
    with force_locale(the_plan.module.language):
        html = render_template("lessons/plan_pdf.html", plan=the_plan, edition=found.edition)
    return Response(
        html_to_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{pdf_filename(the_plan)}"'},
    )
