"""Teaching sessions and attendance: the schedule, recording a lesson, and its ledger entries.

Recording a held session writes the attendance rows and, for each learner, a progress
record ("attended", "absent" or "excused") in the same transaction, with an audit entry.
A recorded session can be corrected within ``LESSONS_EDIT_WINDOW_DAYS`` (administrators:
always); every correction is audited and appends newer ledger records, never edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lessons.models import (
    ABSENT,
    CANCELLED,
    EXCUSED,
    HELD,
    PLANNED,
    PRESENT,
    Attendance,
    TeachingSession,
)
from lms.accounts.models import User
from lms.accounts.permissions import has_role
from lms.accounts.roles import ADMIN, LEARNER_ROLES
from lms.audit import services as audit
from lms.cohorts.models import Cohort, Membership
from lms.errors import Conflict, Invalid, NotAllowed, NotFound
from lms.extensions import db
from lms.progress import api as progress
from lms.timeutil import utcnow

ITEM_TYPE = "lessons.session"
STATUSES = {PRESENT: _l("Present"), ABSENT: _l("Absent"), EXCUSED: _l("Excused")}
OUTCOMES = {PRESENT: "attended", ABSENT: "absent", EXCUSED: "excused"}


def learners(cohort: Cohort) -> list[User]:
    """The cohort's participants or students, by name (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role.in_(LEARNER_ROLES))
            .order_by(User.name, User.id)
        )
    )


def sessions_of(cohort: Cohort, *, status: str | None = None) -> list[TeachingSession]:
    query = (
        select(TeachingSession)
        .where(TeachingSession.cohort_id == cohort.id)
        .order_by(TeachingSession.held_on, TeachingSession.position, TeachingSession.id)
    )
    if status:
        query = query.where(TeachingSession.status == status)
    return list(db.session.scalars(query))


def get_session(session_id: int) -> TeachingSession:
    found = db.session.scalar(
        select(TeachingSession)
        .where(TeachingSession.id == session_id)
        .options(selectinload(TeachingSession.attendance))
    )
    if found is None:
        raise NotFound()
    return found


def _validate(
    *, held_on: date | None, duration_minutes: int | None, module_version_id: int | None, title: str
) -> dict[str, list[object]]:
    errors: dict[str, list[object]] = {}
    if held_on is None:
        errors["held_on"] = [_l("Enter the date.")]
    if not duration_minutes or not 1 <= duration_minutes <= 600:
        errors["duration_minutes"] = [_l("Give the length in minutes (1 to 600).")]
    if module_version_id is None and not title.strip():
        errors["title"] = [_l("Choose a module or give the session a title.")]
    if module_version_id is not None:
        from curriculum import api as curriculum

        if curriculum.module_version(module_version_id, with_blocks=False) is None:
            errors["module_version_id"] = [_l("Choose a module of the published manual.")]
    return errors


def plan_session(
    cohort: Cohort,
    *,
    held_on: date | None,
    module_version_id: int | None,
    title: str = "",
    duration_minutes: int | None = 45,
    stage: str | None = None,
    day: int | None = None,
    position: int = 0,
    actor_id: int | None,
) -> TeachingSession:
    """Add a session to the cohort's schedule."""
    errors = _validate(
        held_on=held_on,
        duration_minutes=duration_minutes,
        module_version_id=module_version_id,
        title=title,
    )
    if errors:
        raise Invalid(field_errors=errors)
    session = TeachingSession(
        cohort_id=cohort.id,
        module_version_id=module_version_id,
        title=title.strip(),
        held_on=held_on,
        duration_minutes=duration_minutes,
        stage=stage,
        day=day,
        position=position,
        status=PLANNED,
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        "session.plan", "cohort", cohort.id, actor_id=actor_id, details={"session": session.id}
    )
    return session


def can_still_edit(session: TeachingSession, user: User) -> bool:
    """Within the window after recording (or ever, for administrators)."""
    if session.recorded_at is None or has_role(user, ADMIN, globally=True):
        return True
    window = timedelta(days=current_app.config.get("LESSONS_EDIT_WINDOW_DAYS", 7))
    return utcnow() - session.recorded_at <= window


