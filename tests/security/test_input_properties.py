"""Hostile input never breaks the app: every form, every import, property-based.

OWASP ASVS V5 (validation) and V12 (files), level 2, and the project's rule: bad input gets
a clear error in the user's language and loses nothing; never a 500 for user input.

- **Every form.** ``ROUTES`` names, for every route of the URL map that takes a POST or PUT,
  who sends it and the objects of the shared security ``world`` (tests/security/conftest.py)
  it is built for; ``test_every_post_route_is_listed`` fails when a route is missing or
  gone. The fields posted are found, not listed: the inputs of the page's own ``<form>``
  (GET of the same address), the fields of the WTForms class the view uses and the
  ``request.form`` keys its source reads. Hypothesis fills them with hostile text (Cyrillic
  with ң ө ү, Arabic, direction marks, zero-width and control characters, NUL, strings up to
  100,000 characters, markup, SQL quotes, format strings) mixed with values the page
  offers, so examples also get past the first validator. Each response must be below 500,
  be HTML (or JSON under /api/) in the sender's language, and when it is 4xx the database
  must be untouched (the world's triggers note every insert, update and delete). After a
  request that wrote, the world is restored.
- **Every import.** GIFT files, module files (Markdown with YAML front matter), the users
  CSV and the class roster CSV, through their services and their web pages: valid sample
  files mutated (lines inserted, deleted, duplicated, characters changed, very long lines,
  binary junk, other encodings: UTF-8 with BOM, UTF-16, cp1251). Never an exception other
  than the documented one; a rejected file names the line (and the row and column for
  CSV) of each problem and changes nothing.
- **Every query string.** The GET pages that read their query string or take text in their
  address get hostile filters, page numbers, ``next`` and address parts the same way.
- **The fuzzing corpus.** Every file in fuzz/corpus/ (seeds and fixed crashes) passes the
  checks of the atheris harnesses (fuzz/targets.py).
- **The crashes found**, each with a test of its own.

The examples are the same on every run (``derandomize``); ``LMS_FUZZ_RANDOM=1`` draws new
ones and ``LMS_FUZZ_EXAMPLES=200`` sends more (15 per route by default). See
docs/security-input.md.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict
from werkzeug.routing.converters import NumberConverter

from lms.errors import TITLES
from lms.extensions import db
from tests.security.conftest import CHANGE_TABLE, World

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"

# --- hostile text -------------------------------------------------------------------------

CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯңөүҢӨҮ"
ARABIC = "ابتثجحخدذرسشصضطظعغفقكلمنهويءآأؤإئة" + "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
#: Direction marks and embeddings, zero-width characters, BOM, soft hyphen, line separators.
MARKS = (
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029"
)
CONTROL = "".join(map(chr, range(32))) + "\x7f\x85"
SYNTAX = "<>&'\"%{}[]()\\/;:=#~*_-`|$!?.,@ \t\n\r"

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(document.cookie)",
    "<svg/onload=alert(1)>",
    "' OR '1'='1",
    "'; DROP TABLE lms_user; --",
    '" OR 1=1 --',
    "Робот'); DELETE FROM lms_cohort;--",
    "%(x)s",
    "%(name)s %(num)d",
    "%s%s%s%n",
    "%",
    "{0}",
    "{}",
    "{x.__class__.__mro__}",
    "{{ 7*7 }}",
    "${7*7}",
    "../../../../etc/passwd",
    "\x00",
    "a\x00b",
    "\r\n\r\n",
    "\u202eevil\u202c",
    "\ufeff",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e308",
    "-1e999",
    "NaN",
    "Infinity",
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "true",
    "null",
    "[]",
    "ңөү ҢӨҮ",
    "Айгерим Токтосунова",
    "بِسْمِ اللَّهِ الرَّحْمَنِ الرَّحِيمِ",
    "عبد الله",
    "\u0627\u0644\u0633\u0644\u0627\u0645 \u202bRTL\u202c",
    "Z\u0351\u0352\u0353\u0354a\u0308\u0308\u0308l\u030a\u030ag\u0327o",
    "\U0001f600\U0001f44d\U0001f3fd",
]


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


#: Very long text, up to 100,000 characters, built cheaply from a repeated piece.
long_text = st.builds(
    _repeat,
    st.sampled_from(["ң", "ا", "x", "Ж ", "<b>", "\u202e", "a\u0301", "%s", "'", " "]),
    st.integers(min_value=300, max_value=100_000),
)

small_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.text(CYRILLIC + ARABIC + ARABIC_DIGITS + MARKS + CONTROL + SYNTAX, max_size=40),
)

#: Any hostile text (no lone surrogates: HTTP cannot carry them).
hostile_text = st.one_of(
    small_text,
    st.sampled_from(PAYLOADS),
    st.lists(st.one_of(st.sampled_from(PAYLOADS), small_text), min_size=2, max_size=4).map("".join),
    long_text,
)

#: Numbers at and past the edges of the database's integers, and digits Python reads but
#: people might not expect (Arabic-Indic, full-width, underscores).
EDGE_NUMBERS = [
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "1e3",
    "0x10",
    "٣",
    "１２",
    "1_000",
    " 7 ",
    "-0",
]
edge_numbers = st.sampled_from(EDGE_NUMBERS)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(small_text, st.sampled_from(["1", "2", "0", "-1"])), inner, max_size=4
        ),
    ),
    max_leaves=10,
)

# --- the routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """Who posts to an endpoint, and the world's objects its address is built for.

    ``prepare`` runs before each example (after the world was restored) and returns the
    address values instead, for routes that need a fresh object (an attempt in progress).
    ``fields`` adds form fields the page builds at run time; ``json`` marks an API route.
    """

    actor: str
    values: Callable[[World], dict[str, Any]] = lambda w: {}
    prepare: Callable[[World], dict[str, Any]] | None = None
    fields: tuple[str, ...] = ()
    json: tuple[str, ...] | None = None
    method: str = "POST"
    #: a query string the route needs (``kind=class``)
    query: str = ""
    #: the page that holds the form, when it is not the route's own or one up its path
    page: Callable[[World], str] | None = None


def ids(**kinds: tuple[str, str] | str) -> Callable[[World], dict[str, Any]]:
    """``ids(cohort_id=("cohort", "A/class"), slug="health-basics")``: address values from
    the world's objects (a pair) or as given (anything else)."""

    def build(w: World) -> dict[str, Any]:
        return {
            key: (w.id(*value) if isinstance(value, tuple) else value)
            for key, value in kinds.items()
        }

    return build


