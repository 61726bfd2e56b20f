"""Who may reach what: every route × every actor × their own and other people's objects.

OWASP ASVS 5.0 V8 (authorization), level 2; docs/security-access.md explains the rules.
``MATRIX`` below has one entry per endpoint of the app's URL map (a test fails when a route
is missing from it, or when it names one that no longer exists). Each entry names the
objects its URL is built for and who may reach them; **an actor not named may reach
nothing** (403 or 404, or the log-in page for a visitor):

- ``OWN``: only their own objects — their class or cohort, their madrasa or region, their
  manual, their attempt, their certificate, their job (``OWNERS`` in conftest.py says
  whose each object is). A page they open must show nothing of side B (whose names all
  contain ``BRAVO``); on a page without an object (a list, a form) that is what ``OWN``
  means.
- ``ALL``: everyone's (a global role, or something meant for every holder of the role).
- ``only(...)``: exactly these objects (a participant scores a fellow's practice lesson,
  never their own).
- ``users=…``: every logged-in actor not named otherwise; ``public=True``: visitors too.
- ``post={...}``: who may use the route's POST (or PUT), when that differs from its GET;
  ``post_urls`` and ``data``: a form that names its object in the body (a class created
  in madrasa A or B).
- A target named ``"A/class!B/class"`` puts someone else's object inside one's own (class
  B's member in class A's URL): nobody may reach it, not even an administrator.
- ``known(expected, "reason")`` marks a cell that does not behave as it should yet
  (with a ``# KNOWN:`` comment); the test then expects that deviation, xfail-style, and
  fails when it goes away so that the mark is removed. There are none today.

For every endpoint × method × actor × object the test sends one request (no redirect is
followed; a POST carries no valid form unless ``data``/``json`` gives what is needed to get
past validation to the permission check). Reached means 200, 201, 204, 301, 302, 303 or 409
(a 400 counts either way); refused means 403 or 404, 302 to the log-in page or 401 from the
API for a visitor. A refused request must change nothing: triggers record every insert,
update and delete (stricter than counting rows), and a refused actor whose request wrote
anything fails, whatever the status. After any request that wrote, the world is restored.
A failure lists each unexpected answer as ``endpoint METHOD actor object: status, what``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.security.conftest import ACTORS, OTHER_MARK, OWNERS, World

SIDES = ("A", "B")
COHORTS = ("A/class", "A/tot", "B/class", "B/tot")
CLASSES = ("A/class", "B/class")
TOTS = ("A/tot", "B/tot")
#: A learner's own thing, a classmate's or fellow participant's, and one of side B.
PERSONAL = ("A/class", "A/class:peer", "A/tot", "A/tot:peer", "B/class", "B/tot")

OWN, ALL = "own", "all"
#: In a target's name: an object of one's own with someone else's inside it (a member of
#: another cohort in one's own cohort's URL): nobody's, refused to everyone.
MIXED = "!"


@dataclass(frozen=True)
class Only:
    targets: frozenset[str]


def only(*targets: str) -> Only:
    return Only(frozenset(targets))


@dataclass(frozen=True)
class Known:
    """A cell that does not behave as ``expected`` yet (see its ``# KNOWN:`` comment)."""

    expected: Any
    reason: str


def known(expected: Any, reason: str) -> Known:
    return Known(expected, reason)


Urls = Callable[[World], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Access:
    urls: Urls
    who: Mapping[str, Any]
    post: Mapping[str, Any] | None = None
    #: The objects of the POST (or PUT) when they differ from the GET's: a form that names
    #: its object in the body (``data`` is then built per object).
    post_urls: Urls | None = None
    #: The form (or JSON) body of a POST or PUT: a dict, or ``(world, target) -> dict``.
    data: Any = None
    json: Any = None
    public: bool = False
    #: Statuses that also mean "refused" on this route (the state must not change all the
    #: same), e.g. a filter outside one's scope that the form rejects.
    refused: tuple[int, ...] = ()


def access(
    urls: Urls,
    *,
    post: Mapping[str, Any] | None = None,
    post_urls: Urls | None = None,
    data: Any = None,
    json: Any = None,
    public: bool = False,
    refused: tuple[int, ...] = (),
    **who: Any,
) -> Access:
    unknown = (set(who) | set(post or {})) - set(ACTORS) - {"users"}
    assert not unknown, f"no such actors: {unknown}"
    return Access(urls, who, post, post_urls, data, json, public, refused)


# --- which objects each URL is built for ------------------------------------------------------


def per(targets: tuple[str, ...], build: Callable[[World, str], dict[str, Any]]) -> Urls:
    return lambda w: {target: build(w, target) for target in targets}


def nested(
    targets: tuple[str, ...],
    mixed: tuple[tuple[str, str], ...],
    build: Callable[[World, str, str], dict[str, Any]],
) -> Urls:
    """Two objects in one URL (outer, inner): each target's own pair, and mismatched pairs
    (``"A/class!B/class"``: class A's URL with class B's member in it)."""
    return lambda w: {
        **{target: build(w, target, target) for target in targets},
        **{f"{outer}{MIXED}{inner}": build(w, outer, inner) for outer, inner in mixed},
    }


def fixed(**values: Any) -> Urls:
    """A page without an object."""
    return lambda w: {"-": dict(values)}


PAGE = fixed()
COHORT = per(COHORTS, lambda w, t: {"cohort_id": w.id("cohort", t)})
CLASS = per(CLASSES, lambda w, t: {"cohort_id": w.id("cohort", t)})
TOT = per(TOTS, lambda w, t: {"cohort_id": w.id("cohort", t)})
SESSION = per(COHORTS, lambda w, t: {"session_id": w.id("session", t)})
QUIZ = per(COHORTS, lambda w, t: {"quiz_id": w.id("quiz", t)})
#: A quiz still being written (no attempts yet, so its questions can change).
DRAFT_QUIZ = per(COHORTS, lambda w, t: {"quiz_id": w.id("draft_quiz", t)})
#: A draft quiz with a slot of its own, or of another cohort's draft quiz.
SLOT = nested(
    COHORTS,
    (("A/class", "B/class"), ("A/class", "A/tot")),
    lambda w, o, i: {"quiz_id": w.id("draft_quiz", o), "slot_id": w.id("draft_slot", i)},
)
#: A draft quiz, given a question of its cohort's bank, or of another manual's bank.
ADD_QUESTION = nested(
    COHORTS, (("A/class", "B/class"),), lambda w, o, i: {"quiz_id": w.id("draft_quiz", o)}
)


def _question_of(w: World, target: str) -> dict[str, Any]:
    inner = target.split(MIXED)[-1]
    return {"question_id": w.id("question", inner[0])}


ATTEMPT = per(PERSONAL, lambda w, t: {"attempt_id": w.id("attempt", t)})
ANSWER = per(PERSONAL, lambda w, t: {"answer_id": w.id("answer", t)})
CERTIFICATE = per(PERSONAL, lambda w, t: {"certificate_id": w.id("certificate", t)})
CODE = per(("A/class", "B/class"), lambda w, t: {"code": w.id("code", t)})
PRACTICE = per(("A/tot", "A/tot:peer", "B/tot"), lambda w, t: {"practice_id": w.id("practice", t)})
#: Whose members: one's own cohort with a member of another cohort (same side or not).
OTHER_MEMBERS = (("A/class", "B/class"), ("A/class", "A/tot"), ("A/tot", "A/class"))
MEMBER = nested(
    COHORTS,
    OTHER_MEMBERS,
    lambda w, o, i: {"cohort_id": w.id("cohort", o), "membership_id": w.id("member", i)[1]},
)
LEARNER = nested(
    COHORTS,
    OTHER_MEMBERS,
    lambda w, o, i: {"cohort_id": w.id("cohort", o), "user_id": w.id("member", i)[0]},
)
MADRASA = per(SIDES, lambda w, t: {"madrasa_id": w.id("madrasa", t)})
VISIT = per(SIDES, lambda w, t: {"visit_id": w.id("visit", t)})
CHOOSE_MADRASA = per(SIDES, lambda w, t: {"madrasa": w.id("madrasa", t)})
USER = per(SIDES, lambda w, t: {"user_id": w.id("user", t)})
GRANT = nested(
    SIDES,
    (("A", "B"),),
    lambda w, o, i: {"user_id": w.id("grant", o)[0], "grant_id": w.id("grant", i)[1]},
)
JOB = per(SIDES, lambda w, t: {"job_id": w.id("job", t)})
JOB_FILE = nested(
    SIDES, (("A", "B"),), lambda w, o, i: {"job_id": w.id("job", o), "name": w.id("job_file", i)}
)
MANUAL = per(SIDES, lambda w, t: {"slug": w.id("manual", t)})
MANUAL_LANGUAGE = per(SIDES, lambda w, t: {"slug": w.id("manual", t), "language": "en"})
GLOSSARY = per(SIDES, lambda w, t: {"slug": w.id("manual", t), "language": "ky"})
TERM = nested(
    SIDES,
    (("A", "B"),),
    lambda w, o, i: {"slug": w.id("manual", o), "language": "ky", "term_id": w.id("term", i)},
)
EDITION = per(
    SIDES, lambda w, t: {"slug": w.id("manual", t), "language": "en", "number": w.id("edition", t)}
)
EDITION_MODULE = per(
    SIDES,
    lambda w, t: {
        "slug": w.id("manual", t),
        "language": "en",
        "number": w.id("edition", t),
        "module_slug": w.id("module", t),
    },
)
MODULE = per(SIDES, lambda w, t: {"slug": w.id("manual", t), "module_slug": w.id("module", t)})
#: A version under review (with a request for changes and a comment).
VERSION = per(SIDES, lambda w, t: {"version_id": w.id("version", t)})
#: A draft made from the published version (so it has something to be compared with).
DRAFT = per(SIDES, lambda w, t: {"version_id": w.id("draft", t)})
#: A draft compared with its own published version, or (``?against=``) another manual's.
DIFF = nested(
    SIDES,
    (("A", "B"),),
    lambda w, o, i: (
        {"version_id": w.id("draft", o)}
        | ({} if o == i else {"against": w.id("published_version", i)})
    ),
)
PUBLISHED = per(SIDES, lambda w, t: {"version_id": w.id("published_version", t)})
REVIEW = per(SIDES, lambda w, t: {"review_id": w.id("review", t)})
COMMENT = per(SIDES, lambda w, t: {"comment_id": w.id("comment", t)})
FEEDBACK = per(SIDES, lambda w, t: {"feedback_id": w.id("feedback", t)})
BANK = per(SIDES, lambda w, t: {"bank_id": w.id("bank", t)})
QUESTION = per(SIDES, lambda w, t: {"question_id": w.id("question", t)})
#: Reports take no object: a region in the filters is what is theirs or not.
REPORT = per(SIDES, lambda w, t: {"region": w.id("region", t)})
REPORT_TABLE = per(
    SIDES,
    lambda w, t: {
        "indicator_id": "lms.students_reached",
        "table_id": "by_region",
        "region": w.id("region", t),
    },
)
REPORT_INDICATOR = per(
    SIDES,
    lambda w, t: {"indicator_id": "lms.students_reached", "region": w.id("region", t)},
)
REPORT_RECORDS = per(
    SIDES,
    lambda w, t: {
        "indicator_id": "lms.students_reached",
        "table_id": "by_region",
        "key": "all",
        "region": w.id("region", t),
    },
)
STATUS_LIST = per(("-",), lambda w, t: {"list_id": w.id("status_list", "A")})

#: A start form's idempotency key (8 to 64 letters, digits or dashes).
KEY = "matrix-key-0001"

# --- the matrix ------------------------------------------------------------------------------

# Roles, in short: admin (everything), editor (global) and editor_a (manual A), reviewer_a
# (manual A, seated on its panel) and reviewer_out (global, no seat anywhere), trainer_a
# (of ToT A), teacher_a (of class A, teacher in madrasa A), student_a (in class A),
# participant_a (in ToT A), monitor_a (region A), nobody (no role), anonymous.

#: Those who lead a cohort: the trainer of ToT A and the teacher of class A.
LEADERS = {"trainer_a": OWN, "teacher_a": OWN, "admin": ALL}
#: Everyone who sees a cohort: its leaders and learners, and the region's officer.
COHORT_VIEWERS = {**LEADERS, "student_a": OWN, "participant_a": OWN, "monitor_a": OWN}
#: Those who follow a cohort's progress: its leaders and the region's officer.
PROGRESS = {**LEADERS, "monitor_a": OWN}
#: The curriculum team of a manual: its editors and reviewers.
WORKBENCH = {"editor": ALL, "editor_a": OWN, "reviewer_a": OWN, "reviewer_out": ALL, "admin": ALL}
EDITORS = {"editor": ALL, "editor_a": OWN, "admin": ALL}
#: Everyone who reads the published manuals (any role that grants ``curriculum.view``).
#: Published editions are for every teacher, trainer and officer wherever their role applies
#: (a teacher prepares from the manual before any class of theirs studies it).
READERS = {
    "editor": ALL,
    "editor_a": ALL,
    "reviewer_a": ALL,
    "reviewer_out": ALL,
    "trainer_a": ALL,
    "teacher_a": ALL,
    "participant_a": ALL,
    "monitor_a": ALL,
    "admin": ALL,
}
#: Those who author questions in a bank (the bank lies in its manual's scope).
AUTHORS = {"editor": ALL, "editor_a": OWN, "admin": ALL}
OWNER_OF_ATTEMPT = {"student_a": OWN, "participant_a": OWN}
#: Who sees a certificate: its recipient, the cohort's leaders, the region's officer.
CERTIFICATE_VIEWERS = {**LEADERS, "student_a": OWN, "participant_a": OWN, "monitor_a": OWN}
ADMIN = {"admin": ALL}
MONITORS = {"monitor_a": OWN, "admin": ALL}

MATRIX: dict[str, Access] = {
    # --- the host: home, language, jobs, health, API description ----------------------
    "static": access(fixed(filename="lms.css"), public=True),
    # Visitors see what this is; each user the panels of their roles, with their things.
    "lms.home": access(PAGE, public=True, users=OWN, editor=ALL, reviewer_out=ALL, admin=ALL),
    "lms.set_language": access(PAGE, public=True),
    "lms.health": access(PAGE, public=True),
    "lms_api.openapi": access(PAGE, public=True),
    # A job (its page, status and files) is for whoever started it, and administrators.
    "lms.job": access(JOB, monitor_a=OWN, admin=ALL),
    "lms.job_status": access(JOB, monitor_a=OWN, admin=ALL),
    "lms.job_download": access(JOB_FILE, monitor_a=OWN, admin=ALL),
    # --- accounts: one's own account -------------------------------------------------
    "accounts.login": access(PAGE, public=True),
    "accounts.logout": access(PAGE, public=True),
    "accounts.profile": access(PAGE, users=OWN),
    "accounts.confirm": access(PAGE, users=OWN),
    "accounts.change_password": access(PAGE, users=OWN),
    # --- administration of accounts -----------------------------------------------------
    "admin.users": access(PAGE, **ADMIN),
    "admin.new_user": access(PAGE, **ADMIN),
    "admin.import_users": access(PAGE, **ADMIN),
    "admin.import_template": access(PAGE, **ADMIN),
    "admin.user": access(USER, **ADMIN),
    "admin.set_password": access(USER, **ADMIN),
    "admin.set_active": access(USER, **ADMIN),
    "admin.grant_role": access(USER, **ADMIN),
    "admin.revoke_role": access(GRANT, **ADMIN),
    "admin.export_personal_data": access(USER, **ADMIN),
    "admin.anonymise_user": access(USER, **ADMIN),
    # --- regions and madrasas ------------------------------------------------------------
    # Everyone holding organisations.view somewhere opens the lists; they list only what
    # lies in the holder's scope (a trainer of one cohort, an editor of one manual: none).
    "organisations.regions": access(
        PAGE,
        teacher_a=OWN,
        monitor_a=OWN,
        trainer_a=OWN,
        editor_a=OWN,
        editor=ALL,
        admin=ALL,
    ),
    "organisations.madrasas": access(
        PAGE,
        teacher_a=OWN,
        monitor_a=OWN,
        trainer_a=OWN,
        editor_a=OWN,
        editor=ALL,
        admin=ALL,
    ),
    "organisations.madrasa": access(MADRASA, teacher_a=OWN, monitor_a=OWN, editor=ALL, admin=ALL),
    "organisations.create": access(PAGE, **ADMIN),
    "organisations.edit": access(MADRASA, **ADMIN),
    # --- cohorts --------------------------------------------------------------------------
    "cohorts.index": access(PAGE, **COHORT_VIEWERS),
    "cohorts.view": access(COHORT, **COHORT_VIEWERS),
    # A teacher of madrasa A creates classes there (the madrasa is chosen in the form);
    # a trainer of one ToT is a trainer there only, and creates none.
    "cohorts.create": access(
        PAGE,
        teacher_a=OWN,
        admin=ALL,
        post_urls=per(SIDES, lambda w, t: {"kind": "class"}),
        data=lambda w, t: {
            "name": "New class",
            "madrasa_id": w.id("madrasa", t),
            "starts_on": "2026-09-01",
            "completion_rule": "marked-complete",
        },
        refused=(200,),  # the madrasa is not offered: the form says so
    ),
    "cohorts.edit": access(COHORT, **LEADERS),
    "cohorts.archive": access(COHORT, **LEADERS),
    "cohorts.unarchive": access(COHORT, **LEADERS),
    "cohorts.add_member": access(COHORT, **LEADERS),
    "cohorts.remove_member": access(MEMBER, **LEADERS),
    "cohorts.mark_completion": access(LEARNER, **LEADERS),
    # --- reports (a region in the filters; one outside the officer's scope is a 400) ---
    "reports.index": access(REPORT, refused=(400,), **MONITORS),
    "reports.indicator": access(REPORT_INDICATOR, refused=(400,), **MONITORS),
    "reports.whole_table": access(REPORT_TABLE, refused=(400,), **MONITORS),
    "reports.records": access(REPORT_RECORDS, refused=(400,), **MONITORS),
    "reports.table_csv": access(REPORT_TABLE, refused=(400,), **MONITORS),
    "reports.report_xlsx": access(REPORT, refused=(400,), **MONITORS),
    "reports.donor_report": access(REPORT, data={"language": "en"}, refused=(400,), **MONITORS),
    # --- curriculum: manuals, the workbench, review -----------------------------------------
    "curriculum.static": access(fixed(filename="curriculum.css"), public=True),
    "curriculum.index": access(PAGE, **READERS),
    "curriculum.manual": access(MANUAL, **READERS),
    "curriculum.new_manual": access(PAGE, editor=ALL, admin=ALL),
    "curriculum.module": access(MODULE, **WORKBENCH),
    "curriculum.version": access(VERSION, **WORKBENCH),
    "curriculum.diff": access(DIFF, **WORKBENCH),
    "curriculum.edit_draft": access(DRAFT, **EDITORS),
    "curriculum.submit": access(DRAFT, **EDITORS),
    "curriculum.discard": access(DRAFT, **EDITORS),
    "curriculum.new_draft": access(PUBLISHED, **EDITORS),
    "curriculum.import_modules": access(MANUAL, **EDITORS),
    "curriculum.comment": access(VERSION, **WORKBENCH),
    "curriculum.resolve_comment": access(COMMENT, **WORKBENCH),
    # Deciding takes a seat on the manual's panel: not the editor, not a reviewer
    # outside the panel, not even an administrator.
    "curriculum.decide": access(VERSION, data={"decision": "approve"}, reviewer_a=OWN),
    # Only the reviewer who asked for changes withdraws the request.
    "curriculum.withdraw": access(REVIEW, reviewer_a=OWN),
    "curriculum.dismiss": access(REVIEW, **ADMIN),
    "curriculum.queue": access(PAGE, reviewer_a=OWN, reviewer_out=OWN, admin=ALL),
    "curriculum.panel": access(MANUAL_LANGUAGE, **ADMIN),
    "curriculum.translations": access(MANUAL_LANGUAGE, **WORKBENCH),
    "curriculum.glossary": access(
        GLOSSARY,
        editor=ALL,
        editor_a=OWN,
        reviewer_a=OWN,
        reviewer_out=ALL,
        trainer_a=OWN,
        teacher_a=OWN,
        participant_a=OWN,
        monitor_a=OWN,
        admin=ALL,
        post={
            "editor": ALL,
            "editor_a": OWN,
            "reviewer_a": OWN,
            "reviewer_out": ALL,
            "admin": ALL,
        },
    ),
    "curriculum.glossary_delete": access(
        TERM, editor=ALL, editor_a=OWN, reviewer_a=OWN, reviewer_out=ALL, admin=ALL
    ),
    # --- curriculum: editions and feedback -------------------------------------------------
    "curriculum.editions": access(MANUAL, **READERS),
    "curriculum.edition": access(EDITION, **READERS),
    "curriculum.read": access(MANUAL, **READERS),
    "curriculum.read_module": access(EDITION_MODULE, **READERS),
    "curriculum.edition_pdf": access(EDITION, **READERS),
    "curriculum.edition_zip": access(EDITION, **READERS),
    "curriculum.publish_edition": access(MANUAL_LANGUAGE, **EDITORS),
    "curriculum.cohort_edition": access(COHORT, **LEADERS),
    # Field staff give feedback on the manuals their cohorts (or places) study.
    "curriculum.give_feedback": access(
        PUBLISHED,
        editor=ALL,
        editor_a=OWN,
        trainer_a=OWN,
        teacher_a=OWN,
        participant_a=OWN,
        monitor_a=OWN,
        admin=ALL,
    ),
    "curriculum.feedback_inbox": access(MANUAL, **EDITORS),
    "curriculum.feedback_item": access(FEEDBACK, **EDITORS),
    # --- curriculum API ------------------------------------------------------------------
    # The API lists and serves only the manuals a reader's role reaches (stricter than
    # the pages, which show every published edition to every reader).
    "curriculum_api.manuals": access(
        PAGE, **{**{k: OWN for k in READERS}, "editor": ALL, "reviewer_out": ALL, "admin": ALL}
    ),
    "curriculum_api.manual_editions": access(
        MANUAL,
        **{**{k: OWN for k in READERS}, "editor": ALL, "reviewer_out": ALL, "admin": ALL},
    ),
    "curriculum_api.edition": access(
        EDITION,
        **{**{k: OWN for k in READERS}, "editor": ALL, "reviewer_out": ALL, "admin": ALL},
    ),
    "curriculum_api.version": access(VERSION, **WORKBENCH),
    "curriculum_api.version_diff": access(DIFF, **WORKBENCH),
    # --- lessons: teaching, schedule, attendance, progress --------------------------------
    "lessons.index": access(PAGE, trainer_a=OWN, teacher_a=OWN, admin=ALL),
    "lessons.schedule": access(COHORT, **COHORT_VIEWERS),
    "lessons.plan_session": access(COHORT, **LEADERS),
    "lessons.record_now": access(COHORT, **LEADERS),
    "lessons.session": access(SESSION, **COHORT_VIEWERS),
    "lessons.record": access(SESSION, **LEADERS),
    "lessons.cancel_session": access(SESSION, **LEADERS),
    "lessons.progress": access(COHORT, **PROGRESS),
    "lessons.my_progress": access(PAGE, users=OWN),
    "lessons.madrasa_summary": access(MADRASA, teacher_a=OWN, monitor_a=OWN, admin=ALL),
    # Lesson plans are printed from published editions: any edition, like the reader.
    "lessons.plans": access(PAGE, trainer_a=OWN, teacher_a=OWN, admin=ALL),
    "lessons.plan": access(PUBLISHED, trainer_a=ALL, teacher_a=ALL, admin=ALL),
    "lessons.plan_pdf": access(PUBLISHED, trainer_a=ALL, teacher_a=ALL, admin=ALL),
    "lessons.roster": access(CLASS, teacher_a=OWN, admin=ALL),
    "lessons.roster_template": access(CLASS, teacher_a=OWN, admin=ALL),
    # --- lessons: ToT -----------------------------------------------------------------------
    "lessons.new_tot": access(PAGE, **ADMIN),
    "lessons.tot": access(TOT, trainer_a=OWN, participant_a=OWN, monitor_a=OWN, admin=ALL),
    "lessons.rubric": access(TOT, trainer_a=OWN, admin=ALL),
    "lessons.practice": access(
        TOT,
        trainer_a=OWN,
        participant_a=OWN,
        monitor_a=OWN,
        admin=ALL,
        post={"trainer_a": OWN, "admin": ALL},
    ),
    # The trainer and the fellow participants score a practice lesson, never its teacher.
    # (Not an administrator either: scores come from the ToT's own people.)
    "lessons.score": access(PRACTICE, trainer_a=OWN, participant_a=only("A/tot:peer")),
    # Its teacher sees their own results (peers unnamed); leaders and officers see all.
    "lessons.practice_lesson": access(
        PRACTICE, trainer_a=OWN, participant_a=OWN, monitor_a=OWN, admin=ALL
    ),
    # Members send recommendations; the officer reads them.
    "lessons.recommendations": access(
        TOT,
        trainer_a=OWN,
        participant_a=OWN,
        monitor_a=OWN,
        admin=ALL,
        post={"trainer_a": OWN, "participant_a": OWN},
    ),
    # --- lessons: monitoring --------------------------------------------------------------
    "lessons.visits": access(PAGE, **MONITORS),
    "lessons.madrasa_visits": access(MADRASA, **MONITORS),
    "lessons.new_visit": access(CHOOSE_MADRASA, **MONITORS),
    "lessons.visit": access(VISIT, **MONITORS),
    # --- lessons API ---------------------------------------------------------------------
    "lessons_api.cohort_sessions": access(COHORT, **COHORT_VIEWERS),
    "lessons_api.session": access(SESSION, **COHORT_VIEWERS),
    "lessons_api.attendance": access(SESSION, **COHORT_VIEWERS),
    "lessons_api.record_attendance": access(SESSION, **LEADERS),
    "lessons_api.cohort_progress": access(COHORT, **PROGRESS),
    # --- quizzes: banks and questions ------------------------------------------------------
    # Every author opens the list (a teacher or trainer limited to a class or cohort
    # finds no bank of theirs); a new bank goes into a manual the author works in.
    "quizzes.index": access(
        PAGE,
        **AUTHORS,
        trainer_a=OWN,
        teacher_a=OWN,
        post=AUTHORS,
        post_urls=per(SIDES, lambda w, t: {}),
        data=lambda w, t: {"name": "New bank", "manual_slug": w.id("manual", t)},
        refused=(200,),  # the manual is not offered: the form says so
    ),
    "quizzes.bank": access(BANK, **AUTHORS),
    "quizzes.new_question": access(BANK, **AUTHORS),
    "quizzes.import_gift": access(BANK, **AUTHORS),
    "quizzes.export_gift": access(BANK, **AUTHORS),
    "quizzes.question": access(QUESTION, **AUTHORS),
    "quizzes.edit_question": access(QUESTION, **AUTHORS),
    "quizzes.archive_question": access(QUESTION, **AUTHORS),
    "quizzes.restore_question": access(QUESTION, **AUTHORS),
    "quizzes.link_translation": access(QUESTION, **AUTHORS),
    "quizzes.unlink_translation": access(QUESTION, **AUTHORS),
    # --- quizzes: a cohort's quizzes -----------------------------------------------------
    "quizzes.cohort_quizzes": access(COHORT, **COHORT_VIEWERS, post=LEADERS),
    "quizzes.edit_quiz": access(DRAFT_QUIZ, **LEADERS),
    "quizzes.add_question_slot": access(ADD_QUESTION, data=_question_of, **LEADERS),
    "quizzes.add_random_slot": access(DRAFT_QUIZ, **LEADERS),
    "quizzes.remove_slot": access(SLOT, **LEADERS),
    "quizzes.publish_quiz": access(DRAFT_QUIZ, **LEADERS),
    "quizzes.unpublish_quiz": access(DRAFT_QUIZ, **LEADERS),
    "quizzes.paper_pdf": access(QUIZ, **LEADERS),
    "quizzes.paper_entry": access(QUIZ, **LEADERS),
    "quizzes.quiz_results": access(QUIZ, **PROGRESS),
    "quizzes.quiz_results_csv": access(QUIZ, **PROGRESS),
    "quizzes.cohort_results_csv": access(COHORT, **PROGRESS),
    "quizzes.gains": access(COHORT, **PROGRESS),
    # Item analysis: the cohort's leaders (they reteach) and global question authors.
    "quizzes.analysis": access(QUIZ, **LEADERS, editor=ALL),
    "quizzes.analysis_languages": access(QUIZ, **LEADERS, editor=ALL),
    "quizzes.analysis_feedback": access(QUIZ, **LEADERS, editor=ALL),
    # --- quizzes: taking them -----------------------------------------------------------
    # The quiz page: its learners, and leaders and officers (staff view).
    "quizzes.quiz": access(QUIZ, **COHORT_VIEWERS),
    # Members take quizzes (leaders may try them out); officers do not.
    "quizzes.start": access(
        QUIZ,
        data={"key": KEY},
        trainer_a=OWN,
        teacher_a=OWN,
        student_a=OWN,
        participant_a=OWN,
    ),
    "quizzes.attempt": access(ATTEMPT, **OWNER_OF_ATTEMPT),
    "quizzes.attempt_summary": access(ATTEMPT, **OWNER_OF_ATTEMPT),
    "quizzes.submit": access(ATTEMPT, data={"key": KEY}, **OWNER_OF_ATTEMPT),
    # A submitted attempt: its learner, the leaders who grade, the officer.
    "quizzes.review": access(ATTEMPT, **CERTIFICATE_VIEWERS),
    "quizzes.grading": access(PAGE, trainer_a=OWN, teacher_a=OWN, admin=ALL),
    "quizzes.grade_answer": access(ANSWER, trainer_a=OWN, teacher_a=OWN, admin=ALL),
    # --- quizzes API --------------------------------------------------------------------
    "quizzes_api.cohort_quizzes": access(
        COHORT, trainer_a=OWN, teacher_a=OWN, student_a=OWN, participant_a=OWN
    ),
    "quizzes_api.start": access(
        QUIZ,
        json={"idempotency_key": KEY},
        trainer_a=OWN,
        teacher_a=OWN,
        student_a=OWN,
        participant_a=OWN,
    ),
    "quizzes_api.attempt": access(ATTEMPT, **OWNER_OF_ATTEMPT),
    "quizzes_api.save_answers": access(ATTEMPT, json={"answers": {}}, **OWNER_OF_ATTEMPT),
    "quizzes_api.submit": access(ATTEMPT, json={"idempotency_key": KEY}, **OWNER_OF_ATTEMPT),
    # --- certificates -------------------------------------------------------------------
    "certificates.index": access(PAGE, users=OWN),
    "certificates.register": access(PAGE, trainer_a=OWN, teacher_a=OWN, monitor_a=OWN, admin=ALL),
    "certificates.detail": access(CERTIFICATE, **CERTIFICATE_VIEWERS),
    "certificates.download": access(CERTIFICATE, **CERTIFICATE_VIEWERS),
    "certificates.revoke": access(CERTIFICATE, **ADMIN),
    "certificates.reissue": access(CERTIFICATE, **ADMIN),
    "certificates.cohort_certificates": access(COHORT, **LEADERS),
    "certificates.choose_design": access(COHORT, **LEADERS),
    "certificates.issue_all": access(COHORT, **LEADERS),
    "certificates.issue_one": access(COHORT, **ADMIN),
    "certificates.cohort_zip": access(COHORT, **LEADERS),
    "certificates.cohort_print": access(COHORT, **LEADERS),
    "certificates.designs": access(PAGE, **ADMIN),
    "certificates.preview": access(fixed(design_id="graduate", lang="ky"), **ADMIN),
    "certificates_api.mine": access(PAGE, users=OWN),
    "certificates_api.one": access(CERTIFICATE, **CERTIFICATE_VIEWERS),
    # Checking a certificate is for anyone who holds one in their hands.
    "certificates.issuer": access(PAGE, public=True),
    "certificates.status_list": access(STATUS_LIST, public=True),
    "certificates.status_token": access(STATUS_LIST, public=True),
    "certificates_public.verify_form": access(PAGE, public=True),
    "certificates_public.verify": access(CODE, public=True),
    "certificates_public.verify_json": access(CODE, public=True),
    "certificates_public.short": access(CODE, public=True),
    "certificates_public.offline": access(PAGE, public=True),
    "certificates_public.service_worker": access(PAGE, public=True),
    "certificates_public.static": access(fixed(filename="verify-offline.js"), public=True),
}

# --- the test ----------------------------------------------------------------------------

NONE = "none"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
REACHED = {200, 201, 204, 301, 302, 303, 409}
REFUSED = {403, 404}


@dataclass
class Result:
    failures: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    requests: int = 0


def _expectation(row: Access, method: str, actor: str) -> Any:
    """What ``actor`` may do with this route's ``method`` (``None``: be sent to log in)."""
    if actor == "anonymous":
        return ALL if row.public else None
    table = row.who if method == "GET" or row.post is None else row.post
    default = table.get("users", ALL if row.public else NONE)
    return table.get(actor, default)


def _allowed(value: Any, actor: str, target: str) -> bool:
    if MIXED in target:  # one's own object with someone else's inside it: nobody's
        return False
    if isinstance(value, Known):
        value = value.expected
    if isinstance(value, Only):
        return target in value.targets
    if value == OWN:
        return actor in OWNERS[target]
    return value == ALL


def _judge(
    row: Access,
    method: str,
    expected: Any,
    actor: str,
    target: str,
    response: Any,
    changed: set[str],
) -> str | None:
    """What is wrong with this response, or None."""
    status = response.status_code
    location = response.headers.get("Location", "")
    to_log_in = status == 401 or (status == 302 and "/account/login" in location)
    if status >= 500 or status == 405:
        return f"{status}"
    if expected is None:  # a visitor on a page that needs a log-in
        if changed:
            return f"{status}, visitor changed {sorted(changed)}"
        return None if to_log_in else f"{status}, visitor not sent to log in"
    if _allowed(expected, actor, target):
        if to_log_in or status in REFUSED:
            return f"{status}, refused"
        if status not in REACHED and status != 400:
            return f"{status}?"
        own_only = OWN in (expected, getattr(expected, "expected", None))
        if (
            own_only
            and status == 200
            and (target == "-" or target.startswith("A"))
            and response.mimetype in ("text/html", "application/json", "text/csv")
            and OTHER_MARK in response.get_data(as_text=True)
        ):
            return f"{status}, shows side B"
        return None
    if changed:
        return f"{status}, refused actor changed {sorted(changed)}"
    if status in REFUSED or status in row.refused or status == 400:
        return None
    if MIXED in target and method != "GET":
        return None  # a form naming a mismatched object may say so its own way (unchanged)
    return f"{status}, reached"


def check_endpoint(world: World, endpoint: str) -> Result:
    """Send every request of one endpoint; collect what is not as the matrix says."""
    row = MATRIX[endpoint]
    rules = [rule for rule in world.app.url_map.iter_rules() if rule.endpoint == endpoint]
    methods = sorted({m for rule in rules for m in rule.methods or ()} - SKIPPED_METHODS)
    adapter = world.app.url_map.bind("lms.test")
    result = Result()
    deviations: dict[tuple[str, str], list[str]] = {}  # the cells marked known()
    for method in methods:
        urls = row.post_urls if method != "GET" and row.post_urls else row.urls
        for target, values in urls(world).items():
            url = adapter.build(endpoint, values, method=method)
            body: dict[str, Any] = {}
            if method != "GET":
                given = row.data if row.json is None else row.json
                given = given(world, target) if callable(given) else given
                body = {"data": given} if row.json is None else {"json": given}
            for actor in ACTORS:
                expected = _expectation(row, method, actor)
                response = world.client(actor).open(url, method=method, **body)
                result.requests += 1
                changed = world.restorer.changed()
                if changed:
                    world.restorer.restore(changed)
                problem = _judge(row, method, expected, actor, target, response, changed)
                line = f"{endpoint} {method} {actor} {target}: {problem}"
                if isinstance(expected, Known):
                    deviations.setdefault((method, actor), [])
                    if problem:
                        deviations[(method, actor)].append(line)
                        result.known.append(f"{line} (KNOWN: {expected.reason})")
                elif problem:
                    result.failures.append(line)
    for (method, actor), lines in deviations.items():
        if not lines:
            result.failures.append(
                f"{endpoint} {method} {actor}: marked known() but behaves as the matrix says"
                " now; remove the mark"
            )
    return result


def test_every_route_is_in_the_matrix(world: World) -> None:
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
    missing = sorted(endpoints - MATRIX.keys())
    gone = sorted(MATRIX.keys() - endpoints)
    assert not missing, f"routes missing from the access matrix: {missing}"
    assert not gone, f"the access matrix names routes that no longer exist: {gone}"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_access(world: World, endpoint: str) -> None:
    """One endpoint: every method × actor × object; a failure lists each unexpected answer
    as ``endpoint METHOD actor object: status, what is wrong``."""
    result = check_endpoint(world, endpoint)
    if result.failures:
        pytest.fail(
            f"{len(result.failures)} unexpected of {result.requests} requests:\n"
            + "\n".join(result.failures + result.known),
            pytrace=False,
        )
    if result.known:
        pytest.xfail("\n".join(result.known))


# --- no personal data in URLs ---------------------------------------------------------------

#: Path arguments that are not integer ids, and why none of them is about a person.
TEXT_ARGUMENTS = {
    "slug": "a manual's slug, chosen by the curriculum team",
    "module_slug": "a module's slug, chosen by the curriculum team",
    "language": "en, ru or ky",
    "design_id": "a certificate design's id, registered by a plugin",
    "indicator_id": "a report indicator's id, registered by a plugin",
    "table_id": "a report table's id",
    "key": "a report figure's key: ids and categories such as region:3,sex:female",
    "code": "a certificate's random verification id, printed on it for anyone to check",
    "job_id": "a random UUID",
    "filename": "a static file",
    # The one argument called "name": a file a job made, named by the app after the
    # report and its filters (donor-report-en-….pdf), never after a person.
    "name": "a file a job made, named by the application",
}
#: What a field or argument that carries a person's name or contact details is called.
PERSONAL = re.compile(
    r"user_?name|login|e_?mail|phone|mobile|tel$|surname|first_?name|last_?name|full_?name"
    r"|^name$|person|recipient|^q$|search|query",
    re.IGNORECASE,
)
#: Search forms that send a person's name in the query string (GET), and why that is
#: accepted: both are staff pages (a bookmarkable, back-button-safe list), answered with
#: ``Cache-Control: no-store``, kept from other sites by ``Referrer-Policy: same-origin``,
#: and the term is redacted from every log line (``lms.log_redaction``: ``?q=…``).
#: Nothing a learner or visitor uses takes a name in its address; the log-in form, adding a
#: member or a reviewer by user name, and a user's contact details are POSTed.
GET_SEARCHES_BY_NAME = {
    ("admin.users", "q"): "administrators search accounts by name or user name",
    ("certificates.register", "q"): "officers and leaders search the register by name or serial",
}


def test_no_route_takes_personal_data_in_its_path(world: World) -> None:
    problems = []
    for rule in world.app.url_map.iter_rules():
        for argument, converter in rule._converters.items():
            if type(converter).__name__ == "IntegerConverter":
                continue
            if argument not in TEXT_ARGUMENTS:
                problems.append(f"{rule.endpoint} {rule.rule}: <{argument}> is not an id")
            elif PERSONAL.search(argument) and argument != "name":
                problems.append(f"{rule.endpoint} {rule.rule}: <{argument}> names a person")
    assert not problems, "\n".join(problems)


class _Forms(HTMLParser):
    """The names of the fields of every GET form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._in_get_form = (values.get("method") or "get").lower() == "get"
        elif (
            tag in ("input", "select", "textarea")
            and self._in_get_form
            and values.get("name")
            and (values.get("type") or "").lower() not in ("submit", "button", "hidden")
        ):
            self.fields.add(str(values["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_get_form = False


def test_search_forms_send_names_only_where_documented(world: World) -> None:
    """Every page's GET forms, as every actor who may open the page (side A objects)."""
    adapter = world.app.url_map.bind("lms.test")
    found: set[tuple[str, str]] = set()
    for endpoint, row in sorted(MATRIX.items()):
        rules = [rule for rule in world.app.url_map.iter_rules() if rule.endpoint == endpoint]
        if not any("GET" in (rule.methods or ()) for rule in rules):
            continue
        target, values = next(iter(row.urls(world).items()))
        url = adapter.build(endpoint, values, method="GET")
        for actor in ACTORS:
            if not _allowed(_expectation(row, "GET", actor) or NONE, actor, target):
                continue
            response = world.client(actor).get(url)
            world.restorer.restore(world.restorer.changed())
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = _Forms()
            parser.feed(response.get_data(as_text=True))
            found |= {(endpoint, name) for name in parser.fields if PERSONAL.search(name)}
    assert found == set(GET_SEARCHES_BY_NAME), (
        f"GET forms with a field for a person's name or contact details: {sorted(found)};"
        " send it in a POST body, or document the exception in GET_SEARCHES_BY_NAME"
    )
