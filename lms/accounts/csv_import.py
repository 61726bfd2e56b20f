"""Creating many accounts at once from a spreadsheet saved as CSV.

Two steps, so a file with one mistake changes nothing: ``parse_users_csv`` reads and checks
every row (a pure function: text in, either valid rows or problems out, each problem with
the row number the spreadsheet shows), then ``create_accounts`` creates them all in the
caller's transaction. ``decode_csv`` turns the uploaded bytes into text first and explains
in plain words what to do when the file is not UTF-8 CSV.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts import services
from lms.accounts.models import RoleGrant, User
from lms.accounts.passwords import hash_generated_password, hash_password
from lms.accounts.roles import EXPERTISE, REVIEWER, ROLES
from lms.audit import services as audit
from lms.config import LANGUAGES
from lms.errors import Conflict, Invalid
from lms.extensions import db

#: The columns, in the order the template has them.
COLUMNS = (
    "username",
    "name",
    "sex",
    "language",
    "email",
    "phone",
    "role",
    "madrasa",
    "expertise",
    "password",
)
REQUIRED_COLUMNS = ("username", "name", "sex")

#: Other spellings of column names people write in a header row.
COLUMN_ALIASES = {
    "user_name": "username",
    "login": "username",
    "full_name": "name",
    "preferred_language": "language",
    "lang": "language",
    "e_mail": "email",
    "telephone": "phone",
}

#: What people write for sex in English, Russian and Kyrgyz.
SEX_WORDS = {
    "female": "female",
    "f": "female",
    "woman": "female",
    "ж": "female",
    "жен": "female",
    "женский": "female",
    "женщина": "female",
    "аял": "female",
    "male": "male",
    "m": "male",
    "man": "male",
    "м": "male",
    "муж": "male",
    "мужской": "male",
    "мужчина": "male",
    "эркек": "male",
}

LANGUAGE_WORDS = {
    **{code: code for code in LANGUAGES},
    **{label.casefold(): code for code, label in LANGUAGES.items()},
    "english": "en",
    "russian": "ru",
    "kyrgyz": "ky",
    "kg": "ky",
    "кыргызский": "ky",
}

DEFAULT_LANGUAGE = "ru"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
#: Bytes no text file holds (control characters other than tab and line breaks): a file with
#: any is binary (an image, a PDF, a workbook) or UTF-16, and would fail to be stored.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: A CSV file may be this large for each row allowed (a row of the template is ~100 bytes);
#: with 500 rows, 1 MB. Larger files are refused before they are read.
BYTES_PER_ROW = 2048
MIN_MAX_BYTES = 1024 * 1024


def max_bytes(max_rows: int) -> int:
    """The largest CSV file accepted when at most ``max_rows`` rows may be imported."""
    return max(MIN_MAX_BYTES, max_rows * BYTES_PER_ROW)


def not_utf8_line(data: bytes, error: UnicodeDecodeError) -> int:
    """The line (1-based) of the first byte that is not UTF-8."""
    return data[: error.start].count(b"\n") + 1


_QUOTES = re.compile(r"[\"'«»“”„‘’]")


@dataclass(frozen=True)
class ImportRow:
    """One checked row: ready to become an account (and maybe a role)."""

    row: int
    username: str
    name: str
    sex: str
    language: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None
    madrasa_id: int | None = None
    expertise: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``row`` as the spreadsheet numbers it (the header is 1).

    ``row`` is None for the file as a whole, ``column`` is None for the whole row.
    """

    row: int | None
    column: str | None
    message: Any