def _attempt_in_progress(w: World) -> dict[str, Any]:
    """A new attempt of student_a at the class quiz (the quiz allows any number)."""
    client = w.client("student_a")
    quiz_id = w.id("quiz", "A/class")
    response = client.post(f"/quizzes/quizzes/{quiz_id}/start", data={"key": "fuzz-key-00000001"})
    assert response.status_code in (302, 303), response.status_code
    found = re.search(r"/attempts/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return {"attempt_id": int(found.group(1))}


CLASS = ("cohort", "A/class")
TOT = ("cohort", "A/tot")
MANUAL = ("manual", "A")

ROUTES: dict[str, Route] = {
    # accounts and administration
    "accounts.login": Route("anonymous"),
    "accounts.logout": Route("student_a"),
    "accounts.confirm": Route("student_a"),
    "accounts.profile": Route("student_a"),
    "accounts.change_password": Route("student_a"),
    "lms.set_language": Route("student_a", fields=("language", "next")),
    "admin.new_user": Route("admin"),
    "admin.user": Route("admin", ids(user_id=("user", "A"))),
    "admin.set_active": Route("admin", ids(user_id=("user", "A"))),
    "admin.set_password": Route("admin", ids(user_id=("user", "A"))),
    "admin.grant_role": Route("admin", ids(user_id=("user", "A"))),
    "admin.revoke_role": Route(
        "admin", lambda w: dict(zip(("user_id", "grant_id"), w.id("grant", "A"), strict=True))
    ),
    "admin.import_users": Route("admin"),
    "admin.anonymise_user": Route("admin", ids(user_id=("user", "A"))),
    "admin.export_personal_data": Route("admin", ids(user_id=("user", "A"))),
    "organisations.create": Route("admin"),
    "organisations.edit": Route("admin", ids(madrasa_id=("madrasa", "A"))),
    # cohorts
    "cohorts.create": Route("admin", query="kind=class"),
    "cohorts.edit": Route("admin", ids(cohort_id=CLASS)),
    "cohorts.archive": Route("admin", ids(cohort_id=CLASS)),
    "cohorts.unarchive": Route("admin", ids(cohort_id=CLASS)),
    "cohorts.add_member": Route("admin", ids(cohort_id=CLASS)),
    "cohorts.remove_member": Route(
        "admin",
        lambda w: {"cohort_id": w.id(*CLASS), "membership_id": w.id("member", "A/class")[1]},
    ),
    "cohorts.mark_completion": Route(
        "trainer_a", lambda w: {"cohort_id": w.id(*TOT), "user_id": w.id("member", "A/tot")[0]}
    ),
    # curriculum
    "curriculum.new_manual": Route("admin"),
    "curriculum.edit_draft": Route("editor_a", ids(version_id=("draft", "A"))),
    "curriculum.submit": Route("editor_a", ids(version_id=("draft", "A"))),
    "curriculum.discard": Route("editor_a", ids(version_id=("draft", "A"))),
    "curriculum.new_draft": Route("editor_a", ids(version_id=("version", "A"))),
    "curriculum.import_modules": Route("editor_a", ids(slug=MANUAL)),
    "curriculum.decide": Route("reviewer_a", ids(version_id=("version", "A"))),
    "curriculum.withdraw": Route("reviewer_a", ids(review_id=("review", "A"))),
    "curriculum.dismiss": Route("admin", ids(review_id=("review", "A"))),
    "curriculum.comment": Route(
        "reviewer_a", ids(version_id=("version", "A")), fields=("paragraph_id", "parent_id", "body")
    ),
    "curriculum.resolve_comment": Route("reviewer_a", ids(comment_id=("comment", "A"))),
    "curriculum.panel": Route("admin", ids(slug=MANUAL, language="en")),
    "curriculum.publish_edition": Route("editor_a", ids(slug=MANUAL, language="en")),
    "curriculum.glossary": Route("editor_a", ids(slug=MANUAL, language="ky")),
    "curriculum.glossary_delete": Route(
        "editor_a", ids(slug=MANUAL, language="ky", term_id=("term", "A"))
    ),
    "curriculum.give_feedback": Route("teacher_a", ids(version_id=("published_version", "A"))),
    "curriculum.feedback_item": Route("editor_a", ids(feedback_id=("feedback", "A"))),
    "curriculum.cohort_edition": Route(
        "teacher_a", ids(cohort_id=CLASS), page=lambda w: f"/cohorts/{w.id(*CLASS)}"
    ),
    # lessons
    "lessons.plan_session": Route("teacher_a", ids(cohort_id=CLASS)),
    "lessons.record_now": Route("teacher_a", ids(cohort_id=CLASS)),
    "lessons.record": Route("teacher_a", ids(session_id=("session", "A/class"))),
    "lessons.cancel_session": Route("teacher_a", ids(session_id=("session", "A/class"))),
    "lessons.roster": Route("teacher_a", ids(cohort_id=CLASS)),
    "lessons.new_tot": Route("admin"),
    "lessons.rubric": Route("trainer_a", ids(cohort_id=TOT)),
    "lessons.practice": Route("trainer_a", ids(cohort_id=TOT)),
    "lessons.score": Route("participant_a", ids(practice_id=("practice", "A/tot:peer"))),
    "lessons.recommendations": Route("trainer_a", ids(cohort_id=TOT)),
    "lessons.new_visit": Route("monitor_a"),
    "lessons.visit": Route("monitor_a", ids(visit_id=("visit", "A"))),
    "lessons_api.record_attendance": Route(
        "teacher_a",
        ids(session_id=("session", "A/class")),
        json=("attendance", "held_on", "duration_minutes", "notes"),
    ),
    # quizzes
    "quizzes.index": Route("editor_a"),
    "quizzes.new_question": Route("editor_a", ids(bank_id=("bank", "A")), query="type=multichoice"),
    "quizzes.question": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.edit_question": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.archive_question": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.restore_question": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.link_translation": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.unlink_translation": Route("editor_a", ids(question_id=("question", "A"))),
    "quizzes.import_gift": Route("editor_a", ids(bank_id=("bank", "A"))),
    "quizzes.cohort_quizzes": Route("teacher_a", ids(cohort_id=CLASS)),
    "quizzes.edit_quiz": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.publish_quiz": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.unpublish_quiz": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.add_question_slot": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.add_random_slot": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.remove_slot": Route(
        "teacher_a", ids(quiz_id=("quiz", "A/class"), slot_id=("slot", "A/class"))
    ),
    "quizzes.paper_entry": Route(
        "teacher_a",
        ids(quiz_id=("quiz", "A/class")),
        page=lambda w: (
            f"/quizzes/quizzes/{w.id('quiz', 'A/class')}/paper-entry"
            f"?user_id={w.id('member', 'A/class')[0]}"
        ),
        fields=("user_id",),
    ),
    "quizzes.analysis_feedback": Route("teacher_a", ids(quiz_id=("quiz", "A/class"))),
    "quizzes.grade_answer": Route("teacher_a", ids(answer_id=("answer", "A/class"))),
    "quizzes.start": Route("student_a", ids(quiz_id=("quiz", "A/class")), fields=("key",)),
    "quizzes.attempt": Route(
        "student_a", prepare=_attempt_in_progress, fields=("q1", "q2", "page", "go")
    ),
    "quizzes.submit": Route("student_a", prepare=_attempt_in_progress, fields=("key", "q1")),
    "quizzes_api.start": Route("student_a", ids(quiz_id=("quiz", "A/class")), json=("key",)),
    "quizzes_api.save_answers": Route(
        "student_a", prepare=_attempt_in_progress, json=("answers",), method="PUT"
    ),
    "quizzes_api.submit": Route("student_a", prepare=_attempt_in_progress, json=("key",)),
    # certificates and reports
    "certificates.choose_design": Route("teacher_a", ids(cohort_id=CLASS)),
    "certificates.issue_all": Route("teacher_a", ids(cohort_id=CLASS)),
    "certificates.issue_one": Route("admin", ids(cohort_id=CLASS), fields=("recipient", "reason")),
    "certificates.revoke": Route("admin", ids(certificate_id=("certificate", "A/class"))),
    "certificates.reissue": Route("admin", ids(certificate_id=("certificate", "A/class"))),
    "reports.donor_report": Route("monitor_a"),
}

