"""Pages for a cohort's schedule, recording a lesson with attendance, and one session.

Everyone who may view the cohort sees its schedule; planning, recording and cancelling need
``cohorts.manage`` on that cohort. Leaders (and monitors) see every learner's mark; a
learner sees only their own. The services in ``lessons.sessions`` do the checking that
matters (every learner marked, the correction window) and the audit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from curriculum import api as curriculum
from lessons import sessions as service
from lessons.forms_sessions import (
    ConfirmForm,
    PlanSessionForm,
    RecordForm,
    RecordNowForm,
    mark_field,
    record_form,
)
from lessons.models import CANCELLED, HELD, PLANNED, TeachingSession
from lessons.views import bp
from lms.accounts.permissions import can, require
from lms.cohorts.models import Cohort
from lms.cohorts.services import get_cohort
from lms.errors import LmsError, NotAllowed
from lms.extensions import db

#: The length of a lesson when neither the teacher nor the module says.
DEFAULT_MINUTES = 45


# --- shared with the API -------------------------------------------------------------------


def status_labels() -> dict[str, str]:
    """Session statuses in the page's language."""
    return {PLANNED: _("planned"), HELD: _("held"), CANCELLED: _("cancelled")}


def today() -> date:
    """Today where the school is (the app's time zone), not on the server."""
    return datetime.now(get_timezone()).date()


def sees_everyone(cohort: Cohort) -> bool:
    """Leaders and monitors see every learner's mark; learners only their own."""
    return can(current_user, "cohorts.manage", cohort) or can(current_user, "progress.view", cohort)


def cohort_modules(cohort: Cohort) -> list[curriculum.ModuleInfo]:
    """The modules of the edition the cohort teaches from, in the user's language if any."""
    edition = curriculum.cohort_edition(
        cohort.id, cohort.manual, current_user.preferred_language or "en"
    )
    return curriculum.edition_modules(edition.id) if edition is not None else []


def session_modules(sessions: list[TeachingSession]) -> dict[int, curriculum.ModuleInfo]:
    """The module versions taught, in one query."""
    ids = sorted({s.module_version_id for s in sessions if s.module_version_id is not None})
    return curriculum.versions_by_id(ids)


def session_title(session: TeachingSession, modules: dict[int, curriculum.ModuleInfo]) -> str:
    module = modules.get(session.module_version_id) if session.module_version_id else None
    return module.title if module is not None else session.title


def session_title_language(
    session: TeachingSession, modules: dict[int, curriculum.ModuleInfo]
) -> str | None:
    """The language of a module's title (a class may be taught from another language's
    edition), so a screen reader and the page say it right; None for a typed title."""
    module = modules.get(session.module_version_id) if session.module_version_id else None
    return module.language if module is not None else None


def can_record(session: TeachingSession) -> bool:
    """Whether the current user may record (or still correct) this session now."""
    return session.status != CANCELLED and service.can_still_edit(session, current_user)


def _cohort(cohort_id: int, permission: str) -> Cohort:
    cohort = get_cohort(cohort_id)
    require(permission, cohort)
    return cohort


def _session(session_id: int, permission: str) -> tuple[TeachingSession, Cohort]:
    session = service.get_session(session_id)
    return session, _cohort(session.cohort_id, permission)


def _module_form(form: PlanSessionForm | RecordNowForm, modules: list[Any]) -> None:
    form.module_version_id.choices = [
        SelectChoice("", _("— no module —")),
        *(SelectChoice(str(m.version_id), f"{m.position}. {m.title}") for m in modules),
    ]


def _minutes(form: PlanSessionForm | RecordNowForm, modules: list[Any]) -> int:
    """The length given, else the chosen module's, else a usual lesson."""
    given = getattr(form, "duration_minutes", None)
    if given is not None and given.data:
        return int(given.data)
    chosen = next((m for m in modules if m.version_id == form.module_version_id.data), None)
    return chosen.duration_minutes if chosen and chosen.duration_minutes else DEFAULT_MINUTES