@dataclass
class ParseResult:
    """Either ``rows`` (every row good) or ``problems`` (then ``rows`` is empty)."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CreatedAccount:
    """What the result page shows once: ``password`` only when it was generated."""

    username: str
    name: str
    roles: str
    password: str | None


def decode_csv(data: bytes, filename: str = "", *, limit: int | None = None) -> str:
    """The uploaded file as text, or ``Invalid`` saying how to save it as UTF-8 CSV.

    ``limit`` is the largest size accepted, in bytes (the caller reads one byte more)."""
    name = filename.lower()
    workbook = name.endswith((".xlsx", ".xls", ".ods")) or data.startswith(_WORKBOOK_MAGIC)
    if workbook:
        raise Invalid(
            _l(
                "This is a spreadsheet workbook, not a CSV file. In Excel choose "
                "File → Save as → “CSV UTF-8”; in LibreOffice choose “Text CSV” "
                "with the character set “Unicode (UTF-8)”."
            )
        )
    if name and not name.endswith((".csv", ".txt")):
        raise Invalid(_l("Choose a CSV file (its name ends in .csv)."))
    if limit is not None and len(data) > limit:
        raise Invalid(
            _l("The file is larger than %(size)s MB.", size=max(1, limit // (1024 * 1024)))
        )
    if not data.strip():
        raise Invalid(_l("The file is empty."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or CONTROL_BYTES.search(data):
        raise Invalid(
            _l(
                "The file is not UTF-8 text (it looks like UTF-16 or a binary file). "
                "Save it again as “CSV UTF-8”."
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(
            _l(
                "%(problem)s The first such character is on line %(line)s.",
                problem=_l(
                    "The file is not in UTF-8, so letters would come out wrong. In Excel "
                    "choose File → Save as → “CSV UTF-8”; in LibreOffice choose the "
                    "character set “Unicode (UTF-8)”."
                ),
                line=not_utf8_line(data, error),
            )
        ) from None


def madrasa_key(text: str) -> str:
    """How madrasa names are compared: case, spacing and quotation marks do not matter."""
    text = _QUOTES.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.split()).casefold()


def _sniff_delimiter(text: str) -> str:
    """';' when the header row uses it (Excel in Russian or Kyrgyz settings), else ','."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _column_name(raw: str) -> str:
    key = re.sub(r"[\s\-]+", "_", raw.strip().lower())
    return COLUMN_ALIASES.get(key, key)


def _read_header(
    record: list[str], row: int
) -> tuple[list[str | None], dict[str, str], list[Problem]]:
    """The canonical name of each cell (None for blank ones), how the file wrote each one."""
    problems: list[Problem] = []
    names: list[str | None] = []
    written: dict[str, str] = {}
    for raw in record:
        if not raw.strip():
            names.append(None)
            continue
        name = _column_name(raw)
        if name not in COLUMNS:
            problems.append(
                Problem(
                    row,
                    raw.strip(),
                    _l(
                        "Unknown column “%(column)s”. The columns are: %(columns)s.",
                        column=raw.strip(),
                        columns=", ".join(COLUMNS),
                    ),
                )
            )
        elif name in written:
            problems.append(Problem(row, raw.strip(), _l("This column appears twice.")))
        else:
            written[name] = raw.strip()
        names.append(name if name in COLUMNS else None)
    for name in REQUIRED_COLUMNS:
        if name not in written:
            problems.append(
                Problem(row, name, _l("The column “%(column)s” is missing.", column=name))
            )
    return names, written, problems