#: The language each actor reads the site in (the world's people are English speakers).
LANGUAGE_OF = {
    "anonymous": "en",
    "admin": "ru",
    "editor_a": "ky",
    "reviewer_a": "ru",
    "trainer_a": "ky",
    "teacher_a": "ky",
    "student_a": "ru",
    "participant_a": "ky",
    "monitor_a": "ru",
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_routes(app: Flask) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & WRITE_METHODS
        if methods:
            found.setdefault(rule.endpoint, set()).update(methods)
    return found


# --- the world, in the actors' languages --------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_world(world: World) -> World:
    """The security world with the actors reading Russian or Kyrgyz (kept across restores)."""
    by_name = {name: uid for name, uid in world.users.items()}
    rows = world.restorer.snapshot["lms_user"]
    for row in rows:
        for actor, language in LANGUAGE_OF.items():
            if by_name.get(actor) == row["id"]:
                row["preferred_language"] = language
    world.restorer.restore({"lms_user"})
    return world


def restore(w: World) -> None:
    changed = w.restorer.changed()
    if changed:
        w.restorer.restore(changed)


def writes(w: World) -> int:
    """How many rows were inserted, updated or deleted since the last restore."""
    with w.restorer.engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT count(*) FROM {CHANGE_TABLE}")) or 0)


# --- finding the fields of a form ---------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str = "text"  # text, textarea, hidden, select, checkbox, radio, number, date, file…
    values: list[str] = field(default_factory=list)  # what the page offers or holds
    multiple: bool = False


class _FormParser(HTMLParser):
    """The ``<form method="post">`` elements of a page: action and fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, FormField]]] = []
        self._fields: dict[str, FormField] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def _add(self, name: str, kind: str, value: str | None, multiple: bool = False) -> FormField:
        assert self._fields is not None
        found = self._fields.setdefault(name, FormField(name, kind, multiple=multiple))
        if value is not None and value not in found.values:
            found.values.append(value)
        return found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: (value or "") for key, value in attrs}
        if tag == "form":
            if attr.get("method", "get").lower() == "post":
                self._fields = {}
                self.forms.append((attr.get("action", ""), self._fields))
            return
        if self._fields is None or not attr.get("name"):
            if tag == "option" and self._select is not None:
                self._select.values.append(attr.get("value", ""))
            return
        name = attr["name"]
        if tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                kind = "button"
            self._add(
                name,
                kind,
                attr.get("value", "on" if kind == "checkbox" else ""),
                multiple=kind == "checkbox",
            )
        elif tag == "button":
            self._add(name, "button", attr.get("value", ""))
        elif tag == "select":
            self._select = self._add(name, "select", None, multiple="multiple" in attr)
        elif tag == "textarea":
            self._textarea = self._add(name, "textarea", None)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and data.strip():
            self._textarea.values.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str, path: str, *, own: bool = True) -> dict[str, FormField]:
    """The fields of the page's POST forms that send to ``path`` (or, on the page at
    ``path`` itself, to the page)."""
    parser = _FormParser()
    parser.feed(html)
    fields: dict[str, FormField] = {}
    for action, found in parser.forms:
        target = unescape(action).split("?", 1)[0].removeprefix("http://lms.test")
        if target == path or (own and target == ""):
            for name, one in found.items():
                fields.setdefault(name, one)
    return fields


_FORM_CLASS = re.compile(r"\b([A-Z]\w*Form)\(")
_FORM_KEY = re.compile(
    r"request\.(?:form|values)(?:\.get|\.getlist|\.get_all)?[\[(]\s*[\"']([\w-]+)"
)
_WTFORMS_KIND = {
    "IntegerField": "number",
    "DecimalField": "number",
    "FloatField": "number",
    "DateField": "date",
    "DateTimeLocalField": "datetime",
    "BooleanField": "checkbox",
    "SelectField": "select",
    "SelectMultipleField": "select",
    "RadioField": "select",
    "TextAreaField": "textarea",
    "HiddenField": "hidden",
    "FileField": "file",
    "MultipleFileField": "file",
    "PasswordField": "text",
}


def source_fields(app: Flask, endpoint: str) -> dict[str, FormField]:
    """The fields the view's code reads: its WTForms classes and ``request.form`` keys."""
    view = inspect.unwrap(app.view_functions[endpoint])
    try:
        source = textwrap.dedent(inspect.getsource(view))
    except (OSError, TypeError):
        return {}
    fields: dict[str, FormField] = {}
    for class_name in _FORM_CLASS.findall(source):
        form_class = view.__globals__.get(class_name)
        if not isinstance(form_class, type):
            continue
        unbound_fields = [
            (name, getattr(form_class, name))
            for name in dir(form_class)
            if not name.startswith("_") and hasattr(getattr(form_class, name), "_formfield")
        ]
        for name, unbound in unbound_fields:
            kind = _WTFORMS_KIND.get(unbound.field_class.__name__, "text")
            choices = unbound.kwargs.get("choices") or []
            values = []
            if not callable(choices):
                for choice in choices:
                    raw = getattr(choice, "value", None)
                    if raw is None and isinstance(choice, tuple | list):
                        raw = choice[0]
                    values.append(str(raw if raw is not None else choice))
            fields[name] = FormField(name, kind, values)
    for name in _FORM_KEY.findall(source):
        fields.setdefault(name, FormField(name))
    return fields


def host_page_fields(
    w: World, actor: str, url: str, has_get: bool, page: Callable[[World], str] | None = None
) -> dict[str, FormField]:
    """The fields of the forms that post to ``url``: on its own page, on ``page``, or on
    the nearest page up its path (``/cohorts/5/archive`` is a button on ``/cohorts/5``)."""
    adapter = w.app.url_map.bind("lms.test")
    path = url.split("?", 1)[0]
    candidates = [url] if has_get else []
    if page is not None:
        candidates.insert(0, page(w))
    while path.count("/") > 1:
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"
        candidates += [path, path + "/"]
    for candidate in candidates:
        try:
            adapter.match(candidate.split("?", 1)[0], method="GET")
        except Exception:
            continue
        response = w.client(actor).get(candidate)
        if response.status_code == 200 and response.mimetype == "text/html":
            found = page_forms(
                response.get_data(as_text=True),
                url.split("?", 1)[0],
                own=candidate.split("?", 1)[0] == url.split("?", 1)[0],
            )
            if found:
                return found
    return {}


@dataclass
class Target:
    endpoint: str
    route: Route
    url: str
    fields: dict[str, FormField]


def url_of(w: World, endpoint: str) -> str:
    """The address of the route (after preparing its object, for routes that need one)."""
    route = ROUTES[endpoint]
    values = route.prepare(w) if route.prepare else route.values(w)
    with w.app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **values)
    return f"{url}?{route.query}" if route.query else url


def target_of(w: World, endpoint: str) -> Target:
    """The address to post to and every field found for it."""
    route = ROUTES[endpoint]
    app = w.app
    url = url_of(w, endpoint)
    methods = {m for rule in app.url_map.iter_rules(endpoint) for m in rule.methods or ()}
    fields: dict[str, FormField] = {}
    if route.json is None:
        fields.update(host_page_fields(w, route.actor, url, "GET" in methods, route.page))
    for name, found in source_fields(app, endpoint).items():
        if name in fields:
            if not fields[name].values:
                fields[name].values = found.values
        else:
            fields[name] = found
    for name in route.fields:
        fields.setdefault(name, FormField(name))
    fields.pop("csrf_token", None)
    restore(w)
    return Target(endpoint, route, url, fields)


# --- strategies for one form ----------------------------------------------------------------


def file_upload() -> st.SearchStrategy[tuple[bytes, str]]:
    return st.tuples(
        st.one_of(
            st.binary(max_size=200),
            hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.sampled_from([b"", b"\xff\xfe\x00a", b"PK\x03\x04junk", b"\xd0\xcf\x11\xe0"]),
        ),
        st.one_of(
            st.sampled_from(
                ["a.csv", "a.gift", "a.txt", "a.md", "a.xlsx", "a.exe", "", "../x.csv"]
            ),
            small_text.map(lambda t: t + ".csv"),
        ),
    )


