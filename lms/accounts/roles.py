"""The roles a person can hold, and the expertise domains of expert reviewers.

Roles are granted (``RoleGrant``), optionally scoped to a madrasa, a cohort or a manual.
Membership roles are what a person is inside one cohort; they act as grants scoped to that
cohort, so a cohort's trainer is a trainer there and nowhere else.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ADMIN = "admin"
EDITOR = "editor"
REVIEWER = "reviewer"
TRAINER = "trainer"
TEACHER = "teacher"
STUDENT = "student"
MONITOR = "monitor"

#: Grantable roles with their labels, in the order pages list them.
ROLES = {
    ADMIN: _l("Administrator"),
    EDITOR: _l("Curriculum editor"),
    REVIEWER: _l("Expert reviewer"),
    TRAINER: _l("Trainer"),
    TEACHER: _l("Teacher"),
    STUDENT: _l("Student"),
    MONITOR: _l("Monitoring officer"),
}

#: Which scopes each role may be limited to ("" is everywhere).
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    ADMIN: ("",),
    EDITOR: ("", "manual"),
    REVIEWER: ("", "manual"),
    TRAINER: ("", "cohort"),
    TEACHER: ("", "madrasa", "cohort"),
    STUDENT: ("", "madrasa", "cohort"),
    MONITOR: ("", "region", "madrasa"),
}

SCOPE_LABELS = {
    "": _l("everywhere"),
    "region": _l("region"),
    "madrasa": _l("madrasa"),
    "cohort": _l("cohort"),
    "manual": _l("manual"),
}

#: Expertise domains of the review panel.
EXPERTISE = {
    "theology": _l("Theology"),
    "public_policy": _l("Public policy"),
    "civic_education": _l("Civic education"),
    "methodology": _l("Methodology"),
    "health": _l("Health"),
}

PARTICIPANT = "participant"

#: Roles a person can have inside a cohort.
MEMBER_ROLES = {
    TRAINER: _l("Trainer"),
    PARTICIPANT: _l("Participant"),
    TEACHER: _l("Teacher"),
    STUDENT: _l("Student"),
}

#: Membership roles allowed per cohort kind: leaders first, then learners.
MEMBER_ROLES_BY_KIND = {
    "tot": (TRAINER, PARTICIPANT),
    "class": (TEACHER, STUDENT),
}
LEADER_ROLES = frozenset({TRAINER, TEACHER})
LEARNER_ROLES = frozenset({PARTICIPANT, STUDENT})

SEXES = {"female": _l("Female"), "male": _l("Male")}
