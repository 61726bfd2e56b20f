"""Denied access in the audit log: every 403 answer, once per person and object per window.

Connected to Flask's ``request_finished`` signal, so it sees the 403 page that ``NotAllowed``
(or ``abort(403)``) became, for pages and the JSON API alike. An entry records who (the
user id, or none when logged out), the endpoint, the method and the object (the route's
``…_id`` argument, all arguments in the details). A bot cannot fill the log: the same person
and object are recorded once per ``AUDIT_DENIED_WINDOW`` seconds (default 600), and at most
``AUDIT_DENIED_PER_HOUR`` entries (default 30) per person per hour, and for everyone
logged out together; what goes over is counted in the application log only.
``AUDIT_DENIED_ACCESS = False`` turns it off.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, request, request_finished
from sqlalchemy import func, select

from lms.extensions import db

log = logging.getLogger(__name__)

ACTION = "access.denied"
DEFAULT_WINDOW = 600
DEFAULT_PER_HOUR = 30


def _actor_id() -> int | None:
    from flask_login import current_user

    try:
        if current_user and current_user.is_authenticated:
            return int(current_user.id)
    except Exception:  # a broken session must not break the 403 page
        return None
    return None


def _object(args: dict[str, str]) -> tuple[str, str]:
    """The most specific object a route names: its last ``…_id`` argument, else the page."""
    ids = [(name[:-3], value) for name, value in args.items() if name.endswith("_id")]
    if ids:
        return ids[-1][0][:64], ids[-1][1][:64]
    return "page", (request.endpoint or request.path)[:64]


def record_denied(app: Flask) -> bool:
    """Write one ``access.denied`` entry for the current request; False if suppressed."""
    from lms.audit import services as audit
    from lms.audit.models import AuditEntry
    from lms.timeutil import utcnow

    actor_id = _actor_id()
    args = {str(k): str(v)[:100] for k, v in (request.view_args or {}).items()}
    object_type, object_id = _object(args)
    endpoint = request.endpoint or "-"
    now = utcnow()
    window = int(app.config.get("AUDIT_DENIED_WINDOW", DEFAULT_WINDOW))
    per_hour = int(app.config.get("AUDIT_DENIED_PER_HOUR", DEFAULT_PER_HOUR))
    # Whatever the view left unsaved when it refused is not ours to commit.
    db.session.rollback()
    who = AuditEntry.actor_id == actor_id if actor_id is not None else AuditEntry.actor_id.is_(None)
    mine = select(AuditEntry.id).where(AuditEntry.action == ACTION, who)
    repeated = db.session.scalar(
        mine.where(
            AuditEntry.object_type == object_type,
            AuditEntry.object_id == object_id,
            AuditEntry.at >= now - timedelta(seconds=window),
        ).limit(1)
    )
    if repeated is not None:
        return False
    recent = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == ACTION, who, AuditEntry.at >= now - timedelta(hours=1))
    )
    if recent >= per_hour:
        log.warning(
            "access denied (not audited: over %s an hour): user %s, %s %s",
            per_hour,
            actor_id,
            request.method,
            endpoint,
        )
        return False
    audit.record(
        ACTION,
        object_type,
        object_id,
        actor_id=actor_id,
        details={"endpoint": endpoint, "method": request.method, "args": args},
    )
    db.session.commit()
    return True


def _enabled(app: Flask) -> bool:
    value = app.config.get("AUDIT_DENIED_ACCESS", True)
    if isinstance(value, str):  # LMS_AUDIT_DENIED_ACCESS=false from the environment
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


def _on_request_finished(sender: Flask, response: Any, **_extra: Any) -> None:
    if response.status_code != 403 or not _enabled(sender):
        return
    log.info("access denied: user %s, %s %s", _actor_id(), request.method, request.endpoint)
    try:
        record_denied(sender)
    except Exception:  # the 403 page is already made; a failed entry must not become a 500
        log.exception("could not write the access.denied audit entry")
        db.session.rollback()


request_finished.connect(_on_request_finished, weak=False)
