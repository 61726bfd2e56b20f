"""Passwords: argon2id hashing, NFKC normalisation, and the rules for a new password.

Hashing uses argon2id with argon2-cffi's defaults (RFC 9106). A password is normalised with
Unicode NFKC before it is hashed and before it is verified, so the same password typed on
another keyboard or phone (composed or decomposed letters, full-width digits, Arabic
presentation forms) still matches. Hashes made before normalisation was introduced keep
working: verification also tries the password exactly as typed.

A new password needs 8 to 256 characters (counted after normalisation), any letters at all
(Cyrillic and Arabic included) and no composition rules; it is refused when it is one of
the common passwords bundled in ``common_passwords.txt`` or contains the user name.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

#: argon2-cffi's defaults: argon2id, RFC 9106's low-memory profile (64 MiB, 3 passes).
DEFAULT_HASHER = PasswordHasher()
_hasher = DEFAULT_HASHER
#: A hash of a random password, verified against when the user does not exist, so a failed
#: log-in takes as long for an unknown name as for a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-8c1f")


#: For passwords the system generates (about 59 random bits, e.g. in a CSV import of
#: hundreds of people): OWASP's minimum argon2id profile (19 MiB, 2 passes), about a quarter
#: of the default cost. ``authenticate`` re-hashes with the default at the first log-in.
GENERATED_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_generated_hasher = GENERATED_HASHER

MIN_LENGTH = 8
#: Long pass phrases are welcome (ASVS asks that at least 64 characters be accepted).
MAX_LENGTH = 256
#: Lowercased common passwords of 8+ characters (SecLists, MIT licence; see the file's header).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hashers; the test suite uses a cheap one so thousands of log-ins stay fast."""
    global _hasher, _generated_hasher, _DUMMY_HASH
    _hasher = _generated_hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-8c1f")


def normalise(password: str) -> str:
    """The form a password is hashed and checked in: Unicode NFKC."""
    return unicodedata.normalize("NFKC", password or "")


def hash_generated_password(password: str) -> str:
    """Hash a random password the system made (never one a person chose)."""
    return _generated_hasher.hash(normalise(password))


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; the NFKC form first, then (older hashes) as typed."""
    candidates = [normalise(password)]
    if password != candidates[0]:
        candidates.append(password)
    for candidate in candidates:
        try:
            if _hasher.verify(password_hash or _DUMMY_HASH, candidate):
                return password_hash is not None
        except VerifyMismatchError:
            continue
        except (VerificationError, InvalidHashError):
            return False
    return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, loaded once per process (``#`` lines are comments)."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(
            word for line in lines if (word := line.strip().lower()) and not word.startswith("#")
        )


def password_problem(password: str, username: str | None = None) -> Any | None:
    """Why a chosen password is refused (a message in the user's language), or None.

    Length (after NFKC), the common-password list and the user name; no composition rules.
    """
    text = normalise(password)
    if len(text) < MIN_LENGTH:
        return _l("Use at least %(n)s characters.", n=MIN_LENGTH)
    if len(text) > MAX_LENGTH:
        return _l("Use at most %(n)s characters.", n=MAX_LENGTH)
    folded = text.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return _l(
            "This password is one of the most common ones and is easy to guess. "
            "Choose another; a phrase of a few words is easy to remember."
        )
    name = normalise(username or "").strip().casefold()
    if name and name in folded:
        return _l("The password must not contain the user name.")
    return None