def record_session(
    session: TeachingSession,
    *,
    actor: User,
    attendance: Mapping[int, str],
    held_on: date | None = None,
    duration_minutes: int | None = None,
    notes: str | None = None,
    taught_by_id: int | None = None,
) -> TeachingSession:
    """Record that the session was held, with each learner's attendance.

    ``attendance`` maps learner ids to present/absent/excused; every learner of the cohort
    must be given one, and nobody else.
    """
    if session.status == CANCELLED:
        raise Conflict(_l("This session was cancelled."))
    if not can_still_edit(session, actor):
        raise NotAllowed(_l("The time to correct this lesson has passed. Ask an administrator."))
    cohort = db.session.get(Cohort, session.cohort_id)
    assert cohort is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    expected = {learner.id for learner in learners(cohort)}
    errors: dict[str, list[object]] = {}
    if set(attendance) != expected:
        errors["attendance"] = [_l("Mark every learner present, absent or excused.")]
    if any(status not in STATUSES for status in attendance.values()):
        errors["attendance"] = [_l("Mark every learner present, absent or excused.")]
    errors.update(
        _validate(
            held_on=held_on or session.held_on,
            # ``is None``, not ``or``: an explicit 0 must fail here, not at the CHECK constraint.
            duration_minutes=session.duration_minutes
            if duration_minutes is None
            else duration_minutes,
            module_version_id=session.module_version_id,
            title=session.title,
        )
    )
    if errors:
        raise Invalid(field_errors=errors)

    correcting = session.status == HELD
    if held_on is not None:
        session.held_on = held_on
    if duration_minutes is not None:
        session.duration_minutes = duration_minutes
    if notes is not None:
        session.notes = notes.strip()
    session.taught_by_id = taught_by_id or session.taught_by_id or actor.id
    session.status = HELD
    if not correcting:
        session.recorded_at = utcnow()
        session.recorded_by_id = actor.id
    session.updated_at = utcnow()

    existing = {row.user_id: row for row in session.attendance}
    changed: dict[int, str] = {}
    for user_id, status in attendance.items():
        row = existing.get(user_id)
        if row is None:
            session.attendance.append(
                Attendance(user_id=user_id, status=status, recorded_by_id=actor.id)
            )
            changed[user_id] = status
        elif row.status != status:
            row.status, row.recorded_by_id, row.recorded_at = status, actor.id, utcnow()
            changed[user_id] = status
    for user_id, status in changed.items():
        progress.record(
            user_id=user_id,
            cohort_id=cohort.id,
            item_type=ITEM_TYPE,
            item_id=session.id,
            outcome=OUTCOMES[status],
            source="lessons",
            recorded_by_id=actor.id,
            details={"held_on": session.held_on.isoformat()},
        )
    db.session.flush()
    audit.record(
        "session.correct" if correcting else "session.record",
        "session",
        session.id,
        actor_id=actor.id,
        details={"cohort": cohort.id, "changed": {str(k): v for k, v in changed.items()}},
    )
    return session


def cancel_session(session: TeachingSession, *, actor_id: int | None) -> None:
    if session.status == HELD:
        raise Conflict(_l("A lesson that was held cannot be cancelled; correct it instead."))
    session.status = CANCELLED
    session.updated_at = utcnow()
    audit.record("session.cancel", "session", session.id, actor_id=actor_id)


def attendance_counts(session_ids: list[int]) -> dict[int, dict[str, int]]:
    """Marks per session and status ("18 of 25 present"), in one grouped query for lists."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Attendance.session_id, Attendance.status, func.count(Attendance.id))
        .where(Attendance.session_id.in_(session_ids))
        .group_by(Attendance.session_id, Attendance.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for session_id, status, n in rows:
        counts.setdefault(session_id, {})[status] = n
    return counts


def learner_attendance(cohort: Cohort) -> dict[int, dict[str, int]]:
    """Per learner, the held sessions they were marked in, by status (one grouped query).

    Counting marks rather than all held sessions is fair to a learner who joined late.
    """
    rows = db.session.execute(
        select(Attendance.user_id, Attendance.status, func.count(Attendance.id))
        .join(TeachingSession, TeachingSession.id == Attendance.session_id)
        .where(TeachingSession.cohort_id == cohort.id, TeachingSession.status == HELD)
        .group_by(Attendance.user_id, Attendance.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for user_id, status, n in rows:
        counts.setdefault(user_id, {})[status] = n
    return counts


def attendance_list(session: TeachingSession) -> list[tuple[User, str]]:
    """Who was marked what at one session, by name (one query)."""
    rows = db.session.execute(
        select(User, Attendance.status)
        .join(Attendance, Attendance.user_id == User.id)
        .where(Attendance.session_id == session.id)
        .order_by(User.name, User.id)
    )
    return [(user, status) for user, status in rows]
