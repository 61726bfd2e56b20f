"""Importing a class list from a spreadsheet saved as CSV.

Like the admin import of users (``lms.accounts.csv_import``, whose decoding, delimiter
sniffing and words for sex and language are reused), it works in two steps so that a file
with one mistake changes nothing: ``parse_roster`` checks every row and reports problems by
the row number the spreadsheet shows, then ``import_roster`` creates the new accounts and the
memberships in the caller's transaction. A row with a user name that already exists adds that
person; a row without one gets a new account with a user name made from the name
("Айгерим Токтосунова" → ``aigerim.toktosunova``) and a generated password, shown once.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts import csv_import, services
from lms.accounts.csv_import import LANGUAGE_WORDS, SEX_WORDS, Problem
from lms.accounts.models import User
from lms.accounts.passwords import hash_generated_password
from lms.accounts.permissions import forget_grants
from lms.accounts.roles import MEMBER_ROLES, STUDENT
from lms.audit import services as audit
from lms.cohorts.models import CLASS, Cohort, Membership
from lms.errors import Conflict, Invalid
from lms.extensions import db

#: The columns, in the order the template has them.
COLUMNS = ("name", "sex", "username", "language", "phone")
REQUIRED_COLUMNS = ("name", "sex")
#: Other spellings of column names, including the Russian and Kyrgyz ones teachers write.
COLUMN_ALIASES = {
    **csv_import.COLUMN_ALIASES,
    "фио": "name",
    "имя": "name",
    "аты_жөнү": "name",
    "аты": "name",
    "пол": "sex",
    "жынысы": "sex",
    "логин": "username",
    "язык": "language",
    "тил": "language",
    "телефон": "phone",
}

CREATED, ADDED, ALREADY = "created", "added", "already"

#: Russian and Kyrgyz Cyrillic in Latin letters, as names are usually spelt in passports.
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "ң": "ng",
    "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ү": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
#: Room left in a generated user name for a number that makes it unique.
_BASE_LENGTH = 56
_FALLBACK_BASE = "student"


@dataclass(frozen=True)
class RosterRow:
    """One checked row: an existing account (``user_id``) or a new one to create."""

    row: int
    name: str
    username: str
    sex: str | None = None
    language: str = csv_import.DEFAULT_LANGUAGE
    phone: str | None = None
    user_id: int | None = None
    already_member: bool = False


@dataclass
class RosterResult:
    """Either ``rows`` (every row good) or ``problems`` (then ``rows`` is empty)."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RosterEntry:
    """What the result page shows once; ``password`` only for accounts just created."""

    row: int
    name: str
    username: str
    status: str
    password: str | None = None


def ensure_class(cohort: Cohort) -> None:
    """Rosters are for classes: ToT participants are added one by one on the cohort page."""
    if cohort.kind != CLASS:
        raise Invalid(_l("A list of students can only be imported into a class."))


