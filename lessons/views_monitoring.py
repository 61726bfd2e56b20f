"""Monitoring visit and class roster pages, on the lessons blueprint.

Views parse a form, authorise against the object, call one service and render; the services
validate and write the audit entries, the views commit.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from curriculum import api as curriculum
from lessons import monitoring, roster
from lessons.views import bp
from lms.accounts import csv_import
from lms.accounts.admin_forms import ImportForm
from lms.accounts.permissions import permission_required, require
from lms.cohorts.services import get_cohort
from lms.errors import Conflict, Invalid, LmsError
from lms.extensions import db
from lms.forms import LmsForm, apply_field_errors
from lms.organisations.forms import GetForm, optional_int, region_choices

#: Visits per page of a list.
PER_PAGE = 50
#: How many roster problems one page lists; the rest are counted.
MAX_PROBLEMS_SHOWN = 300


# --- forms ----------------------------------------------------------------------------------


class VisitFilterForm(GetForm):
    region = SelectField(_l("Region"), coerce=optional_int, validators=[Optional()])
    madrasa = SelectField(_l("Madrasa"), coerce=optional_int, validators=[Optional()])
    open = BooleanField(_l("Only visits with open follow-up actions"))


class ChooseMadrasaForm(GetForm):
    madrasa = SelectField(_l("Madrasa visited"), coerce=optional_int, validators=[Optional()])


class VisitForm(LmsForm):
    visited_on = DateField(
        _l("Date of the visit"),
        validators=[InputRequired(message=_l("Enter the date of the visit."))],
    )
    visitors = TextAreaField(
        _l("Other visitors"),
        validators=[Optional(), Length(max=monitoring.MAX_VISITORS)],
        description=_l("External specialists who came with you: names and roles."),
    )
    cohort_id = SelectField(_l("Class observed"), coerce=optional_int, validators=[Optional()])
    module_version_id = SelectField(
        _l("Module taught"), coerce=optional_int, validators=[Optional()]
    )
    findings = TextAreaField(_l("Findings"), validators=[Optional()])
    follow_ups = TextAreaField(
        _l("Follow-up actions"),
        validators=[Optional()],
        description=_l("What the madrasa or the project will do, and by when."),
    )
    finding_text = TextAreaField(_l("What you found about the manual"), validators=[Optional()])
    finding_module_id = SelectField(_l("Module"), coerce=optional_int, validators=[Optional()])
    finding_paragraph = StringField(
        _l("Paragraph"),
        validators=[Optional(), Length(max=16)],
        description=_l("Optional: the paragraph's number, counted from the top of the module."),
    )


_SCORE_CHOICES = [
    SelectChoice("", _l("Not observed")),
    *(SelectChoice(str(k), v) for k, v in monitoring.SCORES.items()),
]
for _item in monitoring.CHECKLIST:
    setattr(
        VisitForm,
        f"score_{_item.id}",
        RadioField(_item.label, choices=_SCORE_CHOICES, default="", validators=[Optional()]),
    )


class FollowUpForm(LmsForm):
    done = HiddenField()


# --- helpers ----------------------------------------------------------------------------------


def _language() -> str:
    return str(get_locale() or "en")


def _madrasa_label(madrasa: Any) -> str:
    return f"{madrasa.name} ({madrasa.region.name})"


def _module_choices(choices: monitoring.LessonChoices, blank: Any) -> list[SelectChoice]:
    """Modules grouped by edition (``<optgroup>``), after an empty first option."""
    options = [SelectChoice("", blank)]
    for group in choices.editions.values():
        options.extend(
            SelectChoice(str(m.version_id), f"{m.position}. {m.title}", optgroup=group.label)
            for m in group.modules
        )
    return options


def _visit_fields(form: VisitForm) -> monitoring.VisitFields:
    checklist = {}
    for item in monitoring.CHECKLIST:
        raw = getattr(form, f"score_{item.id}").data or ""
        checklist[item.id] = int(raw) if raw.isdigit() else None
    return monitoring.VisitFields(
        visited_on=form.visited_on.data,
        visitors=form.visitors.data or "",
        cohort_id=form.cohort_id.data,
        module_version_id=form.module_version_id.data,
        checklist=checklist,
        findings=form.findings.data or "",
        follow_ups=form.follow_ups.data or "",
        finding_text=form.finding_text.data or "",
        finding_module_id=form.finding_module_id.data,
        finding_paragraph=form.finding_paragraph.data or "",
    )


def _visit_rows(visits: list[Any]) -> list[tuple[Any, float | None, bool]]:
    return [
        (v, monitoring.checklist_average(v.checklist), monitoring.has_open_follow_ups(v))
        for v in visits
    ]


# --- monitoring visits ------------------------------------------------------------------------


@bp.get("/visits")
@permission_required(monitoring.PERMISSION)
def visits() -> Any:
    """Visits to the madrasas the officer may monitor, filtered by region and madrasa."""
    form = VisitFilterForm(request.args)
    form.region.choices = region_choices(
        monitoring.visible_regions(current_user), blank=_l("All regions")
    )
    madrasas = monitoring.visible_madrasas(current_user, region_id=form.region.data)
    form.madrasa.choices = [SelectChoice("", _l("All madrasas"))] + [
        SelectChoice(str(m.id), _madrasa_label(m)) for m in madrasas
    ]
    page = db.paginate(
        monitoring.visit_query(
            current_user,
            region_id=form.region.data,
            madrasa_id=form.madrasa.data,
            open_only=bool(form.open.data),
        ),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "lessons/visits.html",
        form=form,
        page=page,
        rows=_visit_rows(page.items),
        madrasa=None,
        pager_args={
            "region": form.region.data or "",
            "madrasa": form.madrasa.data or "",
            "open": "y" if form.open.data else "",
        },
        max_score=monitoring.MAX_SCORE,
    )


@bp.get("/madrasas/<int:madrasa_id>/visits")
@permission_required(monitoring.PERMISSION)
def madrasa_visits(madrasa_id: int) -> Any:
    """Every visit to one madrasa, newest first."""
    madrasa = monitoring.get_madrasa(madrasa_id)
    require(monitoring.PERMISSION, madrasa)
    page = db.paginate(
        monitoring.visit_query(current_user, madrasa_id=madrasa.id),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "lessons/visits.html",
        form=None,
        page=page,
        rows=_visit_rows(page.items),
        madrasa=madrasa,
        pager_args={"madrasa_id": madrasa.id},
        max_score=monitoring.MAX_SCORE,
    )


@bp.route("/visits/new", methods=["GET", "POST"])
@permission_required(monitoring.PERMISSION)
def new_visit() -> Any:
    """Record a visit: first the madrasa (a GET form, no JavaScript), then the visit."""
    chooser = ChooseMadrasaForm(request.args)
    madrasas = monitoring.visible_madrasas(current_user)
    chooser.madrasa.choices = [SelectChoice("", _l("Choose a madrasa"))] + [
        SelectChoice(str(m.id), _madrasa_label(m)) for m in madrasas
    ]
    if chooser.madrasa.data is None and len(madrasas) == 1:
        chooser.madrasa.data = madrasas[0].id
    if chooser.madrasa.data is None:
        return render_template("lessons/visit_form.html", chooser=chooser, form=None)

    madrasa = monitoring.get_madrasa(chooser.madrasa.data)
    require(monitoring.PERMISSION, madrasa)
    choices = monitoring.lesson_choices(madrasa, _language())
    form = VisitForm()
    form.cohort_id.choices = [SelectChoice("", _l("No class observed"))] + [
        SelectChoice(str(c.id), c.name) for c in choices.classes
    ]
    form.module_version_id.choices = _module_choices(choices, _l("No module"))
    form.finding_module_id.choices = _module_choices(choices, _l("Choose the module"))
    if request.method == "GET":
        form.visited_on.data = monitoring.local_today()
    if form.validate_on_submit():
        try:
            visit, feedback_id = monitoring.record_visit(
                current_user, madrasa, _visit_fields(form), language=_language()
            )
        except LmsError as error:
            db.session.rollback()
            apply_field_errors(form, error)
        else:
            db.session.commit()
            flash(_("The visit has been recorded."), "success")
            if feedback_id is not None:
                flash(
                    _(
                        "Your finding about the manual has been sent to the curriculum team "
                        "(feedback no. %(n)s).",
                        n=feedback_id,
                    ),
                    "success",
                )
            return redirect(url_for("lessons.visit", visit_id=visit.id))
    return render_template(
        "lessons/visit_form.html",
        chooser=chooser,
        form=form,
        madrasa=madrasa,
        choices=choices,
        checklist=[(item, getattr(form, f"score_{item.id}")) for item in monitoring.CHECKLIST],
    )


@bp.route("/visits/<int:visit_id>", methods=["GET", "POST"])
@permission_required(monitoring.PERMISSION)
def visit(visit_id: int) -> Any:
    """One visit; a POST marks its follow-up actions done (or open again)."""
    found = monitoring.get_visit(visit_id)
    require(monitoring.PERMISSION, found.madrasa)
    form = FollowUpForm()
    if form.validate_on_submit():
        done = form.done.data != "0"
        try:
            changed = monitoring.set_follow_ups_done(found, done, actor=current_user)
        except LmsError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            if changed:
                flash(
                    _("The follow-up actions are marked done.")
                    if done
                    else _("The follow-up actions are open again."),
                    "success",
                )
        return redirect(url_for("lessons.visit", visit_id=visit_id))
    module = None
    if found.module_version_id is not None:
        module = curriculum.versions_by_id([found.module_version_id]).get(found.module_version_id)
    return render_template(
        "lessons/visit.html",
        visit=found,
        form=form,
        module=module,
        checklist=[(item, found.checklist.get(item.id)) for item in monitoring.CHECKLIST],
        scores=monitoring.SCORES,
        average=monitoring.checklist_average(found.checklist),
        max_score=monitoring.MAX_SCORE,
        open_follow_ups=monitoring.has_open_follow_ups(found),
    )


# --- class roster -----------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/roster", methods=["GET", "POST"], endpoint="roster")
@permission_required("cohorts.manage")
def roster_import(cohort_id: int) -> Any:
    """Upload a class list: every row is checked first; nothing is imported on a problem."""
    cohort = get_cohort(cohort_id)
    require("cohorts.manage", cohort)
    roster.ensure_class(cohort)
    form = ImportForm()
    problems: list[Any] = []
    max_rows = current_app.config["CSV_IMPORT_MAX_ROWS"]
    if form.validate_on_submit():
        upload = form.file.data
        limit = csv_import.max_bytes(max_rows)
        try:
            # One byte more than allowed is enough to know the file is too large.
            text = csv_import.decode_csv(upload.read(limit + 1), upload.filename or "", limit=limit)
        except Invalid as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            result = roster.parse_roster(
                text,
                cohort=cohort,
                max_rows=max_rows,
                default_language=current_user.preferred_language,
            )
            problems = result.problems
            if result.ok:
                try:
                    entries = roster.import_roster(cohort, result.rows, actor_id=current_user.id)
                except Conflict as error:
                    db.session.rollback()
                    form.file.errors = [*form.file.errors, error.message]
                else:
                    db.session.commit()
                    # The generated passwords exist only in this response: never cache it.
                    response = make_response(
                        render_template("lessons/roster_done.html", cohort=cohort, entries=entries)
                    )
                    response.headers["Cache-Control"] = "no-store"
                    return response
    return render_template(
        "lessons/roster.html",
        cohort=cohort,
        form=form,
        problems=problems[:MAX_PROBLEMS_SHOWN],
        problem_count=len(problems),
        max_rows=max_rows,
        columns=roster.COLUMNS,
    )


@bp.get("/cohorts/<int:cohort_id>/roster/template.csv")
@permission_required("cohorts.manage")
def roster_template(cohort_id: int) -> Response:
    """The header row to fill in; ``?sep=semicolon`` for Excel with Russian settings."""
    cohort = get_cohort(cohort_id)
    require("cohorts.manage", cohort)
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    return Response(
        roster.template_csv(delimiter),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=class-roster.csv"},
    )
