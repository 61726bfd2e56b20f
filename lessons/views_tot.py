"""ToT pages: creating a ToT from the template, its plan, practice lessons with their
rubric and scores, and recommendations for the manual. Routes live on the lessons blueprint;
each checks its permission against the cohort and calls one service."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from curriculum import api as curriculum
from lessons import practice as practice_service
from lessons import tot as tot_service
from lessons.views import bp
from lms.accounts.permissions import can, permission_required, require
from lms.cohorts import services as cohort_services
from lms.cohorts.models import TOT, Cohort
from lms.config import LANGUAGES
from lms.errors import Invalid, LmsError, NotAllowed, NotFound
from lms.extensions import db
from lms.forms import LmsForm, apply_field_errors
from lms.organisations.forms import GetForm, optional_int, region_choices


class _Required:
    """Marks a field required for the label; the service checks it and says what is wrong."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


def _excerpt(text: str, length: int = 70) -> str:
    flat = " ".join(text.split()).lstrip("# ")  # a heading without its Markdown marks
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


# --- forms ---------------------------------------------------------------------------------


class TotForm(LmsForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region_id = SelectField(_l("Region"), coerce=optional_int, validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    starts_on = DateField(_l("Start date"), validators=[InputRequired()])
    manual = SelectField(_l("Manual"), validators=[DataRequired()], validate_choice=False)
    language = SelectField(
        _l("Language of the training"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGES.items()],
        validators=[DataRequired()],
    )


class CriterionForm(Form):
    """One line of the rubric (a sub-form: the page's form carries the CSRF token)."""

    key = HiddenField()
    text = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    dimension = SelectField(
        _l("Dimension"),
        choices=[SelectChoice(k, v) for k, v in practice_service.DIMENSIONS.items()],
        validate_choice=False,
    )
    remove = BooleanField(_l("Remove this criterion"))


class RubricForm(LmsForm):
    criteria = FieldList(FormField(CriterionForm))
    scale_min = IntegerField(_l("Lowest score"), validators=[InputRequired()])
    scale_max = IntegerField(_l("Highest score"), validators=[InputRequired()])


class PracticeForm(LmsForm):
    participant_id = SelectField(
        _l("Participant"), coerce=optional_int, validators=[_Required()], validate_choice=False
    )
    module_version_id = SelectField(
        _l("Module"), coerce=optional_int, validators=[_Required()], validate_choice=False
    )
    taught_on = DateField(_l("Date"), validators=[InputRequired()])


class ModuleChoiceForm(GetForm):
    module = SelectField(_l("Module"), coerce=optional_int, validate_choice=False)


class RecommendationForm(LmsForm):
    module_version_id = HiddenField()
    paragraph_id = SelectField(_l("Paragraph"), validate_choice=False)
    body = TextAreaField(
        _l("Your recommendation"),
        validators=[_Required(), Length(max=tot_service.MAX_RECOMMENDATION)],
        description=_l("What should change in the manual, and why."),
    )


def _score_form(rubric: practice_service.Rubric, **kwargs: Any) -> LmsForm:
    """A form with one group of radio buttons per criterion of the current rubric."""

    class ScoreForm(LmsForm):
        comment = TextAreaField(
            _l("Comment"),
            validators=[Length(max=practice_service.MAX_COMMENT)],
            description=_l("What went well, and one thing to improve."),
        )

    choices = [SelectChoice(str(v), str(v)) for v in rubric.scale]
    for criterion in rubric.active:
        radio = RadioField(
            criterion.label, choices=choices, validators=[_Required()], validate_choice=False
        )
        setattr(ScoreForm, f"c_{criterion.id}", radio)
    return ScoreForm(**kwargs)


# --- helpers -------------------------------------------------------------------------------


def _tot(cohort_id: int, permission: str) -> Cohort:
    """The ToT cohort, after checking ``permission`` on it (a class is not found here)."""
    cohort = cohort_services.get_cohort(cohort_id)
    require(permission, cohort)
    if cohort.kind != TOT:
        raise NotFound()
    return cohort


def _may_see_results(practice: Any, cohort: Cohort) -> bool:
    return (
        practice.participant_id == current_user.id
        or can(current_user, "cohorts.manage", cohort)
        or can(current_user, "progress.view", cohort)
    )


def _may_score(practice: Any) -> bool:
    try:
        practice_service.scorer_role(practice, current_user)
    except NotAllowed:
        return False
    return True


def _created_message(cohort: Cohort) -> Markup:
    """The flash after creating a ToT, with links to its plan, practice and recommendations."""
    links = [
        (url_for("lessons.tot", cohort_id=cohort.id), _("The plan")),
        (url_for("lessons.practice", cohort_id=cohort.id), _("Practice lessons")),
        (url_for("lessons.rubric", cohort_id=cohort.id), _("Rubric")),
        (url_for("lessons.recommendations", cohort_id=cohort.id), _("Recommendations")),
    ]
    message = Markup("{} ").format(_("%(name)s has been created.", name=cohort.name))
    return message + Markup(" · ").join(
        Markup('<a href="{}">{}</a>').format(url, label) for url, label in links
    )


# --- creating a ToT ------------------------------------------------------------------------


@bp.route("/tot/new", methods=["GET", "POST"])
@permission_required("cohorts.create")
def new_tot() -> Any:
    """Create a three-day ToT with all its sessions; "Preview" shows the plan first."""
    if TOT not in cohort_services.creatable_kinds(current_user):
        raise NotAllowed(_("You may not create ToT cohorts."))
    form = TotForm()
    form.region_id.choices = region_choices(
        cohort_services.creatable_regions(current_user), blank=_l("Choose a region")
    )
    manuals = cohort_services.manual_choices()
    form.manual.choices = [
        SelectChoice("", _("Choose a manual")),
        *(SelectChoice(slug, title) for slug, title in manuals),
    ]
    status = 200
    if request.method == "GET":
        form.language.data = request.args.get("language") or str(get_locale() or "en")
        form.manual.data = request.args.get("manual") or (
            manuals[0][0] if len(manuals) == 1 else ""
        )
    elif request.form.get("action") == "create":
        if form.validate_on_submit():
            try:
                cohort = tot_service.create_tot_from_template(
                    current_user,
                    name=form.name.data or "",
                    region_id=form.region_id.data,
                    venue=form.venue.data or "",
                    starts_on=form.starts_on.data,
                    manual_slug=form.manual.data or "",
                    language=form.language.data or "",
                )
            except LmsError as error:
                db.session.rollback()
                apply_field_errors(form, error)
                status = error.status_code
            else:
                db.session.commit()
                flash(_created_message(cohort), "success")
                return redirect(url_for("cohorts.view", cohort_id=cohort.id))
        else:
            status = 400
    plan = tot_service.preview(
        form.manual.data or "", form.language.data or "", form.starts_on.data
    )
    return render_template(
        "lessons/tot_new.html",
        form=form,
        days=tot_service.plan_by_day(plan),
        outline=tot_service.TEMPLATE,
        stages=tot_service.STAGE_LABELS,
        edition=tot_service.edition_for(form.manual.data or "", form.language.data or "en"),
    ), status


@bp.get("/cohorts/<int:cohort_id>/tot")
@permission_required("cohorts.view")
def tot(cohort_id: int) -> Any:
    """The ToT's plan by day and stage, with the way to its practice and recommendations."""
    cohort = _tot(cohort_id, "cohorts.view")
    return render_template(
        "lessons/tot_plan.html",
        cohort=cohort,
        days=tot_service.tot_sessions(cohort),
        stages=tot_service.STAGE_LABELS,
        manage=can(current_user, "cohorts.manage", cohort),
    )


# --- the rubric ----------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/rubric", methods=["GET", "POST"])
@permission_required("cohorts.manage")
def rubric(cohort_id: int) -> Any:
    """Adapt the criteria and scale practice lessons are scored on (applies to new scores)."""
    cohort = _tot(cohort_id, "cohorts.manage")
    current = practice_service.get_rubric(cohort.id)
    form = RubricForm()
    criteria_errors: list[Any] = []
    status = 200
    if request.method == "GET":
        form.scale_min.data, form.scale_max.data = current.scale_min, current.scale_max
        for criterion in current.active:
            form.criteria.append_entry(
                {
                    "key": criterion.id,
                    "text": str(criterion.label),
                    "dimension": criterion.dimension,
                }
            )
        for _blank in range(3):
            form.criteria.append_entry({"dimension": practice_service.CONTENT})
    elif form.validate_on_submit():
        rows = [
            practice_service.CriterionInput(
                id=entry.form.key.data or "",
                label=entry.form.text.data or "",
                dimension=entry.form.dimension.data or "",
                remove=bool(entry.form.remove.data),
            )
            for entry in form.criteria
        ]
        try:
            practice_service.save_rubric(
                cohort,
                rows,
                scale_min=form.scale_min.data,
                scale_max=form.scale_max.data,
                actor_id=current_user.id,
            )
        except Invalid as error:
            db.session.rollback()
            criteria_errors = list(error.field_errors.get("criteria", []))
            form.scale_min.errors = list(error.field_errors.get("scale_min", []))
            status = 400
        else:
            db.session.commit()
            flash(
                _("The rubric has been saved. It applies to scores given from now on."), "success"
            )
            return redirect(url_for("lessons.rubric", cohort_id=cohort.id))
    else:
        status = 400
    return render_template(
        "lessons/practice_rubric.html",
        cohort=cohort,
        form=form,
        criteria_errors=criteria_errors,
        scored=practice_service.has_scores(cohort.id),
    ), status


# --- practice lessons ----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/practice", methods=["GET", "POST"])
@permission_required("cohorts.view")
def practice(cohort_id: int) -> Any:
    """The cohort's practice lessons with their averages; leaders add one here."""
    cohort = _tot(cohort_id, "cohorts.view")
    manage = can(current_user, "cohorts.manage", cohort)
    modules = tot_service.cohort_modules(cohort)
    form = PracticeForm() if manage else None
    status = 200
    if request.method == "POST" and form is None:
        raise NotAllowed()
    if form is not None:
        form.participant_id.choices = [SelectChoice("", _("Choose a participant"))] + [
            SelectChoice(str(p.id), p.name) for p in practice_service.participants(cohort)
        ]
        form.module_version_id.choices = [SelectChoice("", _("Choose a module"))] + [
            SelectChoice(str(m.version_id), f"{m.position}. {m.title}") for m in modules
        ]
        if request.method == "GET":
            form.taught_on.data = date.today()
        elif form.validate_on_submit():
            try:
                practice_service.add_practice(
                    cohort,
                    participant_id=form.participant_id.data,
                    module_version_id=form.module_version_id.data,
                    taught_on=form.taught_on.data,
                    module_ids=[m.version_id for m in modules],
                    actor_id=current_user.id,
                )
            except LmsError as error:
                db.session.rollback()
                apply_field_errors(form, error)
                status = error.status_code
            else:
                db.session.commit()
                flash(_("The practice lesson has been added."), "success")
                return redirect(url_for("lessons.practice", cohort_id=cohort.id))
        else:
            status = 400
    lessons = practice_service.practice_lessons(cohort)
    rubric_now = practice_service.get_rubric(cohort.id)
    titles = curriculum.versions_by_id(
        sorted({p.module_version_id for p in lessons if p.module_version_id})
    )
    rows = [
        {
            "practice": p,
            "module": titles.get(p.module_version_id or 0),
            "summary": practice_service.summarise(rubric_now, p.scores),
            "may_score": _may_score(p),
            "may_see": _may_see_results(p, cohort),
        }
        for p in lessons
    ]
    return render_template(
        "lessons/practice_list.html",
        cohort=cohort,
        rows=rows,
        form=form,
        manage=manage,
        has_modules=bool(modules),
    ), status


@bp.route("/practice/<int:practice_id>/score", methods=["GET", "POST"])
@permission_required("cohorts.view")
def score(practice_id: int) -> Any:
    """Score a practice lesson on the rubric: the trainer and the other participants."""
    lesson, cohort = practice_service.get_practice(practice_id)
    role = practice_service.scorer_role(lesson, current_user)
    rubric_now = practice_service.get_rubric(cohort.id)
    form = _score_form(rubric_now)
    mine = practice_service.score_of(lesson, current_user)
    status = 200
    if request.method == "GET" and mine is not None:
        form.comment.data = mine.comment
        for criterion in rubric_now.active:
            if criterion.id in mine.scores:
                form[f"c_{criterion.id}"].data = str(mine.scores[criterion.id])
    elif request.method == "POST":
        if form.validate_on_submit():
            values = {
                c.id: int(v) if (v := form[f"c_{c.id}"].data or "").isdigit() else None
                for c in rubric_now.active
            }
            try:
                practice_service.submit_score(lesson, current_user, values, form.comment.data or "")
            except LmsError as error:
                db.session.rollback()
                for key, messages in error.field_errors.items():
                    target = form._fields.get(f"c_{key}") or form._fields.get(key)
                    if target is not None:
                        target.errors = [*target.errors, *messages]
                if not error.field_errors:
                    flash(str(error.message), "error")
                status = error.status_code
            else:
                db.session.commit()
                flash(_("Thank you! Your scores have been saved."), "success")
                return redirect(url_for("lessons.practice", cohort_id=cohort.id))
        else:
            status = 400
    module = curriculum.versions_by_id([lesson.module_version_id or 0]).get(
        lesson.module_version_id or 0
    )
    return render_template(
        "lessons/practice_score.html",
        cohort=cohort,
        lesson=lesson,
        module=module,
        form=form,
        rubric=rubric_now,
        role=role,
        editing=mine is not None,
        dimensions=practice_service.DIMENSIONS,
    ), status


@bp.get("/practice/<int:practice_id>")
@permission_required("cohorts.view")
def practice_lesson(practice_id: int) -> Any:
    """The averages and comments on one practice lesson; its participant sees peers unnamed."""
    lesson, cohort = practice_service.get_practice(practice_id)
    if not _may_see_results(lesson, cohort):
        raise NotAllowed()
    module = curriculum.versions_by_id([lesson.module_version_id or 0]).get(
        lesson.module_version_id or 0
    )
    return render_template(
        "lessons/practice_lesson.html",
        cohort=cohort,
        lesson=lesson,
        module=module,
        summary=practice_service.summarise(practice_service.get_rubric(cohort.id), lesson.scores),
        dimensions=practice_service.DIMENSIONS,
        anonymous=lesson.participant_id == current_user.id,
        trainer_role=practice_service.TRAINER_ROLE,
    )


# --- recommendations -----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/recommendations", methods=["GET", "POST"])
@permission_required("cohorts.view")
def recommendations(cohort_id: int) -> Any:
    """Stage IV: members send recommendations on a module (then a paragraph) to the
    curriculum team; without JavaScript the module is chosen first, the paragraph second."""
    cohort = _tot(cohort_id, "cohorts.view")
    member = tot_service.is_member(cohort, current_user)
    modules = {m.version_id: m for m in tot_service.cohort_modules(cohort)}
    chooser = ModuleChoiceForm(request.args)
    chooser.module.choices = [SelectChoice("", _("Choose a module"))] + [
        SelectChoice(str(m.version_id), f"{m.position}. {m.title}") for m in modules.values()
    ]
    form = RecommendationForm()
    chosen_id = optional_int(
        request.form.get("module_version_id") if request.method == "POST" else chooser.module.data
    )
    chosen = curriculum.module_version(chosen_id) if chosen_id in modules else None
    status = 200
    if request.method == "POST" and not member:
        raise NotAllowed(_("Only the trainers and participants of this ToT send recommendations."))
    if chosen is not None:
        form.module_version_id.data = str(chosen.version_id)
        form.paragraph_id.choices = [SelectChoice("", _("The whole module"))] + [
            SelectChoice(block_id, f"{number}. {_excerpt(text)}")
            for number, (block_id, _kind, text, _html) in enumerate(chosen.blocks, start=1)
        ]
    if request.method == "POST":
        if chosen is None:
            flash(_("Choose a module of the cohort's edition."), "error")
            status = 400
        elif form.validate_on_submit():
            try:
                tot_service.recommend(
                    cohort,
                    current_user,
                    module_version_id=chosen.version_id,
                    paragraph_id=form.paragraph_id.data or "",
                    body=form.body.data or "",
                )
            except LmsError as error:
                db.session.rollback()
                apply_field_errors(form, error)
                status = error.status_code
            else:
                db.session.commit()
                flash(
                    _("Thank you! The recommendation has been sent to the manual's authors."),
                    "success",
                )
                return redirect(url_for("lessons.recommendations", cohort_id=cohort.id))
        else:
            status = 400
    sent = tot_service.recommendations(cohort)
    return render_template(
        "lessons/recommend.html",
        cohort=cohort,
        member=member,
        chooser=chooser,
        chosen=chosen,
        form=form,
        sent=sent,
        excerpts=tot_service.paragraph_excerpts(sent),
        has_modules=bool(modules),
    ), status