def template_csv(delimiter: str = ",") -> str:
    """An empty file with the header row, with a BOM so Excel reads it as UTF-8."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(COLUMNS)
    return "\ufeff" + out.getvalue()


def username_base(name: str) -> str:
    """A user name made from a full name: the first two words in Latin letters, joined by
    a dot ("Айгерим Токтосунова" → "aigerim.toktosunova")."""
    words = []
    for word in unicodedata.normalize("NFC", name).casefold().split():
        latin = "".join(_TRANSLIT.get(ch, ch) for ch in word)
        latin = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
        latin = re.sub(r"[^a-z0-9]", "", latin)
        if latin:
            words.append(latin)
    base = ".".join(words[:2])[:_BASE_LENGTH].strip(".")
    return base if services.USERNAME_RE.match(base) else _FALLBACK_BASE


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _column_name(raw: str) -> str:
    key = re.sub(r"[\s\-]+", "_", raw.strip().casefold())
    return COLUMN_ALIASES.get(key, key)


def _read_header(
    record: list[str], row: int
) -> tuple[list[str | None], dict[str, str], list[Problem]]:
    """The canonical name of each cell (None for blank ones), how the file wrote each one."""
    problems: list[Problem] = []
    names: list[str | None] = []
    written: dict[str, str] = {}
    for raw in record:
        name = _column_name(raw) if raw.strip() else None
        if name is not None and name not in COLUMNS:
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
            name = None
        elif name is not None and name in written:
            problems.append(Problem(row, raw.strip(), _l("This column appears twice.")))
            name = None
        elif name is not None:
            written[name] = raw.strip()
        names.append(name)
    for name in REQUIRED_COLUMNS:
        if name not in written:
            problems.append(
                Problem(row, name, _l("The column “%(column)s” is missing.", column=name))
            )
    return names, written, problems


def _read_records(text: str) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    """Rows with their spreadsheet numbers (blank rows are counted, then dropped)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_import._sniff_delimiter(text))
    records: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            records.append((number, [cell.strip() for cell in record]))
    except csv.Error:
        return [], [
            Problem(
                len(records) + 1, None, _l("This row cannot be read. Check its quotation marks.")
            )
        ]
    return [(n, r) for n, r in records if any(r)], []


def parse_roster(
    text: str, *, cohort: Cohort, max_rows: int, default_language: str
) -> RosterResult:
    """Check every row of a class list against the accounts and the class's members.

    A few bulk queries, however long the file: the accounts named in the file, the class's
    members, and the user names the generated ones could clash with.
    """
    filled, problems = _read_records(text)
    if problems:
        return RosterResult(problems=problems)
    if not filled:
        return RosterResult(problems=[Problem(None, None, _l("The file is empty."))])
    (header_row, header), data = filled[0], filled[1:]
    names, written, problems = _read_header(header, header_row)
    if problems:
        return RosterResult(problems=problems)
    if not data:
        return RosterResult(
            problems=[Problem(None, None, _l("The file has a header row but no students in it."))]
        )
    if len(data) > max_rows:
        return RosterResult(
            problems=[
                Problem(
                    None,
                    None,
                    _l(
                        "The file has %(n)s students; at most %(max)s can be imported at once. "
                        "Split it into several files.",
                        n=len(data),
                        max=max_rows,
                    ),
                )
            ]
        )
    if default_language not in LANGUAGE_WORDS.values():
        default_language = csv_import.DEFAULT_LANGUAGE

    rows_cells: list[tuple[int, dict[str, str]]] = []
    for number, record in data:
        if any(cell for cell in record[len(names) :]):
            problems.append(
                Problem(number, None, _l("This row has more cells than the header row."))
            )
            continue
        cells = {name: value for name, value in zip(names, record, strict=False) if name}
        rows_cells.append((number, cells))

    explicit = {
        services.normalise_username(cells.get("username", ""))
        for _, cells in rows_cells
        if cells.get("username")
    }
    accounts = _accounts(explicit)
    roles = dict(
        db.session.execute(
            select(Membership.user_id, Membership.role).where(Membership.cohort_id == cohort.id)
        ).all()
    )
    students = {
        _name_key(name): username
        for name, username in db.session.execute(
            select(User.name, User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, Membership.role == STUDENT)
        )
    }

    checked: list[RosterRow] = []
    first_username: dict[str, int] = {}
    first_name: dict[str, int] = {}
    for number, cells in rows_cells:
        row, row_problems = _check_row(
            number,
            cells,
            written,
            accounts=accounts,
            roles=roles,
            students=students,
            default_language=default_language,
        )
        if row is not None:
            if row.username:
                seen = first_username.setdefault(row.username, number)
                if seen != number:
                    row_problems.append(
                        Problem(
                            number,
                            written["username"],
                            _l(
                                "The user name %(u)s is also on row %(row)s.",
                                u=row.username,
                                row=seen,
                            ),
                        )
                    )
            else:
                seen = first_name.setdefault(_name_key(row.name), number)
                if seen != number:
                    row_problems.append(
                        Problem(
                            number,
                            written["name"],
                            _l(
                                "%(name)s is also on row %(row)s. If they are two different "
                                "students, give one of them a user name in the username column.",
                                name=row.name,
                                row=seen,
                            ),
                        )
                    )
        problems.extend(row_problems)
        if row is not None and not row_problems:
            checked.append(row)

    if problems:
        order = {written.get(name, name): i for i, name in enumerate(COLUMNS)}
        problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", -1)))
        return RosterResult(problems=problems)
    return RosterResult(rows=_with_generated_usernames(checked, reserved=set(first_username)))