def value_for(one: FormField) -> st.SearchStrategy[Any]:
    """A value for one field: mostly what the page offers, often hostile."""
    offered = [v for v in one.values if v is not None]
    kinds: list[st.SearchStrategy[Any]] = [hostile_text]
    if one.kind == "file":
        return st.one_of(file_upload(), hostile_text)
    if offered:
        kinds += [st.sampled_from(offered)] * 2
    if one.kind in ("number", "select", "hidden", "text", "checkbox", "radio"):
        kinds.append(edge_numbers)  # ids and counts travel in these
    if one.kind == "number":
        kinds.append(st.integers(min_value=-5, max_value=10_000).map(str))
    elif one.kind in ("date", "datetime"):
        kinds.append(
            st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(
                lambda d: d.isoformat() + ("T10:00" if one.kind == "datetime" else "")
            )
        )
    elif one.kind in ("text", "textarea") and not offered:
        kinds.append(st.sampled_from(["Sample text", "Жаңы текст", "نص عربي", "x"]))
    return st.one_of(*kinds)


@st.composite
def form_data(draw: st.DrawFn, fields: dict[str, FormField]) -> MultiDict[str, Any]:
    data: MultiDict[str, Any] = MultiDict()
    for name in sorted(fields):
        one = fields[name]
        if one.kind == "button" and one.values and draw(st.booleans()):
            data.add(name, draw(st.sampled_from(one.values)))
            continue
        copies = draw(st.sampled_from([1, 1, 1, 1, 0, 2])) if one.kind != "button" else 0
        for _ in range(copies):
            value = draw(value_for(one))
            if isinstance(value, tuple):
                value = (io.BytesIO(value[0]), value[1])
            data.add(name, value)
    # A field nobody expects, now and then.
    if draw(st.integers(0, 9)) == 0:
        data.add(draw(small_text) or "extra", draw(hostile_text))
    if draw(st.booleans()):
        data["__multipart__"] = True
    return data


@st.composite
def json_body(draw: st.DrawFn, keys: tuple[str, ...]) -> Any:
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(json_value)
    body: dict[str, Any] = {}
    for key in keys:
        if draw(st.integers(0, 4)):
            if key == "answers":
                body[key] = draw(
                    st.dictionaries(
                        st.sampled_from(["1", "2", "3", "0", "-1", "x"]), json_value, max_size=3
                    )
                    | json_value
                )
            elif key == "attendance":
                body[key] = draw(
                    st.dictionaries(
                        st.integers(-2, 10**6).map(str) | small_text,
                        st.sampled_from(["present", "absent", "late", "excused"]) | json_value,
                        max_size=4,
                    )
                    | json_value
                )
            else:
                body[key] = draw(json_value)
    return body


# --- checking a response --------------------------------------------------------------------

_HTML_LANG = re.compile(r'<html lang="([a-z]{2})"')


def translated_title(code: int, language: str) -> str:
    with force_locale(language):
        return str(TITLES.get(code, TITLES[500]))


def check_response(w: World, response: Any, language: str, what: str) -> None:
    """Below 500; HTML in the sender's language or JSON; an error page with its title in
    that language."""
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{what}: {response.status_code}\n{body[:2000]}"
    if 300 <= response.status_code < 400:
        return
    if response.mimetype == "application/json":
        payload = response.get_json()
        assert payload is not None, f"{what}: not JSON"
        if response.status_code >= 400:
            with w.app.test_request_context():
                expected = translated_title(response.status_code, language)
            assert payload["error"]["title"] == expected, (what, payload)
        return
    assert response.mimetype == "text/html", (what, response.mimetype)
    found = _HTML_LANG.search(body)
    assert found and found.group(1) == language, f"{what}: page language {found and found.group(1)}"
    if 'class="error-page"' in body:
        with w.app.test_request_context():
            title = translated_title(response.status_code, language)
        assert title in unescape(body), f"{what}: the error page is not in {language}"


def send(w: World, target: Target, data: Any, *, json_body: bool = False) -> Any:
    """Post ``data`` as JSON, or as a form (multipart when asked or when it has a file: a
    browser sends long text as multipart only when the form says so)."""
    client = w.client(target.route.actor)
    if json_body:
        return client.open(target.url, method=target.route.method, json=data)
    multipart = data.pop("__multipart__", False) or any(isinstance(v, tuple) for v in data.values())
    return client.open(
        target.url,
        method=target.route.method,
        data=data,
        content_type="multipart/form-data" if multipart else None,
    )


#: Examples per route; ``LMS_FUZZ_EXAMPLES=200`` digs deeper (a nightly job, a local hunt).
EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "15"))
#: The suite sends the same examples every run, so a failure is never a matter of luck for
#: whoever runs it next; ``LMS_FUZZ_RANDOM=1`` draws new ones (hunting, nightly).
RANDOM = bool(os.environ.get("LMS_FUZZ_RANDOM"))

FORM_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=not RANDOM,
)


# --- every form -----------------------------------------------------------------------------


def test_every_post_route_is_listed(fuzz_world: World) -> None:
    """A new route that takes a POST or PUT must be added to ROUTES (and so be fuzzed)."""
    routes = _write_routes(fuzz_world.app)
    missing = sorted(set(routes) - set(ROUTES))
    gone = sorted(set(ROUTES) - set(routes))
    assert not missing, f"POST/PUT routes missing from ROUTES: {missing}"
    assert not gone, f"ROUTES names endpoints the app no longer has: {gone}"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_form_survives_hostile_input(fuzz_world: World, endpoint: str) -> None:
    w = fuzz_world
    if endpoint not in w.app.view_functions:
        pytest.skip(f"{endpoint} is not a route any more (see test_every_post_route_is_listed)")
    route = ROUTES[endpoint]
    language = LANGUAGE_OF[route.actor]
    base = target_of(w, endpoint)
    if route.json is None:
        assert base.fields or endpoint in NO_FIELDS, f"no fields found for {endpoint}"

    def check(target: Target, send_it: Callable[[], Any], what: str) -> None:
        before = writes(w)
        response = send_it()
        check_response(w, response, language, f"{route.method} {target.url} ({what})")
        if 400 <= response.status_code < 500:
            assert writes(w) == before, (
                f"{target.url} answered {response.status_code} to {what} but wrote "
                f"{sorted(w.restorer.changed())}"
            )

    def current() -> Target:
        if route.prepare is None:
            return base
        return Target(endpoint, route, url_of(w, endpoint), base.fields)

    # Bodies no browser sends but anyone can: a multipart part without a name (WTForms got
    # the key None), a multipart body cut short, bad percent-escapes and bytes that are not
    # UTF-8, JSON that does not parse.
    for what, body, content_type in MALFORMED_BODIES:
        try:
            target = current()
            client = w.client(route.actor)
            check(
                target,
                lambda t=target, b=body, c=content_type, client=client: client.open(
                    t.url, method=route.method, data=b, content_type=c
                ),
                what,
            )
        finally:
            restore(w)

    @FORM_SETTINGS
    @given(payload=json_body(route.json) if route.json is not None else form_data(base.fields))
    def post(payload: Any) -> None:
        try:
            target = current()
            check(
                target,
                lambda: send(w, target, payload, json_body=route.json is not None),
                "hostile values",
            )
        finally:
            restore(w)

    post()


#: (what, body, content type) of requests that are malformed below the level of fields.
MALFORMED_BODIES = [
    (
        "a nameless multipart part",
        b"--B\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
        b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\n\xd2\xa3\r\n--B--\r\n',
        "multipart/form-data; boundary=B",
    ),
    (
        "a multipart body cut short",
        b'--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nabc',
        "multipart/form-data; boundary=B",
    ),
    (
        "bad percent-escapes and bytes that are not UTF-8",
        b"name=%ff%fe%zz&text=%C3%28&%00=%00&&=&lock_version=%E0%A4",
        "application/x-www-form-urlencoded",
    ),
    ("JSON that does not parse", b'{"key": "\xff', "application/json"),
]


