"""Uploads: size limits and file type checks (OWASP ASVS V12.1 and V12.2, level 2).

Every route that takes a file is listed in ``UPLOADS`` (a test fails when a new one is not).
For each:

- a request body over ``MAX_CONTENT_LENGTH`` (16 MB) is refused with 413 and the "too
  large" page in the user's language, before anything is read or saved;
- a file over the route's own limit (1 MB for a GIFT file; for a CSV 2 KB per row allowed,
  at least 1 MB) is refused with a message naming the limit;
- the type is checked by name and by content: a workbook, an image, a PDF, UTF-16 or
  cp1251 text each get their own message (the line of the first character that is not
  UTF-8, for text in another encoding), and a UTF-8 file with or without a BOM is accepted.

Module files (Markdown) come in through ``lms curriculum import`` and through a manual's
upload page (``curriculum.import_modules``: several files in one field, a refusal answered
with 400), both through ``curriculum.io.import_files``, checked here the same way. The app
takes no images. Nothing refused changes the database.
"""

from __future__ import annotations

import inspect
import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import inspect as sql_inspect
from sqlalchemy import text

from lms.cohorts.models import CLASS
from lms.errors import MESSAGES, TITLES, Invalid
from lms.extensions import db
from tests import factories

MB = 1024 * 1024