def _accounts(usernames: set[str]) -> dict[str, User]:
    """The accounts with these user names, in chunks of bound parameters."""
    names = sorted(usernames)
    found: dict[str, User] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        for user in db.session.scalars(select(User).where(User.username.in_(chunk))):
            found[user.username] = user
    return found


def _check_row(
    number: int,
    cells: dict[str, str],
    written: dict[str, str],
    *,
    accounts: dict[str, User],
    roles: dict[int, str],
    students: dict[str, str],
    default_language: str,
) -> tuple[RosterRow | None, list[Problem]]:
    """One row's problems, and the row (None when it cannot be used at all)."""
    problems: list[Problem] = []

    def problem(column: str, message: Any) -> None:
        problems.append(Problem(number, written.get(column, column), message))

    name = " ".join(cells.get("name", "").split())
    username = services.normalise_username(cells.get("username", ""))
    sex_raw = cells.get("sex", "")
    sex = SEX_WORDS.get(sex_raw.casefold()) if sex_raw else None
    if sex_raw and sex is None:
        problem(
            "sex",
            _l("Write female or male (ж or м, аял or эркек), not “%(value)s”.", value=sex_raw),
        )
    language_raw = cells.get("language", "")
    language = LANGUAGE_WORDS.get(language_raw.casefold()) if language_raw else default_language
    if language is None:
        problem("language", _l("Write en, ru or ky, not “%(value)s”.", value=language_raw))
    phone = cells.get("phone") or None
    for message in services.contact_problems(email=None, phone=phone).get("phone", []):
        problem("phone", message)

    existing = accounts.get(username) if username else None
    if existing is not None:
        # Someone with an account: only check that the row really means this person.
        if name and _name_key(name) != _name_key(existing.name):
            problem(
                "name",
                _l(
                    "The user name %(u)s belongs to %(name)s. Correct the name, or leave the "
                    "user name empty to create a new account.",
                    u=username,
                    name=existing.name,
                ),
            )
        if sex is not None and sex != existing.sex:
            problem("sex", _l("This does not match the account %(u)s.", u=username))
        if not existing.active:
            problem("username", _l("This person's account is disabled."))
        role = roles.get(existing.id)
        if role is not None and role != STUDENT:
            problem(
                "username",
                _l(
                    "%(name)s is already in this class as %(role)s.",
                    name=existing.name,
                    role=MEMBER_ROLES.get(role, role),
                ),
            )
        row = RosterRow(
            row=number,
            name=existing.name,
            username=username,
            user_id=existing.id,
            already_member=role == STUDENT,
        )
        return row, problems

    # A new account: the same checks (and messages) as the admin form.
    errors = services.validate_user_fields(
        username=username or "aa", name=name, sex="female", preferred_language="en"
    )
    for key, messages in errors.items():
        for message in messages:
            problem(key, message)
    if not sex_raw:
        problem("sex", _l("Write female or male (ж or м, аял or эркек)."))
    if not username and name and _name_key(name) in students:
        problem(
            "name",
            _l(
                "A student called %(name)s is already in this class (user name %(u)s). "
                "Write %(u)s in the username column, or remove the row.",
                name=name,
                u=students[_name_key(name)],
            ),
        )
    if not name:
        return None, problems
    row = RosterRow(
        row=number,
        name=name,
        username=username,
        sex=sex,
        language=language or default_language,
        phone=phone,
    )
    return row, problems