#: Routes whose POST carries no fields at all (a button).
NO_FIELDS = {
    "accounts.logout",
    "cohorts.archive",
    "cohorts.unarchive",
    "curriculum.discard",
    "curriculum.new_draft",
    "curriculum.submit",
    "curriculum.withdraw",
    "quizzes.archive_question",
    "quizzes.restore_question",
    "quizzes.publish_quiz",
    "quizzes.unpublish_quiz",
    "quizzes.remove_slot",
    "quizzes.unlink_translation",
    "certificates.issue_all",
    "admin.revoke_role",
    "cohorts.remove_member",
    "curriculum.glossary_delete",
    "lessons.cancel_session",
    "admin.export_personal_data",
}


# --- every query string: the pages that read arguments --------------------------------------

#: The world's object for each argument of an address ("kind", "target"), or a value.
ARG_VALUES: dict[str, tuple[str, str] | str] = {
    "slug": ("manual", "A"),
    "language": "en",
    "module_slug": ("module", "A"),
    "number": ("edition", "A"),
    "job_id": ("job", "A"),
    "name": ("job_file", "A"),
    "code": ("code", "A/class"),
    "design_id": "graduate",
    "indicator_id": "lms.students_reached",
    "table_id": "by_region",
    "key": "all",
    "version_id": ("draft", "A"),
    "attempt_id": ("attempt", "A/class"),
    "bank_id": ("bank", "A"),
    "question_id": ("question", "A"),
    "quiz_id": ("quiz", "A/class"),
    "cohort_id": CLASS,
    "term_id": ("term", "A"),
}
#: Who opens a page, when not the administrator; and per-page address values.
GET_ACTORS = {
    "accounts.login": "anonymous",
    "quizzes.attempt": "student_a",
    "lms.job": "monitor_a",
    "lms.job_status": "monitor_a",
    "lms.job_download": "monitor_a",
    "lessons.recommendations": "trainer_a",
    "curriculum.give_feedback": "teacher_a",
}
GET_OVERRIDES: dict[str, dict[str, tuple[str, str] | str]] = {
    "lessons.recommendations": {"cohort_id": TOT},
    "curriculum.give_feedback": {"version_id": ("published_version", "A")},
    "curriculum.glossary": {"language": "ky"},
    "curriculum.glossary_delete": {"language": "ky"},
}
#: Pages whose arguments are read by a helper (a filter form), not in the view itself.
GET_FORM_PAGES = {"reports.index", "admin.users", "cohorts.index", "organisations.madrasas"}
_ARGS_READ = re.compile(r"request\.args(?:\.get|\.getlist)?[\[(]\s*[\"']([\w-]+)")
_STRING_CONVERTERS = ("UnicodeConverter", "PathConverter")


def _query_routes() -> list[str]:
    """Endpoints of GET pages that read their query string or take text in the address."""
    from lms import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x" * 32,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="lms-routes-"),
        }
    )
    found = set(GET_FORM_PAGES)
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.endswith("static"):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        converters = [type(c).__name__ for c in rule._converters.values()]
        if "request.args" in source or any(c in _STRING_CONVERTERS for c in converters):
            found.add(rule.endpoint)
    return sorted(found)


QUERY_ROUTES = _query_routes()


class _GetFormParser(_FormParser):
    """The fields of ``<form method="get">``: the filters a page offers."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            attr = {key: (value or "") for key, value in attrs}
            if attr.get("method", "get").lower() == "get":
                self._fields = {}
                self.forms.append((attr.get("action", ""), self._fields))
            return
        super().handle_starttag(tag, attrs)


@dataclass
class Page:
    endpoint: str
    actor: str
    values: dict[str, Any]
    strings: list[str]  # arguments of the address that take any text
    numbers: list[str]  # and those that take a number
    fields: dict[str, FormField]


def page_of(w: World, endpoint: str) -> Page:
    from flask import url_for

    rule = next(iter(w.app.url_map.iter_rules(endpoint)))
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        wanted = GET_OVERRIDES.get(endpoint, {}).get(argument, ARG_VALUES.get(argument))
        assert wanted is not None, f"no value for <{argument}> of {endpoint}: add it to ARG_VALUES"
        values[argument] = w.id(*wanted) if isinstance(wanted, tuple) else wanted
    actor = GET_ACTORS.get(endpoint, "admin")
    with w.app.test_request_context():
        url = url_for(endpoint, **values)
    fields: dict[str, FormField] = {}
    response = w.client(actor).get(url)
    if response.mimetype == "text/html":
        parser = _GetFormParser()
        parser.feed(response.get_data(as_text=True))
        for _action, found in parser.forms:
            for name, one in found.items():
                fields.setdefault(name, one)
    view = inspect.unwrap(w.app.view_functions[endpoint])
    for name in _ARGS_READ.findall(inspect.getsource(view)):
        fields.setdefault(name, FormField(name))
    strings = [
        name
        for name, converter in rule._converters.items()
        if type(converter).__name__ in _STRING_CONVERTERS
    ]
    numbers = [
        name
        for name, converter in rule._converters.items()
        if isinstance(converter, NumberConverter)
    ]
    restore(w)
    return Page(endpoint, actor, values, strings, numbers, fields)


@st.composite
def query_of(draw: st.DrawFn, page: Page) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Address values (one text argument hostile, now and then) and query arguments."""
    values = dict(page.values)
    if page.strings and draw(st.integers(0, 2)) == 0:
        values[draw(st.sampled_from(page.strings))] = draw(hostile_text.filter(bool))
    if page.numbers and draw(st.integers(0, 3)) == 0:
        values[draw(st.sampled_from(page.numbers))] = draw(
            st.sampled_from(["2147483648", "9223372036854775808", "99999999999999999999999"])
        )
    query: list[tuple[str, Any]] = []
    for name in sorted(page.fields):
        for _ in range(draw(st.sampled_from([1, 1, 0, 2]))):
            query.append((name, draw(value_for(page.fields[name]))))
    if draw(st.integers(0, 4)) == 0:
        query.append((draw(small_text) or "x", draw(hostile_text)))
    return values, query


