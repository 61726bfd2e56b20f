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


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher; the test suite uses a cheap one so thousands of log-ins stay fast."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-8c1f")


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
