"""Ed25519 signing keys: generation, the W3C Multikey text form, and encryption at rest.

Multikey (Controlled Identifiers v1.0, §2.2.2) is how Data Integrity proofs name keys:

- ``publicKeyMultibase``  = ``"z"`` + base58btc(``0xed 0x01`` + 32-byte public key)
- ``privateKeyMultibase`` = ``"z"`` + base58btc(``0x80 0x26`` + 32-byte seed)

The two-byte headers are the multicodec varints for ``ed25519-pub`` and ``ed25519-priv``;
the leading ``z`` is the multibase code for base58btc. The decoders here are strict (exact
alphabet, exact header, exact length) because a key that "almost" parses is a bug or an
attack, never something to repair.

The issuer's private seed is stored in the database encrypted with AES-256-GCM under a key
derived from the application's secret key (HKDF-SHA256), so a database dump alone does not
let anyone sign certificates.
"""

from __future__ import annotations

import os

import base58
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import CredentialError

#: Multicodec varint for an Ed25519 public key (0xed).
ED25519_PUB_HEADER = b"\xed\x01"
#: Multicodec varint for an Ed25519 private key (0x1300).
ED25519_PRIV_HEADER = b"\x80\x26"
#: Raw Ed25519 public keys and private seeds are both 32 bytes.
KEY_LENGTH = 32

_BASE58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

#: First byte of an encrypted seed; a new scheme gets a new number so old blobs stay readable.
SEED_BLOB_VERSION = 1
_NONCE_LENGTH = 12
_GCM_TAG_LENGTH = 16
#: HKDF "info": binds the derived key to this one purpose, so the same app secret can feed
#: other derivations without their keys ever coinciding.
_SEED_KDF_INFO = b"madrasa-lms/certificates/credential-signing-seed/aes-256-gcm/v1"


# --- multibase base58btc -------------------------------------------------------------------


def multibase_encode(data: bytes) -> str:
    """Return ``"z"`` + base58btc(``data``), the multibase form used by keys and proofs."""
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(text: object, *, what: str = "value") -> bytes:
    """Decode a ``"z"``-prefixed base58btc string strictly.

    ``what`` names the value in error messages ("proofValue", "public key" …). Unlike the
    ``base58`` package this refuses surrounding whitespace, and anything outside the Bitcoin
    alphabet, instead of stripping or guessing.
    """
    if not isinstance(text, str):
        raise CredentialError(f"{what} must be a string")
    if not text.startswith("z"):
        raise CredentialError(f"{what} must be multibase base58btc (start with 'z')")
    body = text[1:]
    if not body:
        raise CredentialError(f"{what} is empty")
    bad = sorted(set(body) - _BASE58_ALPHABET)
    if bad:
        raise CredentialError(f"{what} contains characters outside base58btc: {''.join(bad)!r}")
    return base58.b58decode(body)


# --- Ed25519 keys ---------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    """Create a fresh random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def seed_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte seed that fully determines ``private_key`` (what gets stored)."""
    return private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Rebuild the private key from its 32-byte seed."""
    if not isinstance(seed, bytes | bytearray) or len(seed) != KEY_LENGTH:
        raise CredentialError(f"an Ed25519 seed must be exactly {KEY_LENGTH} bytes")
    return Ed25519PrivateKey.from_private_bytes(bytes(seed))


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the raw 32-byte public key (what JWK ``x`` and Multikey carry)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_multikey(public_key: Ed25519PublicKey) -> str:
    """Return the ``publicKeyMultibase`` text of ``public_key``."""
    return multibase_encode(ED25519_PUB_HEADER + public_key_bytes(public_key))


def private_multikey(private_key: Ed25519PrivateKey) -> str:
    """Return the ``privateKeyMultibase`` text of ``private_key`` (a secret: never publish)."""
    return multibase_encode(ED25519_PRIV_HEADER + seed_bytes(private_key))


def _multikey_payload(text: object, header: bytes, what: str) -> bytes:
    raw = multibase_decode(text, what=what)
    if raw[:2] != header:
        raise CredentialError(f"{what} is not an Ed25519 Multikey (expected header {header.hex()})")
    if len(raw) != len(header) + KEY_LENGTH:
        raise CredentialError(f"{what} must hold exactly {KEY_LENGTH} key bytes")
    return raw[len(header) :]


def load_public_multikey(text: object) -> Ed25519PublicKey:
    """Parse a ``publicKeyMultibase`` string into a public key."""
    raw = _multikey_payload(text, ED25519_PUB_HEADER, "publicKeyMultibase")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - OpenSSL accepts any 32 bytes today
        raise CredentialError(f"publicKeyMultibase is not a valid Ed25519 key: {exc}") from exc


def load_private_multikey(text: object) -> Ed25519PrivateKey:
    """Parse a ``privateKeyMultibase`` string into a private key."""
    seed = _multikey_payload(text, ED25519_PRIV_HEADER, "privateKeyMultibase")
    return private_key_from_seed(seed)


# --- encryption at rest ---------------------------------------------------------------------


def _seed_cipher(secret: str) -> AESGCM:
    """Derive the AES-256 key for seeds from the app secret (HKDF-SHA256, fixed info).

    HKDF is not a password hash: this relies on the app's secret key being long and random,
    as Flask's ``SECRET_KEY`` must be anyway.
    """
    if not isinstance(secret, str) or not secret:
        raise CredentialError("the secret used to protect signing keys must be a non-empty string")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEED_KDF_INFO).derive(
        secret.encode("utf-8")
    )
    return AESGCM(key)


def encrypt_seed(seed: bytes, secret: str) -> bytes:
    """Encrypt a private seed for storage: ``version || nonce(12) || ciphertext+tag``.

    The version byte is also authenticated (as associated data), so it cannot be swapped.
    """
    if not isinstance(seed, bytes | bytearray) or len(seed) != KEY_LENGTH:
        raise CredentialError(f"an Ed25519 seed must be exactly {KEY_LENGTH} bytes")
    header = bytes([SEED_BLOB_VERSION])
    nonce = os.urandom(_NONCE_LENGTH)
    return header + nonce + _seed_cipher(secret).encrypt(nonce, bytes(seed), header)


def decrypt_seed(blob: bytes, secret: str) -> bytes:
    """Decrypt what :func:`encrypt_seed` stored; a wrong secret or any damage is refused."""
    if not isinstance(blob, bytes | bytearray):
        raise CredentialError("an encrypted seed must be bytes")
    blob = bytes(blob)
    if len(blob) != 1 + _NONCE_LENGTH + KEY_LENGTH + _GCM_TAG_LENGTH:
        raise CredentialError("encrypted seed has the wrong length")
    if blob[0] != SEED_BLOB_VERSION:
        raise CredentialError(f"unknown encrypted seed version {blob[0]}")
    nonce = blob[1 : 1 + _NONCE_LENGTH]
    try:
        return _seed_cipher(secret).decrypt(nonce, blob[1 + _NONCE_LENGTH :], blob[:1])
    except InvalidTag as exc:
        raise CredentialError(
            "cannot decrypt the signing key: wrong secret key, or the stored key is damaged"
        ) from exc