def _check_row(
    number: int,
    cells: dict[str, str],
    written: dict[str, str],
    madrasas: Mapping[str, Sequence[int]],
    default_language: str,
) -> tuple[ImportRow | None, list[Problem]]:
    """One row's problems, or the row ready to import."""
    problems: list[Problem] = []

    def problem(column: str, message: Any) -> None:
        problems.append(Problem(number, written.get(column, column), message))

    username = services.normalise_username(cells.get("username", ""))
    name = " ".join(cells.get("name", "").split())
    sex_raw = cells.get("sex", "")
    sex = SEX_WORDS.get(sex_raw.casefold())
    language_raw = cells.get("language", "")
    language = LANGUAGE_WORDS.get(language_raw.casefold()) if language_raw else default_language

    # The same checks (and messages) as the form; sex and language are checked below.
    for key, messages in services.validate_user_fields(
        username=username, name=name, sex="female", preferred_language=DEFAULT_LANGUAGE
    ).items():
        for message in messages:
            problem(key, message)
    if sex is None:
        problem(
            "sex",
            _l("Write female or male (ж or м, аял or эркек), not “%(value)s”.", value=sex_raw)
            if sex_raw
            else _l("Write female or male (ж or м, аял or эркек)."),
        )
    if language is None:
        problem(
            "language",
            _l("Write en, ru or ky, not “%(value)s”.", value=language_raw),
        )
    email = cells.get("email") or None
    phone = cells.get("phone") or None
    for key, messages in services.contact_problems(email=email, phone=phone).items():
        for message in messages:
            problem(key, message)

    role_raw = cells.get("role", "")
    role = role_raw.casefold() or None
    madrasa_raw = cells.get("madrasa", "")
    expertise_raw = cells.get("expertise", "")
    expertise = expertise_raw.casefold() or None
    madrasa_id: int | None = None
    if role is not None and role not in ROLES:
        problem(
            "role",
            _l(
                "Unknown role “%(value)s”. Write one of: %(roles)s, or leave it empty.",
                value=role_raw,
                roles=", ".join(ROLES),
            ),
        )
    if madrasa_raw:
        ids = madrasas.get(madrasa_key(madrasa_raw), ())
        if not ids:
            problem("madrasa", _l("There is no madrasa called “%(value)s”.", value=madrasa_raw))
        elif len(ids) > 1:
            problem(
                "madrasa",
                _l(
                    "Several madrasas are called “%(value)s”. Add the region in brackets "
                    "after the name: “%(value)s (region)”.",
                    value=madrasa_raw,
                ),
            )
        else:
            madrasa_id = ids[0]
        if role is None:
            problem("madrasa", _l("A madrasa is given but no role: add the role in that row."))
    if role in ROLES:
        errors = services.role_problems(role, "madrasa" if madrasa_raw else "", expertise)
        for message in errors.get("scope", []):
            problem("madrasa", message)
        if errors.get("expertise") and role == REVIEWER:
            problem(
                "expertise",
                _l(
                    "Write the reviewer's expertise, one of: %(values)s.",
                    values=", ".join(EXPERTISE),
                ),
            )
        elif errors.get("expertise"):
            problem("expertise", errors["expertise"][0])
    elif role is None and expertise:
        problem("expertise", _l("Only expert reviewers have an expertise; leave it empty."))

    password = cells.get("password") or None
    if password is not None and (message := services.password_problem(password, username)):
        problem("password", message)

    if problems:
        return None, problems
    assert sex is not None and language is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    return (
        ImportRow(
            row=number,
            username=username,
            name=name,
            sex=sex,
            language=language,
            email=email,
            phone=phone,
            role=role,
            madrasa_id=madrasa_id,
            expertise=expertise,
            password=password,
        ),
        [],
    )


def parse_users_csv(
    text: str,
    *,
    max_rows: int,
    madrasas: Mapping[str, Sequence[int]],
    existing_usernames: Callable[[Collection[str]], Collection[str]],
    default_language: str = DEFAULT_LANGUAGE,
) -> ParseResult:
    """Check every row of a users CSV; valid rows only when there is no problem at all.

    ``madrasas`` maps ``madrasa_key(name)`` to the ids of madrasas with that name;
    ``existing_usernames`` gets all user names of the file at once and returns those
    already taken (one query, however long the file). Blank rows are skipped but counted,
    so row numbers match what the spreadsheet shows.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    records: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            records.append((number, [cell.strip() for cell in record]))
    except csv.Error:
        return ParseResult(
            problems=[
                Problem(
                    len(records) + 1,
                    None,
                    _l("This row cannot be read. Check its quotation marks."),
                )
            ]
        )
    filled = [(number, record) for number, record in records if any(record)]
    if not filled:
        return ParseResult(problems=[Problem(None, None, _l("The file is empty."))])
    (header_row, header), data = filled[0], filled[1:]
    names, written, problems = _read_header(header, header_row)
    if problems:
        return ParseResult(problems=problems)
    if not data:
        return ParseResult(
            problems=[Problem(None, None, _l("The file has a header row but no people in it."))]
        )
    if len(data) > max_rows:
        return ParseResult(
            problems=[
                Problem(
                    None,
                    None,
                    _l(
                        "The file has %(n)s people; at most %(max)s can be imported at once. "
                        "Split it into several files.",
                        n=len(data),
                        max=max_rows,
                    ),
                )
            ]
        )

    rows: list[ImportRow] = []
    first_row_of: dict[str, int] = {}
    for number, record in data:
        if any(cell for cell in record[len(names) :]):
            problems.append(
                Problem(number, None, _l("This row has more cells than the header row."))
            )
            continue
        cells = {name: value for name, value in zip(names, record, strict=False) if name}
        row, row_problems = _check_row(number, cells, written, madrasas, default_language)
        problems.extend(row_problems)
        username = services.normalise_username(cells.get("username", ""))
        if username and not any(p.column == written["username"] for p in row_problems):
            if username in first_row_of:
                problems.append(
                    Problem(
                        number,
                        written["username"],
                        _l(
                            "The user name %(u)s is also on row %(row)s.",
                            u=username,
                            row=first_row_of[username],
                        ),
                    )
                )
                row = None
            else:
                first_row_of[username] = number
        if row is not None:
            rows.append(row)

    taken = set(existing_usernames(list(first_row_of))) & first_row_of.keys()
    for username in sorted(taken, key=first_row_of.__getitem__):
        problems.append(
            Problem(
                first_row_of[username],
                written["username"],
                _l("The user name %(u)s is already taken.", u=username),
            )
        )
    if problems:
        order = {written.get(name, name): i for i, name in enumerate(COLUMNS)}
        problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", -1)))
        return ParseResult(problems=problems)
    return ParseResult(rows=rows)


def template_csv(delimiter: str = ",") -> str:
    """An empty file with the header row, with a BOM so Excel reads it as UTF-8."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(COLUMNS)
    return "\ufeff" + out.getvalue()