USERS_CSV = (
    "username,name,sex,language\r\n"
    "aigerim.t,Айгерим Токтосунова,ж,ky\r\n"
    "abdulla.m,عبد الله Мамытов,м,ru\r\n"
)
ROSTER_CSV = "name,sex\r\nАйгерим Токтосунова,ж\r\nБектур Үсөнов,м\r\n"
GIFT = (
    "::q1:: Колду канча секунд жуу керек? {#20:5}\n\n"
    "::q2:: بِسْمِ اللَّهِ — the first surah? {=الفاتحة ~البقرة}\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 3 >>\nstream\n\x00\x01\x02\nendstream\n"
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"


@dataclass(frozen=True)
class Upload:
    """An upload page: who uses it, its address, a good file, and the other fields."""

    endpoint: str
    good: str  # a file that imports
    name: str  # its file name
    limit: Callable[[Flask], int]  # the route's own limit in bytes
    fields: dict[str, str]
    decode: Callable[[bytes, str], str]  # the check the page runs on the bytes


def _decode_csv(data: bytes, name: str) -> str:
    from lms.accounts import csv_import

    return csv_import.decode_csv(data, name, limit=csv_import.max_bytes(500))


def _decode_gift(data: bytes, name: str) -> str:
    from quizzes import gift_io

    if name and not name.lower().endswith((".gift", ".txt")):
        raise Invalid("extension")
    return gift_io.decode_gift(data)


def _csv_limit(app: Flask) -> int:
    from lms.accounts import csv_import

    return csv_import.max_bytes(app.config["CSV_IMPORT_MAX_ROWS"])


def _gift_limit(app: Flask) -> int:
    from quizzes import gift_io

    return gift_io.MAX_BYTES


#: A manual's upload page for module files, checked by the tests at the end of this file.
MODULE_UPLOAD = "curriculum.import_modules"

UPLOADS = {
    "admin.import_users": Upload(
        "admin.import_users", USERS_CSV, "people.csv", _csv_limit, {}, _decode_csv
    ),
    "lessons.roster": Upload(
        "lessons.roster", ROSTER_CSV, "class.csv", _csv_limit, {}, _decode_csv
    ),
    "quizzes.import_gift": Upload(
        "quizzes.import_gift", GIFT, "questions.gift", _gift_limit, {"language": "ky"}, _decode_gift
    ),
}

_FILE_FIELD = re.compile(r"FileField|request\.files")


def _uses_files(app: Flask, endpoint: str) -> bool:
    """Whether the view reads a file: ``request.files``, or a form with a FileField."""
    view = inspect.unwrap(app.view_functions[endpoint])
    try:
        source = textwrap.dedent(inspect.getsource(view))
    except (OSError, TypeError):
        return False
    if _FILE_FIELD.search(source):
        return True
    for name in re.findall(r"\b([A-Z]\w*Form)\(", source):
        form_class = view.__globals__.get(name)
        if isinstance(form_class, type) and any(
            type(getattr(form_class, attr, None)).__name__ == "UnboundField"
            and "File" in getattr(form_class, attr).field_class.__name__
            for attr in dir(form_class)
        ):
            return True
    return False


# --- the world: an administrator (in Russian or Kyrgyz), a class, a question bank -----------


@dataclass
class Site:
    app: Flask
    client: Any
    urls: dict[str, str]
    language: str


@pytest.fixture
def site(app: Flask, request: pytest.FixtureRequest) -> Site:
    """The site for an administrator who reads Kyrgyz (Russian when the test is
    parametrised with ``language``)."""
    from tests.quizzes.test_attempts import bank

    language = getattr(request, "param", "ky")
    admin = factories.user("admin", language=language)
    klass = factories.cohort(CLASS)
    questions = bank("Uploads")
    db.session.commit()
    client = app.test_client()
    assert factories.login(client, admin).status_code == 302
    urls = {
        "admin.import_users": "/admin/users/import",
        "lessons.roster": f"/lessons/cohorts/{klass.id}/roster",
        "quizzes.import_gift": f"/quizzes/banks/{questions.id}/import",
    }
    return Site(app, client, urls, language)


def row_counts() -> dict[str, int]:
    names = sql_inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        return {
            name: int(connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
            for name in names
        }


def post_file(site: Site, endpoint: str, data: bytes, name: str) -> Any:
    upload = UPLOADS[endpoint]
    return site.client.post(
        site.urls[endpoint],
        data={"file": (io.BytesIO(data), name), **upload.fields},
        content_type="multipart/form-data",
    )


def in_language(site: Site, message: Any) -> str:
    with site.app.test_request_context(), force_locale(site.language):
        return str(message)


def assert_page_says(site: Site, response: Any, message: Any) -> None:
    body = unescape(response.get_data(as_text=True))
    assert f'<html lang="{site.language}"' in body
    expected = in_language(site, message)
    assert expected in body, f"{expected!r} is not on the page"


# --- the list -------------------------------------------------------------------------------


def test_every_upload_route_is_listed(app: Flask) -> None:
    """A new page that takes a file must be added to UPLOADS (and so get these checks)."""
    found = {endpoint for endpoint in app.view_functions if _uses_files(app, endpoint)}
    listed = set(UPLOADS) | {MODULE_UPLOAD}
    assert found == listed, f"take files: {sorted(found)}; listed: {sorted(listed)}"


def test_good_files_import(site: Site) -> None:
    """The files the other checks start from import (with a BOM too)."""
    for endpoint, upload in UPLOADS.items():
        for data in (upload.good.encode(), b"\xef\xbb\xbf" + upload.good.encode()):
            before = row_counts()
            response = post_file(site, endpoint, data, upload.name)
            assert response.status_code == 200, (endpoint, response.status_code)
            assert row_counts() != before, f"{endpoint}: nothing was imported"
            db.session.rollback()
            if endpoint != "quizzes.import_gift":  # the same people cannot be imported twice
                break


# --- 16 MB: the whole request --------------------------------------------------------------


@pytest.mark.parametrize("site", ["ru", "ky"], indirect=True)
@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_body_over_16_mb_gets_413_in_the_users_language(site: Site, endpoint: str) -> None:
    limit = site.app.config["MAX_CONTENT_LENGTH"]
    assert limit == 16 * MB
    before = row_counts()
    response = post_file(site, endpoint, b"a" * (limit + 1), UPLOADS[endpoint].name)
    assert response.status_code == 413
    assert_page_says(site, response, TITLES[413])
    assert_page_says(site, response, MESSAGES[413])
    assert row_counts() == before


# --- each route's own limit -----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_file_over_the_routes_limit_is_refused_with_the_limit(site: Site, endpoint: str) -> None:
    upload = UPLOADS[endpoint]
    limit = upload.limit(site.app)
    assert limit < site.app.config["MAX_CONTENT_LENGTH"]
    good = upload.good.encode()
    data = (good * (limit // len(good) + 2))[: limit + 1]
    before = row_counts()
    response = post_file(site, endpoint, data, upload.name)
    assert response.status_code == 200
    with pytest.raises(Invalid) as refused:
        upload.decode(data, upload.name)
    assert "MB" in str(refused.value.message)
    assert_page_says(site, response, refused.value.message)
    assert row_counts() == before


def test_the_csv_limit_follows_the_number_of_rows(app: Flask) -> None:
    from lms.accounts import csv_import

    assert csv_import.max_bytes(500) == MB
    assert csv_import.max_bytes(5000) == 5000 * csv_import.BYTES_PER_ROW
    row = "aigerim.t,Айгерим Токтосунова,ж,ky\r\n".encode()
    assert len(row) * 500 < csv_import.max_bytes(500) / 10  # ample for 500 real rows


# --- file types: by name and by content -----------------------------------------------------

CP1251 = "Айгерим Токтосунова"

#: (case, the bytes, the file name or None for the good one's, what the message must say)
TYPE_CASES: list[tuple[str, Callable[[Upload], bytes], str | None, str]] = [
    ("workbook by name", lambda u: u.good.encode(), "people.xlsx", "name"),
    ("executable by name", lambda u: u.good.encode(), "setup.exe", "name"),
    ("workbook renamed", lambda u: XLSX, None, "binary"),
    ("image renamed", lambda u: PNG, None, "binary"),
    ("pdf renamed", lambda u: PDF, None, "binary"),
    ("utf-16", lambda u: u.good.encode("utf-16"), None, "binary"),
    ("nul byte", lambda u: u.good.encode().replace(b"\n", b"\x00\n", 1), None, "binary"),
    ("cp1251", lambda u: (u.good + CP1251 + "\n").encode("cp1251", "replace"), None, "line"),
    ("empty", lambda u: b"", None, "empty"),
]


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_the_file_type_is_checked(site: Site, endpoint: str) -> None:
    """Each wrong kind of file gets its own message, in the user's language; nothing is
    imported."""
    upload = UPLOADS[endpoint]
    before = row_counts()
    for case, make, name, says in TYPE_CASES:
        data = make(upload)
        filename = name or upload.name
        response = post_file(site, endpoint, data, filename)
        assert response.status_code == 200, (case, response.status_code)
        with pytest.raises(Invalid) as refused:
            upload.decode(data, filename)
        message = refused.value.message
        english = str(message)
        if says == "name":
            message = _name_message(endpoint, filename)
            english = str(message)
            assert ".csv" in english or ".gift" in english or "workbook" in english, case
        elif says == "binary":
            assert "UTF-8" in english, (case, english)
            assert "binary" in english or "workbook" in english, (case, english)
        elif says == "line":
            lines = data.decode("cp1251").splitlines()
            first = next(i for i, line in enumerate(lines, 1) if not line.isascii())
            assert f"line {first}." in english, (case, english)
        elif says == "empty":
            assert "empty" in english, (case, english)
        assert_page_says(site, response, message)
    assert row_counts() == before


def _name_message(endpoint: str, filename: str) -> Any:
    """What the page says about a file with the wrong name."""
    from lms.accounts import csv_import

    if endpoint == "quizzes.import_gift":
        from flask_babel import lazy_gettext as _l

        return _l("Choose a GIFT file (its name ends in .gift or .txt).")
    with pytest.raises(Invalid) as refused:
        csv_import.decode_csv(b"a,b\n", filename)
    return refused.value.message


# --- module files: lms curriculum import ----------------------------------------------------


def _module_file() -> bytes:
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "curriculum" / "sample" / "civic-education"
    return sorted(sample.glob("en/*.md"))[0].read_bytes()


@pytest.mark.parametrize(
    ("case", "make", "says", "line"),
    [
        ("too large", lambda good: good + b"\n" + b"x" * (512 * 1024), "512 KB", None),
        ("cp1251", lambda good: good + "\n\nАйгерим\n".encode("cp1251"), "UTF-8", "last"),
        ("utf-16", lambda good: good.decode().encode("utf-16"), "UTF-8", 1),
        ("image", lambda good: PNG, "UTF-8", 1),
        ("nul byte", lambda good: good.replace(b"\ntitle:", b"\ntitle: \x00", 1), "U+0000", 6),
    ],
)
def test_module_files_are_checked(app: Flask, case: str, make: Any, says: str, line: Any) -> None:
    from curriculum import io as curriculum_io

    good = _module_file()
    data = make(good)
    before = row_counts()
    with pytest.raises(curriculum_io.ImportFailed) as refused:
        curriculum_io.import_files([("module.md", data)], actor_id=None)
    problems = refused.value.problems
    assert any(says in str(p.problem.message) for p in problems), [str(p) for p in problems]
    if line == "last":
        line = data.count(b"\n") + 1 - 1
    if line is not None:
        assert any(p.problem.line == line for p in problems), [str(p) for p in problems]
    db.session.rollback()
    assert row_counts() == before


# --- module files: the upload page of a manual ------------------------------------------------


@pytest.fixture
def editor_site(app: Flask, request: pytest.FixtureRequest) -> Site:
    """An editor who reads Kyrgyz (or the parametrised language) on the Civic Education
    manual's upload page."""
    from curriculum.services import create_manual

    language = getattr(request, "param", "ky")
    create_manual(slug="civic-education", title_en="Civic Education", actor_id=None)
    editor = factories.user("editor", language=language)
    db.session.commit()
    client = app.test_client()
    assert factories.login(client, editor).status_code == 302
    return Site(app, client, {MODULE_UPLOAD: "/curriculum/civic-education/import"}, language)


def post_modules(site: Site, data: bytes, name: str = "01-constitution-and-rights.md") -> Any:
    return site.client.post(
        site.urls[MODULE_UPLOAD],
        data={"files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
    )


def test_a_good_module_file_uploads_with_or_without_a_bom(editor_site: Site) -> None:
    """A new file becomes a draft; the same text again with a BOM is the same text."""

    def versions() -> int:
        return int(db.session.scalar(text("SELECT count(*) FROM curriculum_module_version")))

    assert post_modules(editor_site, _module_file()).status_code == 302
    assert versions() == 1
    assert post_modules(editor_site, b"\xef\xbb\xbf" + _module_file()).status_code == 302
    assert versions() == 1, "a BOM must not make the same text a new draft"


@pytest.mark.parametrize("editor_site", ["ru", "ky"], indirect=True)
def test_a_module_upload_over_16_mb_gets_413_in_the_users_language(editor_site: Site) -> None:
    limit = editor_site.app.config["MAX_CONTENT_LENGTH"]
    before = row_counts()
    response = post_modules(editor_site, b"a" * (limit + 1))
    assert response.status_code == 413
    assert_page_says(editor_site, response, TITLES[413])
    assert row_counts() == before


@pytest.mark.parametrize(
    ("case", "make", "name", "says"),
    [
        ("too large", lambda good: good + b"\n" + b"x" * (512 * 1024), None, "512"),
        ("workbook by name", lambda good: good, "module.xlsx", ".md"),
        ("image renamed", lambda good: PNG, None, "UTF-8"),
        ("utf-16", lambda good: good.decode().encode("utf-16"), None, "UTF-8"),
        ("cp1251", lambda good: good + "\n\nАйгерим\n".encode("cp1251"), None, "UTF-8"),
        ("empty", lambda good: b"", None, None),
    ],
)
def test_a_wrong_module_file_is_refused_and_nothing_is_imported(
    editor_site: Site, case: str, make: Any, name: str | None, says: str | None
) -> None:
    before = row_counts()
    response = post_modules(editor_site, make(_module_file()), name or "module.md")
    body = unescape(response.get_data(as_text=True))
    assert response.status_code == 400, case
    assert f'<html lang="{editor_site.language}"' in body
    assert 'aria-invalid="true"' in body or "module.md" in body, case
    if says is not None:
        assert says in body, (case, says)
    assert row_counts() == before