def _apply_errors(form: Any, error: LmsError) -> list[str]:
    """Service errors next to their fields; the rest (and the message) for the top of the
    form, so nothing is lost and nothing depends on a redirect."""
    general: list[str] = []
    for name, messages in error.field_errors.items():
        field = getattr(form, name, None)
        if field is None:
            general.extend(str(m) for m in messages)
        else:
            field.errors = [*field.errors, *messages]
    if not error.field_errors:
        general.append(str(error.message))
    return general


# --- the schedule --------------------------------------------------------------------------


def _render_schedule(
    cohort: Cohort,
    *,
    plan_form: PlanSessionForm | None = None,
    now_form: RecordNowForm | None = None,
    status: int = 200,
) -> Any:
    manage = can(current_user, "cohorts.manage", cohort)
    sessions = service.sessions_of(cohort)
    modules_taught = session_modules(sessions)
    if manage:
        modules = cohort_modules(cohort)
        if now_form is None:
            now_form = RecordNowForm(prefix="now", formdata=None)
            # The usual case: the next module nobody has taught yet, in whichever language
            # (a class taught module 1 from the Kyrgyz edition has taught module 1).
            taught = {
                modules_taught[s.module_version_id].module_slug
                for s in sessions
                if s.status == HELD and s.module_version_id in modules_taught
            }
            upcoming = [m.version_id for m in modules if m.module_slug not in taught]
            now_form.module_version_id.data = upcoming[0] if upcoming else None
        plan_form = plan_form or PlanSessionForm(prefix="plan", formdata=None)
        for form in (plan_form, now_form):
            _module_form(form, modules)
        if plan_form.held_on.data is None:
            plan_form.held_on.data = today()
    return (
        render_template(
            "lessons/sessions.html",
            cohort=cohort,
            sessions=sessions,
            titles={s.id: session_title(s, modules_taught) for s in sessions},
            title_languages={s.id: session_title_language(s, modules_taught) for s in sessions},
            counts=service.attendance_counts([s.id for s in sessions]),
            statuses=status_labels(),
            manage=manage,
            plan_form=plan_form,
            now_form=now_form,
            confirm_form=ConfirmForm(),
            has_modules=manage and len(plan_form.module_version_id.choices) > 1,
            editable={s.id: manage and can_record(s) for s in sessions},
        ),
        status,
    )


@bp.get("/cohorts/<int:cohort_id>/sessions")
@login_required
def schedule(cohort_id: int) -> Any:
    """Planned, held and cancelled sessions in date order, with attendance at a glance."""
    return _render_schedule(_cohort(cohort_id, "cohorts.view"))


