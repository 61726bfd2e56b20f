"""Compact JWS (RFC 7515) with ``alg: EdDSA`` (RFC 8037): the certificate in a QR code.

The full Open Badges credential is too large for a QR code, so each printed certificate
also carries a compact token with the few facts a reader needs to check it offline::

    BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)

- ``header``  is exactly ``{"alg":"EdDSA","kid":<kid>}`` – no spaces, in that order.
  ``kid`` is the issuer's key id (the same URL as the credential's ``verificationMethod``).
- ``payload`` is compact JSON (no spaces, keys sorted, UTF-8, non-ASCII left unescaped so
  Cyrillic names stay short) with these short keys:

  ======  =======================================================  ==============
  key     meaning                                                   JSON type
  ======  =======================================================  ==============
  ``v``   payload version, always ``1``                             number
  ``id``  verification id (the last part of the public URL)        string
  ``n``   recipient's name as printed on the certificate           string
  ``a``   achievement (course / cohort title) as printed           string
  ``d``   issue date, ``YYYY-MM-DD``                               string
  ``s``   certificate serial number as printed                     string
  ``iss`` issuer URL                                               string
  ``sl``  URL of the Bitstring Status List credential              string
  ``si``  index of this certificate in that status list            number
  ======  =======================================================  ==============

- ``signature`` is the 64-byte Ed25519 signature over the ASCII bytes
  ``BASE64URL(header) "." BASE64URL(payload)``.
- BASE64URL is RFC 4648 §5 without padding. Decoders here are strict: no padding, no
  characters outside ``A-Z a-z 0-9 - _``, and no non-canonical final character (unused low
  bits must be zero), so each token has exactly one spelling.

A browser verifier does the same with WebCrypto: split on ``.``, decode the header, require
``alg == "EdDSA"``, fetch the key for ``kid`` (raw 32 bytes, or JWK ``{"kty":"OKP",
"crv":"Ed25519","x":…}``), ``crypto.subtle.verify("Ed25519", key, signature,
ascii(header + "." + payload))``, then decode the payload and check the status list bit
``si`` of ``sl`` (see :mod:`.statuslist`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import CredentialError

ALG = "EdDSA"
CLAIMS_VERSION = 1
SIGNATURE_LENGTH = 64
#: Far above any real token (a QR code holds under 3 KB); refuses absurd input early.
MAX_TOKEN_LENGTH = 8192

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_CLAIM_TYPES: dict[str, type] = {
    "v": int,
    "id": str,
    "n": str,
    "a": str,
    "d": str,
    "s": str,
    "iss": str,
    "sl": str,
    "si": int,
}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: Maps a ``kid`` to the issuer's public key, or ``None`` if unknown.
KeyResolver = Callable[[str], Ed25519PublicKey | None]


# --- base64url ------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """RFC 4648 §5 base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, *, what: str = "value") -> bytes:
    """Strictly decode unpadded base64url; only the canonical spelling is accepted.

    The last character of a base64 group can carry unused bits; accepting non-zero ones
    would give one token several spellings, so the decoded bytes must re-encode to ``text``.
    """
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None:
        raise CredentialError(f"{what} is not base64url text")
    if len(text) % 4 == 1:
        raise CredentialError(f"{what} has an impossible base64url length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - excluded by the checks
        raise CredentialError(f"{what} is not valid base64url") from exc
    if b64url_encode(data) != text:
        raise CredentialError(f"{what} is not canonical base64url")
    return data


# --- JSON -----------------------------------------------------------------------------------


def _compact_json(value: Any, *, sort_keys: bool) -> bytes:
    try:
        text = json.dumps(
            value, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise CredentialError(f"value cannot be written as JSON: {exc}") from exc
    return text.encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CredentialError(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise CredentialError(f"{name} is not JSON")


def _json_object(data: bytes, *, what: str) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object, refusing duplicate keys and NaN."""
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CredentialError(f"the token {what} is not valid JSON") from exc
    except CredentialError as exc:  # from the hooks: duplicate member, NaN, Infinity
        raise CredentialError(f"the token {what} is not acceptable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CredentialError(f"the token {what} must be a JSON object")
    return value


# --- signing and verifying ------------------------------------------------------------------


def sign_compact(payload: Mapping[str, Any], private_key: Ed25519PrivateKey, *, kid: str) -> str:
    """Sign ``payload`` as a compact JWS with the header ``{"alg":"EdDSA","kid":kid}``."""
    if not isinstance(kid, str) or not kid:
        raise CredentialError("kid must be a non-empty string")
    if not isinstance(payload, Mapping):
        raise CredentialError("the payload must be a JSON object")
    header = b64url_encode(_compact_json({"alg": ALG, "kid": kid}, sort_keys=False))
    body = b64url_encode(_compact_json(dict(payload), sort_keys=True))
    signing_input = f"{header}.{body}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _split(token: object) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise CredentialError("the token must be a string")
    if len(token) > MAX_TOKEN_LENGTH:
        raise CredentialError("the token is too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise CredentialError("the token must have three non-empty parts separated by '.'")
    return parts[0], parts[1], parts[2]


def _key_for(header: Mapping[str, Any], resolve_key: KeyResolver) -> Ed25519PublicKey:
    if header.get("alg") != ALG:
        raise CredentialError(f"the token algorithm must be {ALG}")
    if "crit" in header:
        raise CredentialError("the token has critical header parameters this verifier lacks")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise CredentialError("the token header has no kid")
    key = resolve_key(kid)
    if key is None:
        raise CredentialError(f"unknown key {kid}")
    if not isinstance(key, Ed25519PublicKey):
        raise CredentialError(f"{kid} is not an Ed25519 key")
    return key


def verify_compact(token: str, resolve_key: KeyResolver) -> dict[str, Any]:
    """Check a compact JWS and return its payload; raise :class:`CredentialError` otherwise.

    The signature is checked before the payload is parsed, so nothing unauthenticated is
    ever interpreted beyond the header.
    """
    header_part, payload_part, signature_part = _split(token)
    header = _json_object(b64url_decode(header_part, what="token header"), what="header")
    key = _key_for(header, resolve_key)
    signature = b64url_decode(signature_part, what="token signature")
    if len(signature) != SIGNATURE_LENGTH:
        raise CredentialError("the token signature is not 64 bytes")
    payload_bytes = b64url_decode(payload_part, what="token payload")
    try:
        key.verify(signature, f"{header_part}.{payload_part}".encode("ascii"))
    except InvalidSignature as exc:
        raise CredentialError("the token signature does not match") from exc
    return _json_object(payload_bytes, what="payload")


# --- the certificate payload ----------------------------------------------------------------


def certificate_claims(
    *,
    verification_id: str,
    name: str,
    achievement: str,
    issued_on: date,
    serial: str,
    issuer_url: str,
    status_list_url: str,
    status_index: int,
) -> dict[str, Any]:
    """The short-key payload of a certificate token (see the module docstring)."""
    if isinstance(issued_on, datetime):
        issued_on = issued_on.date()
    if not isinstance(issued_on, date):
        raise CredentialError("issued_on must be a date")
    claims: dict[str, Any] = {
        "v": CLAIMS_VERSION,
        "id": verification_id,
        "n": name,
        "a": achievement,
        "d": issued_on.isoformat(),
        "s": serial,
        "iss": issuer_url,
        "sl": status_list_url,
        "si": status_index,
    }
    return check_certificate_claims(claims)


def check_certificate_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``payload`` as a dict if it has the version-1 certificate shape, else raise.

    Used after :func:`verify_compact`: a valid signature over an unexpected shape (another
    version, a token made for something else) must still be refused.
    """
    if not isinstance(payload, Mapping):
        raise CredentialError("certificate claims must be a JSON object")
    if set(payload) != set(_CLAIM_TYPES):
        raise CredentialError("certificate claims have missing or unexpected keys")
    for key, expected in _CLAIM_TYPES.items():
        value = payload[key]
        if type(value) is not expected:
            raise CredentialError(f"certificate claim {key!r} must be a {expected.__name__}")
    if payload["v"] != CLAIMS_VERSION:
        raise CredentialError(f"unsupported certificate claims version {payload['v']}")
    if payload["si"] < 0:
        raise CredentialError("certificate claim 'si' must not be negative")
    if _ISO_DATE.fullmatch(payload["d"]) is None:
        raise CredentialError("certificate claim 'd' must be YYYY-MM-DD")
    try:
        date.fromisoformat(payload["d"])
    except ValueError as exc:
        raise CredentialError("certificate claim 'd' is not a real date") from exc
    return dict(payload)
