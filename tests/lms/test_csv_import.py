"""Importing people from a CSV file: all rows or none, with problems by row and column."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Collection
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.accounts import csv_import
from lms.accounts.csv_import import ParseResult, decode_csv, parse_users_csv
from lms.accounts.models import RoleGrant, User
from lms.audit.models import AuditEntry
from lms.errors import Invalid
from lms.extensions import db
from tests import factories

HEADER = "username,name,sex,language,email,phone,role,madrasa,expertise,password\n"
GENERATED = re.compile(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>")


def _parse(text: str, *, taken: Collection[str] = (), **kwargs: Any) -> ParseResult:
    """``parse_users_csv`` with one known madrasa (id 7) and the given taken user names."""
    kwargs.setdefault("max_rows", 100)
    kwargs.setdefault("madrasas", {csv_import.madrasa_key("Madrasa Nur"): [7]})
    return parse_users_csv(
        text, existing_usernames=lambda names: set(taken).intersection(names), **kwargs
    )


def _where(result: ParseResult) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in result.problems]


# --- the pure function ---


def test_good_rows_become_import_rows(app):
    result = _parse(
        HEADER
        + "Aida.T,Aida  Toktogulova,Ж,ky,aida@example.org,0555,teacher,madrasa nur,,\n"
        + "bakyt,Bakyt Osmonov,эркек,,,,reviewer,,Theology,secret password\n"
        + "cholpon,Cholpon Aliyeva,женский,Русский,,,,,,\n"
    )
    assert result.ok
    aida, bakyt, cholpon = result.rows
    assert (aida.row, aida.username, aida.name, aida.sex, aida.language) == (
        2,
        "aida.t",
        "Aida Toktogulova",
        "female",
        "ky",
    )
    assert (aida.role, aida.madrasa_id, aida.email, aida.phone) == (
        "teacher",
        7,
        "aida@example.org",
        "0555",
    )
    assert (bakyt.sex, bakyt.language, bakyt.role, bakyt.expertise) == (
        "male",
        "ru",
        "reviewer",
        "theology",
    )
    assert bakyt.password == "secret password" and aida.password is None
    assert (cholpon.sex, cholpon.language, cholpon.role) == ("female", "ru", None)


def test_one_bad_row_means_no_rows_and_says_where(app):
    result = _parse(
        HEADER
        + "aida,Aida,female,en,,,,,,\n"
        + "bakyt,Bakyt,robot,en,,,,,,\n"
        + "cholpon,Cholpon,female,fr,,,,,,\n"
    )
    assert not result.ok and result.rows == []
    assert _where(result) == [(3, "sex"), (4, "language")]
    assert "robot" in str(result.problems[0].message)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("bad name!,Aida,female,en,,,,,,", "username", "Latin letters"),
        ("aida,,female,en,,,,,,", "name", "full name"),
        ("aida,Aida,,en,,,,,,", "sex", "female or male"),
        ("aida,Aida,female,en,not-an-email,,,,,", "email", "e-mail address"),
        ("aida,Aida,female,en,,,pope,,,", "role", "Unknown role"),
        ("aida,Aida,female,en,,,teacher,Madrasa Nowhere,,", "madrasa", "no madrasa called"),
        ("aida,Aida,female,en,,,,Madrasa Nur,,", "madrasa", "no role"),
        (
            "aida,Aida,female,en,,,trainer,Madrasa Nur,,",
            "madrasa",
            "cannot be limited to a madrasa",
        ),
        ("aida,Aida,female,en,,,reviewer,,,", "expertise", "theology, public_policy"),
        ("aida,Aida,female,en,,,reviewer,,astrology,", "expertise", "reviewer's expertise"),
        ("aida,Aida,female,en,,,teacher,,health,", "expertise", "Only expert reviewers"),
        ("aida,Aida,female,en,,,,,health,", "expertise", "Only expert reviewers"),
        ("aida,Aida,female,en,,,,,,short", "password", "at least 8"),
        ("aida,Aida,female,en,,,,,,,extra", None, "more cells"),
    ],
)
def test_each_kind_of_mistake_is_reported_on_its_column(app, row, column, message):
    result = _parse(HEADER + row + "\n")
    assert _where(result) == [(2, column)]
    assert message in str(result.problems[0].message)


def test_duplicates_in_the_file_and_taken_names_are_reported(app):
    result = _parse(
        HEADER
        + "aida,Aida,female,en,,,,,,\n"
        + "AIDA,Aida Again,female,en,,,,,,\n"
        + "bakyt,Bakyt,male,en,,,,,,\n",
        taken={"bakyt"},
    )
    assert _where(result) == [(3, "username"), (4, "username")]
    assert "also on row 2" in str(result.problems[0].message)
    assert "already taken" in str(result.problems[1].message)


def test_same_named_madrasas_need_their_region(app):
    madrasas = {
        csv_import.madrasa_key("Nur"): [1, 2],
        csv_import.madrasa_key("Nur (Osh Region)"): [1],
    }
    bad = _parse(HEADER + "aida,Aida,female,en,,,teacher,Nur,,\n", madrasas=madrasas)
    assert _where(bad) == [(2, "madrasa")] and "region" in str(bad.problems[0].message)
    good = _parse(
        HEADER + "aida,Aida,female,en,,,teacher,«Nur» (osh region),,\n", madrasas=madrasas
    )
    assert good.ok and good.rows[0].madrasa_id == 1


def test_semicolons_a_bom_blank_lines_and_multi_line_cells(app):
    text = '\ufeffusername;name;sex\r\n\r\naida;"Toktogulova;\nAida";ж\r\nbakyt;Bakyt;robot\r\n'
    result = _parse(text)
    # Row numbers are the spreadsheet's: the blank row counts, the two-line cell does not.
    assert _where(result) == [(4, "sex")]
    result = _parse(text.replace("robot", "м"))
    assert [r.row for r in result.rows] == [3, 4]
    assert result.rows[0].name == "Toktogulova; Aida"


def test_header_problems_are_reported_before_anything_else(app):
    result = _parse("user name,full name,emial\naida,Aida,\n")
    assert _where(result) == [(1, "emial"), (1, "sex")]
    assert "Unknown column" in str(result.problems[0].message)
    assert "missing" in str(result.problems[1].message)
    assert _where(_parse("username,name,sex,name\n")) == [(1, "name")]


def test_empty_and_too_long_files_are_refused(app):
    assert _where(_parse("")) == [(None, None)]
    assert "no people" in str(_parse(HEADER).problems[0].message)
    rows = "".join(f"user{n},Person {n},female,en,,,,,,\n" for n in range(4))
    result = _parse(HEADER + rows, max_rows=3)
    assert _where(result) == [(None, None)]
    assert "at most 3" in str(result.problems[0].message)


def test_decoding_accepts_utf8_with_a_bom_and_explains_other_files(app):
    assert decode_csv("\ufeffusername\nайдана\n".encode(), "people.csv") == "username\nайдана\n"
    with pytest.raises(Invalid, match="UTF-8"):
        decode_csv("username\nАйдана\n".encode("cp1251"), "people.csv")
    with pytest.raises(Invalid, match="UTF-8"):
        decode_csv("username\n".encode("utf-16"), "people.csv")
    with pytest.raises(Invalid, match="workbook"):
        decode_csv(b"PK\x03\x04rest of a zip", "people.xlsx")
    with pytest.raises(Invalid, match=r"\.csv"):
        decode_csv(b"username\n", "people.pdf")
    with pytest.raises(Invalid, match="empty"):
        decode_csv(b"  \n", "people.csv")


# --- through the page ---


def _admin_client(app: Flask) -> tuple[User, FlaskClient]:
    admin = factories.user("admin")
    db.session.commit()
    client = app.test_client()
    factories.login(client, admin)
    return admin, client


def _upload(client: FlaskClient, content: bytes | str, filename: str = "people.csv") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def test_importing_creates_accounts_and_roles_and_shows_passwords_once(app):
    admin, client = _admin_client(app)
    place = factories.madrasa("Madrasa Nur")
    db.session.commit()
    response = _upload(
        client,
        HEADER
        + "aida,Aida Toktogulova,ж,ky,,,teacher,Madrasa Nur,,\n"
        + "bakyt,Bakyt Osmonov,male,ru,,,reviewer,,health,\n"
        + "cholpon,Cholpon Aliyeva,аял,en,,,,,,given password\n",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    assert "3 accounts have been created." in page
    assert "will not be shown again" in page
    assert "Teacher · Madrasa Nur" in page and "Expert reviewer · Health" in page
    passwords = GENERATED.findall(page)
    assert len(passwords) == 2 and "given password" not in page

    aida = db.session.scalar(select(User).where(User.username == "aida"))
    assert aida is not None and aida.sex == "female" and aida.preferred_language == "ky"
    grants = db.session.execute(
        select(
            User.username,
            RoleGrant.role,
            RoleGrant.scope_type,
            RoleGrant.scope_id,
            RoleGrant.expertise,
        )
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.id != admin.id)
        .order_by(User.username)
    ).all()
    assert [tuple(g) for g in grants] == [
        ("aida", "teacher", "madrasa", place.id, None),
        ("bakyt", "reviewer", "", 0, "health"),
    ]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == admin.id))
    assert (
        sorted(a for a in actions if a != "login.success")
        == ["role.grant"] * 2 + ["user.create"] * 3
    )

    assert factories.login(app.test_client(), aida, passwords[0]).status_code == 302
    cholpon = db.session.scalar(select(User).where(User.username == "cholpon"))
    assert factories.login(app.test_client(), cholpon, "given password").status_code == 302


def test_one_bad_row_imports_nothing_and_reports_row_and_column(app):
    _, client = _admin_client(app)
    factories.user(username="taken")
    db.session.commit()
    before = _users()
    response = _upload(
        client,
        HEADER
        + "aida,Aida,female,en,,,,,,\n"
        + "bakyt,Bakyt,male,en,,,trainer,,,\n"
        + "cholpon,Cholpon,female,xx,,,,,,\n"
        + "taken,Someone,male,en,,,,,,\n",
    )
    assert response.status_code == 200
    page = _text(response)
    assert "Nothing was imported" in page
    assert re.search(r"<td>4</td>\s*<td>language</td>\s*<td>Write en, ru or ky", page)
    assert re.search(r"<td>5</td>\s*<td>username</td>\s*<td>The user name taken is already", page)
    assert _users() == before


def test_a_semicolon_file_with_a_bom_from_excel_is_accepted(app):
    _, client = _admin_client(app)
    content = "\ufeffusername;name;sex;language\r\naigul;Айгуль;Ж;ru\r\n"
    response = _upload(client, content.encode("utf-8"))
    assert "1 account has been created." in _text(response)
    aigul = db.session.scalar(select(User).where(User.username == "aigul"))
    assert aigul is not None and aigul.name == "Айгуль" and aigul.sex == "female"


def test_a_file_that_is_not_utf8_gets_a_clear_error(app):
    _, client = _admin_client(app)
    before = _users()
    response = _upload(client, "username,name,sex\nainura,Айнура,ж\n".encode("cp1251"))
    page = _text(response)
    assert response.status_code == 200
    assert 'id="file-errors"' in page and "The file is not in UTF-8" in page
    workbook = _text(_upload(client, b"PK\x03\x04....", "people.xlsx"))
    assert "spreadsheet workbook" in workbook
    missing = _text(client.post("/admin/users/import", data={}, content_type="multipart/form-data"))
    assert "Choose a CSV file." in missing
    assert _users() == before


def test_the_row_limit_comes_from_the_configuration(make_app):
    app = make_app({"CSV_IMPORT_MAX_ROWS": 2})
    with app.app_context():
        _, client = _admin_client(app)
        rows = "".join(f"user{n},Person {n},female,en,,,,,,\n" for n in range(3))
        page = _text(_upload(client, HEADER + rows))
        assert "at most 2 can be imported" in page
        assert _users() == 1


def test_the_template_can_be_downloaded(app):
    _, client = _admin_client(app)
    comma = client.get("/admin/users/import/template.csv")
    assert comma.status_code == 200 and comma.mimetype == "text/csv"
    assert "attachment" in comma.headers["Content-Disposition"]
    assert comma.get_data(as_text=True) == "\ufeff" + HEADER.strip() + "\r\n"
    semicolon = client.get("/admin/users/import/template.csv?sep=semicolon")
    assert semicolon.get_data(as_text=True).startswith("\ufeffusername;name;sex;")
    # The template itself parses: a header with no people yet.
    text = decode_csv(semicolon.get_data(), "users-template.csv")
    assert "no people" in str(_parse(text).problems[0].message)


def test_the_import_page_explains_the_columns(app):
    _, client = _admin_client(app)
    page = _text(client.get("/admin/users/import"))
    assert 'enctype="multipart/form-data"' in page
    for column in csv_import.COLUMNS:
        assert f"<td>{column}</td>" in page