@bp.post("/cohorts/<int:cohort_id>/sessions", endpoint="plan_session")
@login_required
def plan_session(cohort_id: int) -> Any:
    """Add a session to the schedule."""
    cohort = _cohort(cohort_id, "cohorts.manage")
    modules = cohort_modules(cohort)
    form = PlanSessionForm(prefix="plan")
    _module_form(form, modules)
    if form.validate():
        try:
            service.plan_session(
                cohort,
                held_on=form.held_on.data,
                module_version_id=form.module_version_id.data,
                title=form.title.data or "",
                duration_minutes=_minutes(form, modules),
                stage=(form.stage.data or None) if cohort.is_tot else None,
                day=form.day.data if cohort.is_tot else None,
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            for message in _apply_errors(form, error):
                form.form_errors.append(message)
        else:
            db.session.commit()
            flash(_("The session has been added to the schedule."), "success")
            return redirect(url_for("lessons.schedule", cohort_id=cohort.id))
    return _render_schedule(cohort, plan_form=form, status=400)


@bp.post("/cohorts/<int:cohort_id>/sessions/now")
@login_required
def record_now(cohort_id: int) -> Any:
    """The shortcut for a lesson being taught today: create it, then mark attendance."""
    cohort = _cohort(cohort_id, "cohorts.manage")
    modules = cohort_modules(cohort)
    form = RecordNowForm(prefix="now")
    _module_form(form, modules)
    if form.validate():
        try:
            session = service.plan_session(
                cohort,
                held_on=today(),
                module_version_id=form.module_version_id.data,
                title=form.title.data or "",
                duration_minutes=_minutes(form, modules),
                actor_id=current_user.id,
            )
        except LmsError as error:
            db.session.rollback()
            for message in _apply_errors(form, error):
                form.form_errors.append(message)
        else:
            db.session.commit()
            return redirect(url_for("lessons.record", session_id=session.id))
    return _render_schedule(cohort, now_form=form, status=400)


@bp.post("/sessions/<int:session_id>/cancel", endpoint="cancel_session")
@login_required
def cancel_session(session_id: int) -> Any:
    """Cancel a planned session (a held one is corrected instead)."""
    session, cohort = _session(session_id, "cohorts.manage")
    if ConfirmForm().validate():
        service.cancel_session(session, actor_id=current_user.id)
        db.session.commit()
        flash(_("The session has been cancelled."), "success")
    return redirect(url_for("lessons.schedule", cohort_id=cohort.id))


# --- recording a lesson --------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/record", methods=["GET", "POST"])
@login_required
def record(session_id: int) -> Any:
    """Mark every learner present, absent or excused; "present" is preselected."""
    session, cohort = _session(session_id, "cohorts.manage")
    learners = service.learners(cohort)
    editable = can_record(session)
    form = record_form(
        learners,
        {row.user_id: row.status for row in session.attendance},
        held_on=session.held_on,
        duration_minutes=session.duration_minutes,
        notes=session.notes,
    )
    general: list[str] = []
    status = 200
    if form.is_submitted():
        if session.status == CANCELLED:
            return _render_record(session, cohort, learners, form, general, 409)
        if not editable:
            raise NotAllowed(_("The time to correct this lesson has passed. Ask an administrator."))
        if form.validate():
            try:
                service.record_session(
                    session,
                    actor=current_user,
                    attendance={p.id: form[mark_field(p.id)].data for p in learners},
                    held_on=form.held_on.data,
                    duration_minutes=form.duration_minutes.data,
                    notes=form.notes.data or "",
                )
            except LmsError as error:
                db.session.rollback()
                session, cohort = _session(session_id, "cohorts.manage")
                general = _apply_errors(form, error)
                status = error.status_code
            else:
                db.session.commit()
                flash(_("The lesson and its attendance have been saved."), "success")
                return redirect(url_for("lessons.session", session_id=session.id))
        else:
            status = 400
    return _render_record(session, cohort, learners, form, general, status)


def _render_record(
    session: TeachingSession,
    cohort: Cohort,
    learners: list[Any],
    form: RecordForm,
    general: list[str],
    status: int,
) -> Any:
    modules = session_modules([session])
    unmarked = sum(1 for p in learners if form[mark_field(p.id)].errors)
    return (
        render_template(
            "lessons/session_record.html",
            session=session,
            cohort=cohort,
            title=session_title(session, modules),
            learners=learners,
            form=form,
            mark_field=mark_field,
            general=general,
            unmarked=unmarked,
            editable=can_record(session),
            statuses=status_labels(),
        ),
        status,
    )


# --- one session ---------------------------------------------------------------------------


@bp.get("/sessions/<int:session_id>")
@login_required
def session(session_id: int) -> Any:
    """The session's facts; the whole attendance list for leaders, one's own mark for a
    learner."""
    found, cohort = _session(session_id, "cohorts.view")
    everyone = sees_everyone(cohort)
    own = next((row.status for row in found.attendance if row.user_id == current_user.id), None)
    manage = can(current_user, "cohorts.manage", cohort)
    return render_template(
        "lessons/session.html",
        session=found,
        cohort=cohort,
        title=session_title(found, session_modules([found])),
        everyone=everyone,
        attendance=service.attendance_list(found) if everyone else [],
        counts=service.attendance_counts([found.id]).get(found.id, {}),
        own=own,
        manage=manage,
        editable=manage and can_record(found),
        statuses=status_labels(),
        marks=service.STATUSES,
    )
