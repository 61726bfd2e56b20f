"""The issuer's signing keys: one active Ed25519 key, retired keys kept and published.

The private seed is stored encrypted under a key derived from the app's secret key, so a
copy of the database alone cannot sign certificates. Rotation retires the active key and
makes a new one; certificates signed with a retired key still verify, because every public
key ever used stays in the issuer profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from certificates.credentials import (
    CredentialError,
    decrypt_seed,
    encrypt_seed,
    generate_private_key,
    load_public_multikey,
    private_key_from_seed,
    public_multikey,
    seed_bytes,
)
from certificates.models import SigningKey
from lms.audit import services as audit
from lms.errors import Conflict
from lms.extensions import db
from lms.timeutil import utcnow


@dataclass(frozen=True)
class ActiveKey:
    key_id: str
    private_key: Ed25519PrivateKey


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _new_key_id() -> str:
    count = db.session.scalar(select(func.count(SigningKey.id))) or 0
    return f"key-{count + 1}"


def create_key(*, actor_id: int | None) -> SigningKey:
    """Retire the active key (if any) and make a new one, in the caller's transaction."""
    private_key = generate_private_key()
    db.session.execute(
        update(SigningKey)
        .where(SigningKey.active.is_(True))
        .values(active=False, retired_at=utcnow())
    )
    key = SigningKey(
        key_id=_new_key_id(),
        public_multikey=public_multikey(private_key.public_key()),
        private_seed=encrypt_seed(seed_bytes(private_key), _secret()),
        active=True,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        "certificates.key_created",
        "signing_key",
        key.key_id,
        actor_id=actor_id,
        details={"public_key": key.public_multikey},
    )
    return key


def active_key(*, actor_id: int | None = None) -> ActiveKey:
    """The key that signs new certificates; the first issuance makes one.

    Two first issuances at once: the partial unique index lets one key be active; the
    transaction that lost waits for the winner to commit, then uses the winner's key.
    """
    key = db.session.scalar(select(SigningKey).where(SigningKey.active.is_(True)))
    if key is None:
        try:
            with db.session.begin_nested():
                key = create_key(actor_id=actor_id)
        except IntegrityError:
            key = db.session.scalar(select(SigningKey).where(SigningKey.active.is_(True)))
            if key is None:
                raise Conflict() from None
    try:
        seed = decrypt_seed(key.private_seed, _secret())
    except CredentialError:
        raise Conflict(
            "The signing key cannot be opened with this secret key. An administrator must "
            "run `lms certificates keygen` to make a new one."
        ) from None
    return ActiveKey(key.key_id, private_key_from_seed(seed))


def published_keys() -> list[SigningKey]:
    """Every key ever used, oldest first: all of them stay in the issuer profile."""
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.id)))


def public_keys_by_id() -> dict[str, Ed25519PublicKey]:
    return {key.key_id: load_public_multikey(key.public_multikey) for key in published_keys()}


def key_usable() -> bool:
    """Whether the active key (if any) opens with this app's secret key (``lms doctor``)."""
    key = db.session.scalar(select(SigningKey).where(SigningKey.active.is_(True)))
    if key is None:
        return True
    try:
        decrypt_seed(key.private_seed, _secret())
    except CredentialError:
        return False
    return True