def _with_generated_usernames(rows: list[RosterRow], *, reserved: set[str]) -> list[RosterRow]:
    """Give rows without a user name one made from the name, unique among the accounts and
    the file: ``aigerim.toktosunova``, then ``aigerim.toktosunova2``, …"""
    wanting = [i for i, row in enumerate(rows) if not row.username]
    bases = {i: username_base(rows[i].name) for i in wanting}
    used = set(reserved)
    chosen: dict[int, str] = {}
    low, high = 1, 10
    while wanting:
        candidates = {
            i: [bases[i] if n == 1 else f"{bases[i]}{n}" for n in range(low, high)] for i in wanting
        }
        taken = csv_import.taken_usernames({c for names in candidates.values() for c in names})
        still: list[int] = []
        for i in wanting:
            free = next((c for c in candidates[i] if c not in taken and c not in used), None)
            if free is None:
                still.append(i)
            else:
                chosen[i] = free
                used.add(free)
        wanting, low, high = still, high, high * 10
    return [replace(row, username=chosen[i]) if i in chosen else row for i, row in enumerate(rows)]


def _hash_all(passwords: Sequence[str]) -> list[str]:
    """Hash in parallel threads: argon2 releases the GIL and is slow on purpose."""
    if len(passwords) <= 1:
        return [hash_generated_password(p) for p in passwords]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(hash_generated_password, passwords))


def import_roster(
    cohort: Cohort, rows: Sequence[RosterRow], *, actor_id: int | None
) -> list[RosterEntry]:
    """Create the new accounts and put everyone in the class as a student (not committed).

    Audited like the admin pages. Raises ``Conflict`` when a user name was taken or a member
    added while the file was being checked; the caller rolls back, so nothing is
    half-imported. Generated passwords are returned once and only their hashes are stored.
    """
    ensure_class(cohort)
    new_rows = [row for row in rows if row.user_id is None]
    passwords = [services.generate_password() for _ in new_rows]
    hashes = _hash_all(passwords)
    users = [
        User(
            username=row.username,
            name=row.name,
            sex=row.sex,
            preferred_language=row.language,
            phone=row.phone,
            password_hash=password_hash,
        )
        for row, password_hash in zip(new_rows, hashes, strict=True)
    ]
    db.session.add_all(users)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l(
                "A user name was taken while the file was being imported. "
                "Nothing was imported; upload the file again."
            )
        ) from None
    for user in users:
        audit.record(
            "user.create",
            "user",
            user.id,
            actor_id=actor_id,
            details={"username": user.username, "source": "roster", "cohort_id": cohort.id},
        )

    created = {
        row.row: (user, pw) for row, user, pw in zip(new_rows, users, passwords, strict=True)
    }
    joining = [
        (row, row.user_id or created[row.row][0].id) for row in rows if not row.already_member
    ]
    memberships = [Membership(cohort_id=cohort.id, user_id=uid, role=STUDENT) for _, uid in joining]
    db.session.add_all(memberships)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l(
                "Someone changed the members of this class while the file was being imported. "
                "Nothing was imported; upload the file again."
            )
        ) from None
    for row, user_id in joining:
        audit.record(
            "membership.add",
            "cohort",
            cohort.id,
            actor_id=actor_id,
            details={
                "user_id": user_id,
                "username": row.username,
                "role": STUDENT,
                "source": "roster",
            },
        )
    audit.record(
        "cohort.roster_import",
        "cohort",
        cohort.id,
        actor_id=actor_id,
        details={"rows": len(rows), "created": len(users), "added": len(joining)},
    )
    forget_grants()

    entries = []
    for row in rows:
        if row.row in created:
            user, password = created[row.row]
            entries.append(RosterEntry(row.row, user.name, user.username, CREATED, password))
        else:
            status = ALREADY if row.already_member else ADDED
            entries.append(RosterEntry(row.row, row.name, row.username, status))
    return entries
