"""Who may see, download and change which certificates.

- the recipient sees and downloads their own certificates;
- a cohort's trainers and teachers (``certificates.issue`` on the cohort) issue to those who
  completed it and download its certificates;
- monitoring officers (``certificates.register``, scoped to their region or madrasa) read
  the register;
- administrators (``certificates.manage``) also issue by hand, revoke and reissue.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from certificates.models import Certificate
from lms.accounts.permissions import can
from lms.cohorts.models import Cohort
from lms.organisations.services import cohort_clause, visible_scope


def may_see(user: Any, certificate: Certificate) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if certificate.recipient_id == user.id:
        return True
    cohort = certificate.cohort
    return (
        can(user, "certificates.issue", cohort)
        or can(user, "certificates.register", cohort)
        or can(user, "certificates.manage")
    )


def may_manage(user: Any) -> bool:
    return can(user, "certificates.manage")


def register_clause(user: Any) -> ColumnElement[bool]:
    """Certificates ``user`` may list: cohorts they lead or oversee (SQL for lists)."""
    clauses = []
    for permission in ("certificates.register", "certificates.issue"):
        scope = visible_scope(user, permission)
        if scope.everywhere:
            return or_(Certificate.id.is_not(None))
        if not scope.nothing:
            clauses.append(Certificate.cohort_id.in_(select(Cohort.id).where(cohort_clause(scope))))
    return or_(*clauses) if clauses else false()


def sees_register(user: Any) -> bool:
    return can(user, "certificates.register") or can(user, "certificates.issue")
