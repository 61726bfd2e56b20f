"""Password hashing with argon2id (argon2-cffi's defaults, which follow RFC 9106)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

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


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hashers; the test suite uses a cheap one so thousands of log-ins stay fast."""
    global _hasher, _generated_hasher, _DUMMY_HASH
    _hasher = _generated_hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-8c1f")


def hash_generated_password(password: str) -> str:
    """Hash a random password the system made (never one a person chose)."""
    return _generated_hasher.hash(password)


MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
