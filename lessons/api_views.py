"""The lessons JSON API, under ``/api/v1/lessons`` (described in lessons/openapi.py).

Same rules as the pages: the schedule for anyone who may view the cohort, every learner's
mark for leaders and monitors, one's own mark for a learner, recording for those who manage
the cohort. The API uses the pages' log-in cookie, so a POST must carry the CSRF token in
the ``X-CSRFToken`` header, as Flask-WTF checks for every POST; every successful GET hands the
token out in that same response header.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from curriculum import api as curriculum
from lessons import sessions as service
from lessons.models import CANCELLED, TeachingSession
from lessons.views_sessions import can_record, sees_everyone, session_modules, session_title
from lms.accounts.permissions import can, require
from lms.api import CSRF_HEADER
from lms.cohorts.models import Cohort
from lms.cohorts.services import get_cohort
from lms.errors import TITLES, Conflict, Invalid
from lms.extensions import db
from lms.progress import api as progress

api_bp = Blueprint("lessons_api", __name__, url_prefix="/api/v1/lessons")


@api_bp.after_request
def _hand_out_csrf_token(response: Any) -> Any:
    """Scripts read the token here; the header (not a form field) is what they send back."""
    if request.method == "GET" and response.status_code == 200 and current_user.is_authenticated:
        response.headers[CSRF_HEADER] = generate_csrf()
    return response


@api_bp.errorhandler(Invalid)
def _invalid(error: Invalid) -> ResponseReturnValue:
    """The host's error shape, plus which fields are wrong (a form shows them in place)."""
    body = {
        "error": {
            "status": 400,
            "title": str(TITLES[400]),
            "message": str(error.message),
            "fields": {
                name: [str(m) for m in messages] for name, messages in error.field_errors.items()
            },
        }
    }
    return jsonify(body), 400


# --- routes ------------------------------------------------------------------------------


@api_bp.get("/cohorts/<int:cohort_id>/sessions")
@login_required
def cohort_sessions(cohort_id: int) -> ResponseReturnValue:
    """The cohort's schedule in date order, with attendance counts of held sessions."""
    cohort = _cohort(cohort_id, "cohorts.view")
    found = service.sessions_of(cohort)
    modules = session_modules(found)
    counts = service.attendance_counts([s.id for s in found])
    return jsonify(
        {
            "cohort": cohort.id,
            "sessions": [session_json(s, modules, counts.get(s.id, {})) for s in found],
        }
    )


@api_bp.get("/sessions/<int:session_id>")
@login_required
def session(session_id: int) -> ResponseReturnValue:
    """One session: every mark for leaders, only one's own for a learner."""
    found, cohort = _session(session_id, "cohorts.view")
    counts = service.attendance_counts([found.id]).get(found.id, {})
    body = session_json(found, session_modules([found]), counts)
    body.update(_marks_json(found, cohort))
    return jsonify(body)


@api_bp.get("/sessions/<int:session_id>/attendance")
@login_required
def attendance(session_id: int) -> ResponseReturnValue:
    """Just the marks, as the POST below takes them."""
    found, cohort = _session(session_id, "cohorts.view")
    return jsonify({"session": found.id, **_marks_json(found, cohort)})