@pytest.mark.parametrize("endpoint", QUERY_ROUTES)
def test_query_survives_hostile_input(fuzz_world: World, endpoint: str) -> None:
    """Filters, page numbers, ``next``, ``?type=``, text in the address: hostile values get
    a page in the user's language (or 404), never a 500, and a refusal writes nothing."""
    from urllib.parse import quote, urlencode

    from flask import url_for

    w = fuzz_world
    page = page_of(w, endpoint)
    language = LANGUAGE_OF[page.actor]

    @settings(FORM_SETTINGS, max_examples=max(EXAMPLES // 3, 5))
    @given(request=query_of(page))
    def get(request: tuple[dict[str, Any], list[tuple[str, Any]]]) -> None:
        values, query = request
        with w.app.test_request_context():
            url = url_for(endpoint, **{k: quote(str(v), safe="") for k, v in values.items()})
        url = url.replace("%25", "%")  # url_for quoted the quoting
        query_string = urlencode([(k, v) for k, v in query if not isinstance(v, tuple)])
        try:
            before = writes(w)
            response = w.client(page.actor).get(f"{url}?{query_string}" if query_string else url)
            if response.mimetype in ("text/html", "application/json"):
                check_response(w, response, language, f"GET {url}")
            else:
                assert response.status_code < 500, (url, response.status_code)
            if 400 <= response.status_code < 500:
                assert writes(w) == before, f"GET {url} answered {response.status_code} but wrote"
        finally:
            restore(w)

    get()


# --- every import: mutated files ------------------------------------------------------------

GIFT_SEEDS = [
    *sorted(
        p for p in (FUZZ / "corpus" / "gift").glob("*.gift") if not p.name.startswith("crash-")
    ),
    ROOT / "quizzes" / "sample" / "health-basics-hand-hygiene.gift",
]
MARKDOWN_SAMPLES = ROOT / "curriculum" / "sample" / "civic-education"

USERS_CSV = (
    "username,name,sex,language,email,phone,role,madrasa,expertise,password\r\n"
    "aigerim.t,Айгерим Токтосунова,ж,ky,aigerim@example.org,+996 555 123 456,teacher,"
    "Madrasa ALPHA,,\r\n"
    "bakyt.o,Бакыт Өмүрбеков,male,ru,,,student,,,\r\n"
    "abdulla.m,عبد الله Мамытов,м,en,,,reviewer,,theology,ңөү-пароль-2026\r\n"
    'nurlan.a,"Абдраимов, Нурлан",эркек,Кыргызча,,,,,,\r\n'
)
USERS_CSV_SEMICOLON = (
    "\ufeffusername;name;sex;language\r\nzhyldyz.k;Жылдыз Кадырова;аял;ky\r\n"
    "emil.a;Эмиль Асанов;м;ru\r\n"
)
ROSTER_CSV = (
    "name,sex,username,language,phone\r\n"
    "Айгерим Токтосунова,ж,,ky,\r\n"
    "Бектур Үсөнов,м,,ru,+996700000001\r\n"
    "Student ALPHA,female,student_a,,\r\n"
)
ROSTER_CSV_RUSSIAN = (
    "\ufeffФИО;Пол;Телефон\r\nМеерим Алиева;жен;\r\nАдилет Касымов;муж;0700 123 456\r\n"
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_count(text: str) -> int:
    return len(_LINE_BREAK.split(text))


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A valid file changed a little: lines inserted, deleted, duplicated or swapped,
    characters inserted or removed, a very long line, the end cut off."""
    lines = _LINE_BREAK.split(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 5))):
        operation = draw(
            st.sampled_from(
                ["insert", "delete", "duplicate", "swap", "chars", "cut", "long", "replace"]
            )
        )
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if operation == "insert":
            lines.insert(at, draw(hostile_text))
        elif operation == "delete" and len(lines) > 1:
            del lines[at]
        elif operation == "duplicate":
            lines.insert(at, lines[at])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif operation == "chars":
            line = lines[at]
            cut = draw(st.integers(0, len(line)))
            drop = draw(st.integers(0, 3))
            lines[at] = (
                line[:cut] + draw(small_text | st.sampled_from(PAYLOADS)) + line[cut + drop :]
            )
        elif operation == "cut":
            lines = lines[: at + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        elif operation == "long":
            lines.insert(at, draw(long_text))
        elif operation == "replace":
            lines[at] = draw(hostile_text)
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@st.composite
def encoded(draw: st.DrawFn, text: str) -> bytes:
    """The text as a file: mostly UTF-8, sometimes with a BOM, UTF-16, cp1251, or with
    binary junk spliced in."""
    encoding = draw(
        st.sampled_from(
            ["utf-8", "utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1251", "junk"]
        )
    )
    if encoding == "junk":
        data = text.encode("utf-8", "surrogatepass")
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    return text.encode(encoding, "replace")


def file_of(seeds: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(seeds).flatmap(encoded),
        st.binary(max_size=300),
        st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04" + b"\x00" * 20, b"\n\n\n"]),
    )


IMPORT_SETTINGS = settings(FORM_SETTINGS, max_examples=max(EXAMPLES + 5, 20))


def _seed_texts(paths: list[Path]) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in paths]


# --- GIFT -------------------------------------------------------------------------------------


def test_gift_seeds_are_valid(fuzz_world: World) -> None:
    """The mutations start from files that import (else they would test nothing)."""
    from quizzes.gift import parse_gift

    with fuzz_world.app.app_context():
        for path in GIFT_SEEDS:
            assert parse_gift(path.read_text(encoding="utf-8-sig")).questions, path


@IMPORT_SETTINGS
@given(data=file_of(_seed_texts(GIFT_SEEDS)))
def test_gift_import_service(fuzz_world: World, data: bytes) -> None:
    """decode_gift + import_gift: the documented errors only; a refused file names a line of
    the file for every problem and adds nothing."""
    from lms.errors import Invalid
    from quizzes import gift_io
    from quizzes.gift import GiftError
    from quizzes.models import QuestionBank

    w = fuzz_world
    with w.app.app_context():
        bank = db.session.get(QuestionBank, w.id("bank", "A"))
        try:
            try:
                text_ = gift_io.decode_gift(data)
            except Invalid as error:
                assert str(error.message).strip()
                event("refused: not a GIFT text file")
                return
            try:
                report = gift_io.import_gift(
                    bank, text_, actor_id=w.users["editor_a"], language="ky", filename="f.gift"
                )
            except GiftError as error:
                lines = line_count(text_)
                assert error.problems
                for problem in error.problems:
                    assert 1 <= problem.line <= lines, (problem.line, lines, str(problem))
                    assert str(problem.message).strip()
                assert not db.session.new, "a refused GIFT file added rows"
                event("refused: problems by line")
            else:
                assert report.total == len(report.question_ids)
                event("imported")
        finally:
            db.session.rollback()


def _problem_rows(html: str) -> list[list[str]]:
    """The cells of each row of the "Nothing was imported" table."""
    section = re.search(r'aria-labelledby="problems-heading".*?</section>', html, re.S)
    if section is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(0), re.S)
    return [
        [unescape(cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
        if "<td>" in row
    ]


def _field_errors(html: str) -> list[str]:
    return [
        unescape(item).strip()
        for block in re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', html, re.S)
        for item in re.findall(r"<li>(.*?)</li>", block, re.S)
    ]


def _upload(w: World, actor: str, url: str, data: bytes, name: str, **fields: str) -> Any:
    client = w.client(actor)
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def check_upload(
    w: World, response: Any, language: str, *, lines: int, columns: bool, what: str
) -> None:
    """A refused upload changes nothing and says why: a problem per line (or row and
    column), or what is wrong with the file itself."""
    check_response(w, response, language, what)
    html = response.get_data(as_text=True)
    if writes(w):
        assert response.status_code in (200, 302), (what, response.status_code)
        assert not _problem_rows(html), f"{what}: rows were written but problems are listed"
        event("imported")
        return
    problems = _problem_rows(html)
    errors = _field_errors(html)
    if 'class="error-page"' in html:  # a NUL in the file name, a body too large
        assert response.status_code in (400, 413), (what, response.status_code)
        event("refused: error page")
        return
    assert problems or errors, f"{what}: refused without saying why\n{html[:3000]}"
    event("refused: problems listed" if problems else "refused: the file itself")
    for cells in problems:
        if columns:
            row, column, message = cells
            assert message, cells
            if row.isdigit():
                assert 1 <= int(row) <= lines + 1, (what, cells, lines)
            else:
                assert column == "—", cells  # a problem of the whole file has no column
        else:
            line, message = cells
            assert line.isdigit() and 1 <= int(line) <= lines, (what, cells, lines)
            assert message, cells


def _lines_of(data: bytes) -> int:
    return line_count(data.decode("utf-8-sig", "replace"))


@IMPORT_SETTINGS
@given(
    data=file_of(_seed_texts(GIFT_SEEDS)),
    name=st.one_of(
        st.sampled_from(["q.gift", "q.txt", "вопросы.gift", "Q.GIFT"]),
        st.one_of(small_text, long_text).map(lambda t: t + ".gift"),
    ),
    language=st.sampled_from(["en", "ru", "ky"]),
)
def test_gift_upload(fuzz_world: World, data: bytes, name: str, language: str) -> None:
    w = fuzz_world
    url = f"/quizzes/banks/{w.id('bank', 'A')}/import"
    try:
        response = _upload(w, "editor_a", url, data, name, language=language)
        check_upload(
            w,
            response,
            LANGUAGE_OF["editor_a"],
            lines=_lines_of(data),
            columns=False,
            what=f"GIFT upload of {data[:80]!r}",
        )
    finally:
        restore(w)


# --- module files (Markdown with YAML front matter) -------------------------------------------

MARKDOWN_SEEDS = sorted(MARKDOWN_SAMPLES.glob("*/*.md"))


@IMPORT_SETTINGS
@given(
    mutated_file=file_of(_seed_texts(MARKDOWN_SEEDS)),
    others=st.lists(st.sampled_from(MARKDOWN_SEEDS), max_size=2, unique=True),
)
def test_module_import_service(fuzz_world: World, mutated_file: bytes, others: list[Path]) -> None:
    """curriculum.io.import_files with one mutated file among good ones: ImportFailed only,
    every problem names its file and a line within it, and nothing is created."""
    from curriculum import io as curriculum_io

    w = fuzz_world
    files: list[tuple[str, str | bytes]] = [
        (f"{path.parent.name}/{path.name}", path.read_bytes()) for path in others
    ]
    files.append(("mutated.md", mutated_file))
    with w.app.app_context():
        try:
            try:
                report = curriculum_io.import_files(files, actor_id=w.users["editor_a"])
            except curriculum_io.ImportFailed as error:
                assert error.problems
                assert not db.session.new, "a refused import created rows"
                event("refused")
                sizes = {
                    name: _lines_of(raw) if isinstance(raw, bytes) else line_count(raw)
                    for name, raw in files
                }
                for found in error.problems:
                    assert str(found.problem.message).strip()
                    if found.path:
                        assert found.path in sizes, found
                    if found.problem.line is not None:
                        assert 1 <= found.problem.line <= sizes.get(found.path, 1) + 1, str(found)
            else:
                assert len(report.created) + len(report.unchanged) == len(files)
                event("imported")
        finally:
            db.session.rollback()


@IMPORT_SETTINGS
@given(data=st.data())
def test_module_text_on_the_draft_page(fuzz_world: World, data: st.DataObject) -> None:
    """The draft editor takes a whole module file as text: a refused text keeps the draft
    as it was and lists its problems with their lines."""
    w = fuzz_world
    url = f"/curriculum/versions/{w.id('draft', 'A')}/edit"
    client = w.client("editor_a")
    page = client.get(url).get_data(as_text=True)
    fields = page_forms(page, url)
    own = fields["text"].values[0].lstrip("\r\n")
    text_ = data.draw(mutated([own, own, *_seed_texts(MARKDOWN_SEEDS[:3])]))
    lock = data.draw(st.sampled_from([fields["lock_version"].values[0]] * 3 + ["0", "x", ""]))
    try:
        response = client.post(
            url,
            data={"text": text_, "lock_version": lock, "change_summary": data.draw(hostile_text)},
            content_type="multipart/form-data",
        )
        check_response(w, response, LANGUAGE_OF["editor_a"], f"draft text {text_[:80]!r}")
        if writes(w):
            assert response.status_code == 302, response.status_code
            event("saved")
            return
        event(f"refused ({response.status_code})")
        html = response.get_data(as_text=True)
        errors = _field_errors(html) + re.findall(r'class="flash[^"]*error[^"]*"', html)
        # The reasons are next to the text, or (a NUL, a body too large) on an error page.
        error_page = 'class="error-page"' in html
        assert errors or error_page, f"refused without a reason\n{html[:3000]}"
        lines = line_count(text_)
        for message in errors:
            where = re.match(r"(\d+): ", message)
            if where:
                assert 1 <= int(where.group(1)) <= lines + 1, (message, lines)
    finally:
        restore(w)


# --- the users CSV and the class roster -------------------------------------------------------


def _csv_rows(text_: str) -> int:
    return line_count(text_)


@IMPORT_SETTINGS
@given(data=file_of([USERS_CSV, USERS_CSV_SEMICOLON]))
def test_users_csv_service(fuzz_world: World, data: bytes) -> None:
    """decode_csv + parse_users_csv + create_accounts: Invalid, problems by row and column,
    or accounts; never anything else."""
    from lms.accounts import csv_import
    from lms.errors import Conflict, Invalid

    w = fuzz_world
    with w.app.app_context():
        try:
            try:
                text_ = csv_import.decode_csv(data, "people.csv")
            except Invalid as error:
                assert str(error.message).strip()
                event("refused: not a CSV text file")
                return
            result = csv_import.parse_users_csv(
                text_,
                max_rows=500,
                madrasas=csv_import.madrasa_lookup(),
                existing_usernames=csv_import.taken_usernames,
            )
            if result.problems:
                assert not result.rows
                for problem in result.problems:
                    assert problem.row is None or 1 <= problem.row <= _csv_rows(text_), problem
                    assert str(problem.message).strip()
                event("refused: problems by row")
                return
            try:
                created = csv_import.create_accounts(result.rows, actor_id=w.users["admin"])
            except Conflict as error:
                assert str(error.message).strip()
            else:
                assert len(created) == len(result.rows)
                event("imported")
        finally:
            db.session.rollback()


def test_csv_seeds_are_valid(fuzz_world: World) -> None:
    from lessons import roster
    from lms.accounts import csv_import
    from lms.cohorts.models import Cohort

    w = fuzz_world
    with w.app.app_context():
        for seed in (USERS_CSV, USERS_CSV_SEMICOLON):
            result = csv_import.parse_users_csv(
                seed.removeprefix("\ufeff"),
                max_rows=500,
                madrasas=csv_import.madrasa_lookup(),
                existing_usernames=csv_import.taken_usernames,
            )
            assert result.ok, [(p.row, p.column, str(p.message)) for p in result.problems]
        klass = db.session.get(Cohort, w.id(*CLASS))
        for seed in (ROSTER_CSV, ROSTER_CSV_RUSSIAN):
            result = roster.parse_roster(seed, cohort=klass, max_rows=500, default_language="ky")
            assert result.ok, [(p.row, p.column, str(p.message)) for p in result.problems]
        db.session.rollback()


@IMPORT_SETTINGS
@given(
    data=file_of([USERS_CSV, USERS_CSV_SEMICOLON]),
    name=st.sampled_from(["people.csv", "люди.csv", "people.txt"]),
)
def test_users_csv_upload(fuzz_world: World, data: bytes, name: str) -> None:
    w = fuzz_world
    try:
        response = _upload(w, "admin", "/admin/users/import", data, name)
        check_upload(
            w,
            response,
            LANGUAGE_OF["admin"],
            lines=_lines_of(data),
            columns=True,
            what=f"users CSV {data[:80]!r}",
        )
    finally:
        restore(w)


@IMPORT_SETTINGS
@given(data=file_of([ROSTER_CSV, ROSTER_CSV_RUSSIAN]))
def test_roster_service(fuzz_world: World, data: bytes) -> None:
    from lessons import roster
    from lms.accounts import csv_import
    from lms.cohorts.models import Cohort
    from lms.errors import Conflict, Invalid

    w = fuzz_world
    with w.app.app_context():
        klass = db.session.get(Cohort, w.id(*CLASS))
        try:
            try:
                text_ = csv_import.decode_csv(data, "class.csv")
            except Invalid as error:
                assert str(error.message).strip()
                event("refused: not a CSV text file")
                return
            result = roster.parse_roster(text_, cohort=klass, max_rows=500, default_language="ky")
            if result.problems:
                assert not result.rows
                for problem in result.problems:
                    assert problem.row is None or 1 <= problem.row <= _csv_rows(text_), problem
                    assert str(problem.message).strip()
                event("refused: problems by row")
                return
            try:
                entries = roster.import_roster(klass, result.rows, actor_id=w.users["teacher_a"])
            except Conflict as error:
                assert str(error.message).strip()
            else:
                assert len(entries) == len(result.rows)
                event("imported")
        finally:
            db.session.rollback()


@IMPORT_SETTINGS
@given(
    data=file_of([ROSTER_CSV, ROSTER_CSV_RUSSIAN]), name=st.sampled_from(["class.csv", "класс.csv"])
)
def test_roster_upload(fuzz_world: World, data: bytes, name: str) -> None:
    w = fuzz_world
    url = f"/lessons/cohorts/{w.id(*CLASS)}/roster"
    try:
        response = _upload(w, "teacher_a", url, data, name)
        check_upload(
            w,
            response,
            LANGUAGE_OF["teacher_a"],
            lines=_lines_of(data),
            columns=True,
            what=f"roster CSV {data[:80]!r}",
        )
    finally:
        restore(w)


# --- the fuzzing corpus -----------------------------------------------------------------------


def _corpus(target: str) -> list[Path]:
    return sorted(p for p in (FUZZ / "corpus" / target).iterdir() if p.is_file())


def _fuzz_targets() -> Any:
    """fuzz/targets.py, the checks the atheris harnesses make."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_targets", FUZZ / "targets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", _corpus("gift"), ids=lambda p: p.name)
def test_gift_corpus(path: Path) -> None:
    """Seeds and fixed crashes of fuzz/fuzz_gift.py still pass its checks."""
    _fuzz_targets().check_gift(path.read_bytes())


@pytest.mark.parametrize("path", _corpus("markdown"), ids=lambda p: p.name)
def test_markdown_corpus(path: Path) -> None:
    """Seeds and fixed crashes of fuzz/fuzz_markdown.py still pass its checks."""
    _fuzz_targets().check_markdown(path.read_bytes())


# --- fixed crashes, checked one by one ---------------------------------------------------------


def test_a_control_character_in_a_text_field_is_refused_by_name(fuzz_world: World) -> None:
    """Control characters break spreadsheet exports: every text field of every form refuses
    them, naming the character, and the form is shown again."""
    w = fuzz_world
    client = w.client("admin")
    try:
        for character, code in (("\x1b", "U+001B"), ("\x08", "U+0008")):
            before = writes(w)
            response = client.post(
                "/madrasas/new",
                data={
                    "name": f"Медресе{character}Нур",
                    "region_id": str(w.id("region", "A")),
                    "locality": "Ош",
                },
            )
            check_response(w, response, LANGUAGE_OF["admin"], "a control character")
            assert response.status_code == 200
            assert code in response.get_data(as_text=True)
            assert writes(w) == before
    finally:
        restore(w)


def test_a_nul_anywhere_is_refused_before_the_view(fuzz_world: World) -> None:
    """A NUL reaching a query made PostgreSQL fail (a 500): in a field (the new ToT's
    manual), a query string, an address or a JSON string it is now a 400 in the user's
    language, and nothing is written."""
    from lms.input_guard import MESSAGE

    w = fuzz_world
    admin, student = w.client("admin"), w.client("student_a")
    requests = [
        (admin, "POST", "/lessons/tot/new", {"data": {"manual": "\x00", "action": "preview"}}),
        (admin, "POST", "/madrasas/new", {"data": {"name": "Нур\x00"}}),
        (admin, "GET", "/lessons/tot/new?manual=%00", {}),
        (admin, "GET", "/curriculum/%00", {}),
        (
            student,
            "POST",
            f"/api/v1/quizzes/quizzes/{w.id('quiz', 'A/class')}/attempts",
            {"json": {"key": "k\x00"}},
        ),
    ]
    try:
        for client, method, url, body in requests:
            before = writes(w)
            response = client.open(url, method=method, **body)
            actor = "admin" if client is admin else "student_a"
            check_response(w, response, LANGUAGE_OF[actor], f"{method} {url}")
            assert response.status_code == 400, (url, response.status_code)
            with w.app.test_request_context(), force_locale(LANGUAGE_OF[actor]):
                message = str(MESSAGE)
            page = response.get_data(as_text=True)
            assert message in (
                unescape(page)
                if response.mimetype == "text/html"
                else response.get_json()["error"]["message"]
            ), url
            assert writes(w) == before
    finally:
        restore(w)


def test_numbers_beyond_the_databases_integers(fuzz_world: World) -> None:
    """An id past PostgreSQL's integers (2**31) or SQLite's (2**63), in an address, a filter
    or a query argument, made the database refuse the query: a 500. Now an address is a 404
    and any other value a 400 that says a number is too large, in the user's language."""
    from lms.errors import OUT_OF_RANGE

    w = fuzz_world
    client = w.client("admin")
    draft = w.id("draft", "A")
    cases = [
        ("/cohorts/2147483648", 404),
        ("/cohorts/99999999999999999999999", 404),
        ("/lessons/visits?region=99999999999999999999999999", 400),
        (f"/curriculum/versions/{draft}/diff?against=99999999999999999999999", 400),
    ]
    try:
        for url, status in cases:
            before = writes(w)
            response = client.get(url)
            check_response(w, response, LANGUAGE_OF["admin"], url)
            assert response.status_code == status, (url, response.status_code)
            if status == 400:
                with w.app.test_request_context(), force_locale(LANGUAGE_OF["admin"]):
                    assert str(OUT_OF_RANGE) in unescape(response.get_data(as_text=True))
            assert writes(w) == before
    finally:
        restore(w)


def test_a_gift_number_too_large_is_a_problem_on_its_line() -> None:
    """{#9e999999..9e999999} raised decimal.Overflow; {#1e999} was stored as infinity."""
    from quizzes.gift import GiftError, parse_gift

    with pytest.raises(GiftError) as refused:
        parse_gift("::a:: fine {#1}\n\n::b:: huge {#9e999999..9e999999}\n\n::c:: big {#1e999}\n")
    assert {problem.line for problem in refused.value.problems} == {3, 5}
    assert all("too large" in str(problem.message) for problem in refused.value.problems)
    assert parse_gift("q {#0e99999999999999999999..1}").questions[0].data["answers"][0][
        "value"
    ] == pytest.approx(0.5)


MODULE_HEAD = (
    "---\nmanual: health-basics\nmodule: x\nposition: 1\nlanguage: en\ntitle: T\n"
    "objectives: [a]\nduration_minutes: 5\n---\n\n"
)


def test_many_bad_id_lines_parse_in_linear_time() -> None:
    """Each bad id line was compared with every problem found so far: 128 KB of them took
    about 18 seconds (a 512 KB file, minutes); now about a second."""
    from curriculum.content import ContentError, parse_module_file

    text_ = MODULE_HEAD + "{#x}\n" * (128 * 1024 // 5)
    start = time.perf_counter()
    with pytest.raises(ContentError):
        parse_module_file(text_)
    elapsed = time.perf_counter() - start
    assert elapsed < 8, f"{elapsed:.1f} s for 128 KB"


def test_new_block_ids_do_not_copy_the_ids_taken() -> None:
    """Each block without an id copied the set of ids taken: quadratic in the number of
    blocks (a 512 KB file of headings took four minutes). A thousand new ids among 100,000
    took seconds; now milliseconds."""
    from curriculum.content import new_block_id

    taken = {f"p-{n:06d}" for n in range(100_000)}
    start = time.perf_counter()
    for _ in range(1000):
        taken.add(new_block_id(taken))
    elapsed = time.perf_counter() - start
    assert len(taken) == 101_000
    assert elapsed < 0.5, f"{elapsed:.2f} s"