# --- Reading the database: the lookups ``parse_users_csv`` needs, and creating accounts ---


def madrasa_lookup() -> dict[str, list[int]]:
    """Madrasa ids by name, and by "name (region)" in each language for same-named ones."""
    from lms.organisations.models import Madrasa, Region

    lookup: dict[str, list[int]] = {}
    query = select(Madrasa.id, Madrasa.name, Region.name_en, Region.name_ru, Region.name_ky)
    for madrasa_id, name, *regions in db.session.execute(query.join(Region)):
        keys = {madrasa_key(name), *(madrasa_key(f"{name} ({region})") for region in regions)}
        for key in keys:
            lookup.setdefault(key, []).append(madrasa_id)
    return lookup


def taken_usernames(usernames: Collection[str]) -> set[str]:
    """Which of these user names already have an account (in chunks of bound parameters)."""
    names = list(usernames)
    taken: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        taken.update(db.session.scalars(select(User.username).where(User.username.in_(chunk))))
    return taken


def _hash_all(passwords: Sequence[tuple[str, bool]]) -> list[str]:
    """Hash in parallel threads (argon2 releases the GIL and is slow on purpose).

    Passwords the import generated use the cheaper profile for random secrets; passwords
    given in the file get the full one.
    """

    def one(item: tuple[str, bool]) -> str:
        password, generated = item
        return hash_generated_password(password) if generated else hash_password(password)

    if len(passwords) <= 1:
        return [one(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, passwords))


def create_accounts(rows: Sequence[ImportRow], *, actor_id: int | None) -> list[CreatedAccount]:
    """Create every account (and role) in the caller's transaction; audited like the form.

    Raises ``Conflict`` when a user name was taken after the file was checked; the caller
    rolls back, so nothing is half-imported.
    """
    passwords = [row.password or services.generate_password() for row in rows]
    hashes = _hash_all([(pw, not row.password) for row, pw in zip(rows, passwords, strict=True)])
    created: list[tuple[ImportRow, User, str, RoleGrant | None]] = []
    for row, password, password_hash in zip(rows, passwords, hashes, strict=True):
        user = User(
            username=row.username,
            name=row.name,
            sex=row.sex,
            preferred_language=row.language,
            email=row.email,
            phone=row.phone,
            password_hash=password_hash,
        )
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict(
                _l(
                    "The user name %(u)s was taken while the file was being imported. "
                    "Nothing was imported; upload the file again.",
                    u=row.username,
                )
            ) from None
        audit.record(
            "user.create",
            "user",
            user.id,
            actor_id=actor_id,
            details={"username": user.username, "source": "csv"},
        )
        grant = None
        if row.role:
            grant = services.grant_role(
                user,
                row.role,
                scope_type="madrasa" if row.madrasa_id else "",
                scope_id=row.madrasa_id or 0,
                expertise=row.expertise,
                actor_id=actor_id,
            )
        created.append((row, user, password, grant))

    names = services.scope_names((g.scope_type, g.scope_id) for *_, g in created if g)
    return [
        CreatedAccount(
            username=user.username,
            name=user.name,
            roles=services.grant_label(grant, names) if grant else "",
            password=None if row.password else password,
        )
        for row, user, password, grant in created
    ]