@api_bp.post("/sessions/<int:session_id>/attendance")
@login_required
def record_attendance(session_id: int) -> ResponseReturnValue:
    """Record (or correct, within the window) a lesson and every learner's mark."""
    found, cohort = _session(session_id, "cohorts.manage")
    if found.status == CANCELLED:
        raise Conflict(_("This session was cancelled."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Invalid(_("Send a JSON object with the attendance."))
    marks, held_on, minutes, notes = _parse_record(payload)
    service.record_session(
        found,
        actor=current_user,
        attendance=marks,
        held_on=held_on,
        duration_minutes=minutes,
        notes=notes,
    )
    db.session.commit()
    counts = service.attendance_counts([found.id]).get(found.id, {})
    body = session_json(found, session_modules([found]), counts)
    body.update(_marks_json(found, cohort))
    return jsonify(body)


@api_bp.get("/cohorts/<int:cohort_id>/progress")
@login_required
def cohort_progress(cohort_id: int) -> ResponseReturnValue:
    """Per learner: lessons marked, lessons attended, the percentage, and completion."""
    cohort = _cohort(cohort_id, "progress.view")
    learners = service.learners(cohort)
    marks = service.learner_attendance(cohort)
    try:
        completion: dict[int, Any] | None = progress.evaluate_completion(cohort)
    except Invalid:  # the cohort names a rule no plugin provides any more
        completion = None
    rows = []
    for learner in learners:
        counted = marks.get(learner.id, {})
        held = sum(counted.values())
        attended = counted.get("present", 0)
        result = completion.get(learner.id) if completion is not None else None
        rows.append(
            {
                "user_id": learner.id,
                "name": learner.name,
                "sessions_held": held,
                "attended": attended,
                "absent": counted.get("absent", 0),
                "excused": counted.get("excused", 0),
                "attendance_percent": round(100 * attended / held, 1) if held else None,
                "completion": None
                if result is None
                else {"completed": result.completed, "missing": [str(m) for m in result.missing]},
            }
        )
    return jsonify(
        {
            "cohort": cohort.id,
            "completion_rule": cohort.completion_rule or progress.DEFAULT_RULE,
            "sessions_held": len(service.sessions_of(cohort, status="held")),
            "learners": rows,
        }
    )


# --- checks and input --------------------------------------------------------------------


def _cohort(cohort_id: int, permission: str) -> Cohort:
    cohort = get_cohort(cohort_id)
    require(permission, cohort)
    return cohort


def _session(session_id: int, permission: str) -> tuple[TeachingSession, Cohort]:
    found = service.get_session(session_id)
    return found, _cohort(found.cohort_id, permission)


def _parse_record(payload: dict[str, Any]) -> tuple[dict[int, str], date | None, int | None, Any]:
    """The body's fields, typed; every problem is reported at once, by field name."""
    errors: dict[str, list[Any]] = {}
    raw = payload.get("attendance")
    marks: dict[int, str] = {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and k.isdigit() and isinstance(v, str) for k, v in raw.items()
    ):
        errors["attendance"] = [
            _('Give "attendance" as an object of user ids to present, absent or excused.')
        ]
    else:
        marks = {int(k): v for k, v in raw.items()}
    held_on: date | None = None
    if payload.get("held_on") is not None:
        try:
            held_on = date.fromisoformat(str(payload["held_on"]))
        except ValueError:
            errors["held_on"] = [_("Give the date as YYYY-MM-DD.")]
    minutes = payload.get("duration_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)):
        errors["duration_minutes"] = [_("Give the length in minutes (1 to 600).")]
        minutes = None
    notes = payload.get("notes")
    if notes is not None and not isinstance(notes, str):
        errors["notes"] = [_("Give the notes as text.")]
    if errors:
        raise Invalid(field_errors=errors)
    return marks, held_on, minutes, notes


# --- shapes ------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    """Columns hold naive UTC; clients get it with its offset."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else moment.isoformat()


def session_json(
    found: TeachingSession, modules: dict[int, curriculum.ModuleInfo], counts: dict[str, int]
) -> dict[str, Any]:
    module = modules.get(found.module_version_id) if found.module_version_id else None
    return {
        "id": found.id,
        "cohort": found.cohort_id,
        "held_on": found.held_on.isoformat(),
        "duration_minutes": found.duration_minutes,
        "status": found.status,
        "title": session_title(found, modules),
        "module": None
        if module is None
        else {
            "version_id": module.version_id,
            "slug": module.module_slug,
            "position": module.position,
            "language": module.language,
            "title": module.title,
        },
        "stage": found.stage,
        "day": found.day,
        "recorded_at": _iso(found.recorded_at),
        "summary": {
            "present": counts.get("present", 0),
            "absent": counts.get("absent", 0),
            "excused": counts.get("excused", 0),
            "marked": sum(counts.values()),
        },
    }


def _marks_json(found: TeachingSession, cohort: Cohort) -> dict[str, Any]:
    """Leaders get every mark (and the notes); a learner only their own."""
    own = next((row.status for row in found.attendance if row.user_id == current_user.id), None)
    if not sees_everyone(cohort):
        return {"attendance": None, "my_attendance": own, "notes": None, "can_record": False}
    return {
        "attendance": [
            {"user_id": person.id, "name": person.name, "status": status}
            for person, status in service.attendance_list(found)
        ],
        "my_attendance": own,
        "notes": found.notes,
        "can_record": can(current_user, "cohorts.manage", cohort) and can_record(found),
    }
