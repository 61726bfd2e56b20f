"""Data Integrity proofs with the W3C ``eddsa-jcs-2022`` cryptosuite.

This is the embedded proof of the Open Badges credential and of the status list credential
(Data Integrity EdDSA Cryptosuites v1.0, §3.3). It was chosen over ``eddsa-rdfc-2022``
because JCS (RFC 8785) needs no JSON-LD processing at run time: no context loading, no
network, a few microseconds per credential, and verifiers in any language can redo it.

The algorithm, step by step (each step is a function here so the tests can compare it with
the W3C vector files):

1. :func:`transform` – the unsecured document (no ``proof``) in JCS form;
2. :func:`proof_configuration` – the proof options plus the document's ``@context``, in
   JCS form;
3. :func:`hash_data` – SHA-256(proof configuration) ‖ SHA-256(document), 64 bytes;
4. Ed25519 over those 64 bytes; ``proofValue`` = ``"z"`` + base58btc(signature).

Verification is deliberately strict where the spec leaves room: exactly one proof (an
object, or a one-element list as the Open Badges schema requires), and the proof's
``@context`` must equal the document's (the spec only asks for a prefix). Every failure is a
:class:`VerificationResult` with ``ok=False`` and a reason, never an exception.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import CredentialError
from .jcs import canonicalize
from .keys import multibase_decode, multibase_encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
SIGNATURE_LENGTH = 64

#: A resolver maps a ``verificationMethod`` URL to the public key it names, or ``None``.
KeyResolver = Callable[[str], Ed25519PublicKey | None]

# XML Schema dateTimeStamp: a date-time that must carry its time zone.
_DATETIME_STAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"  # date and time
    r"(\.[0-9]+)?"  # optional fraction of a second
    r"(Z|[+-][0-9]{2}:[0-9]{2})"  # the time zone, required
)


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of :func:`verify`; ``reason`` says why in plain English."""

    ok: bool
    reason: str
    verification_method: str | None = None
    created: str | None = None


def format_timestamp(moment: datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds).

    This is the form the VC and Data Integrity examples use; a naive datetime is refused
    because guessing its zone would shift dates on certificates.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CredentialError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_timestamp(value: object, *, what: str = "created") -> str:
    """Return ``value`` if it is an XML Schema ``dateTimeStamp``, else raise."""
    if not isinstance(value, str):
        raise CredentialError(f"{what} must be a string")
    match = _DATETIME_STAMP.fullmatch(value)
    if match is None:
        raise CredentialError(f"{what} is not a date-time with a time zone: {value!r}")
    try:
        datetime.fromisoformat(match.group(1) + match.group(3).replace("Z", "+00:00"))
    except ValueError as exc:
        raise CredentialError(f"{what} is not a valid date-time: {value!r}") from exc
    return value


def proof_options(*, verification_method: str, created: str, proof_purpose: str) -> dict[str, Any]:
    """The proof options of a new proof, in the key order of the W3C examples."""
    if not isinstance(verification_method, str) or not verification_method:
        raise CredentialError("verification_method must be a non-empty string")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise CredentialError("proof_purpose must be a non-empty string")
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": check_timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }


def transform(document: Mapping[str, Any]) -> bytes:
    """§3.3.4 Transformation: the unsecured document in JCS form."""
    if not isinstance(document, Mapping):
        raise CredentialError("a credential must be a JSON object")
    if "proof" in document:
        raise CredentialError("transform() takes the document without its proof")
    return canonicalize(dict(document))


def proof_configuration(document: Mapping[str, Any], options: Mapping[str, Any]) -> bytes:
    """§3.3.5 Proof Configuration: the options plus the document's ``@context``, in JCS form.

    Copying the ``@context`` into the signed configuration binds the proof to the vocabulary
    the document was written in.
    """
    if not isinstance(document, Mapping) or not isinstance(options, Mapping):
        raise CredentialError("document and proof options must be JSON objects")
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialError(f"proof must be a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if "proofValue" in options:
        raise CredentialError("proof options must not contain proofValue")
    if "created" in options:
        check_timestamp(options["created"])
    config = dict(options)
    if "@context" in document:
        config["@context"] = document["@context"]
    return canonicalize(config)


def hash_data(transformed_document: bytes, canonical_proof_config: bytes) -> bytes:
    """§3.3.3 Hashing: SHA-256(proof configuration) followed by SHA-256(document)."""
    return (
        hashlib.sha256(canonical_proof_config).digest()
        + hashlib.sha256(transformed_document).digest()
    )


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
    proof_as_list: bool = False,
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-jcs-2022`` proof added (§3.3.1).

    ``proof_as_list`` puts the proof in a one-element array, which the Open Badges 3.0 JSON
    schema requires; the signature is the same either way. A document that already has a
    proof is refused: this layer issues and checks exactly one proof.
    """
    if not isinstance(document, Mapping):
        raise CredentialError("a credential must be a JSON object")
    if "proof" in document:
        raise CredentialError("the document already has a proof")
    options = proof_options(
        verification_method=verification_method, created=created, proof_purpose=proof_purpose
    )
    data = hash_data(transform(document), proof_configuration(document, options))
    proof = dict(options)
    if "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])
    proof["proofValue"] = multibase_encode(private_key.sign(data))
    secured = copy.deepcopy(dict(document))
    secured["proof"] = [proof] if proof_as_list else proof
    return secured


def _single_proof(secured: Mapping[str, Any]) -> dict[str, Any]:
    """The one proof of ``secured``, given as an object or as a one-element list."""
    if "proof" not in secured:
        raise CredentialError("the credential has no proof")
    proof = secured["proof"]
    if isinstance(proof, list):
        if len(proof) != 1:
            raise CredentialError("exactly one proof is supported")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise CredentialError("proof must be a JSON object")
    return proof


def _check_proof_fields(proof: Mapping[str, Any], expected_purpose: str) -> bytes:
    """Check type, suite and purpose; return the decoded signature."""
    if proof.get("type") != PROOF_TYPE:
        raise CredentialError(f"proof type must be {PROOF_TYPE}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialError(f"proof cryptosuite must be {CRYPTOSUITE}")
    if proof.get("proofPurpose") != expected_purpose:
        raise CredentialError(f"proof purpose must be {expected_purpose}")
    if "proofValue" not in proof:
        raise CredentialError("proof has no proofValue")
    signature = multibase_decode(proof["proofValue"], what="proofValue")
    if len(signature) != SIGNATURE_LENGTH:
        raise CredentialError("proofValue is not a 64-byte Ed25519 signature")
    return signature


def _check_contexts(document: Mapping[str, Any], proof: Mapping[str, Any]) -> None:
    """The proof must have been made over the same ``@context`` as the document."""
    missing = object()
    doc_context = document.get("@context", missing)
    proof_context = proof.get("@context", missing)
    if (doc_context is missing) != (proof_context is missing):
        raise CredentialError("the proof's @context differs from the document's")
    if doc_context is not missing and canonicalize(doc_context) != canonicalize(proof_context):
        raise CredentialError("the proof's @context differs from the document's")


def _resolve(resolve_key: KeyResolver, verification_method: str) -> Ed25519PublicKey:
    try:
        key = resolve_key(verification_method)
    except CredentialError as exc:
        raise CredentialError(f"cannot resolve {verification_method}: {exc}") from exc
    if key is None:
        raise CredentialError(f"unknown verification method {verification_method}")
    if not isinstance(key, Ed25519PublicKey):
        raise CredentialError(f"{verification_method} is not an Ed25519 key")
    return key


def _verify_or_raise(
    secured: Mapping[str, Any], resolve_key: KeyResolver, expected_purpose: str
) -> tuple[str, str | None]:
    """Run §3.3.2; return (verificationMethod, created) or raise CredentialError."""
    if not isinstance(secured, Mapping):
        raise CredentialError("a credential must be a JSON object")
    proof = _single_proof(secured)
    signature = _check_proof_fields(proof, expected_purpose)
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise CredentialError("proof has no verificationMethod")
    created = check_timestamp(proof["created"]) if "created" in proof else None
    _check_contexts(secured, proof)
    unsecured = {key: value for key, value in secured.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    data = hash_data(transform(unsecured), proof_configuration(unsecured, options))
    try:
        _resolve(resolve_key, method).verify(signature, data)
    except InvalidSignature as exc:
        raise CredentialError(
            "the signature does not match: the credential was altered or signed by another key"
        ) from exc
    return method, created


def verify(
    secured: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    expected_purpose: str = "assertionMethod",
) -> VerificationResult:
    """Check the ``eddsa-jcs-2022`` proof of ``secured`` (§3.3.2); never raises for bad input.

    ``resolve_key`` returns the public key for a ``verificationMethod`` URL, or ``None`` when
    the issuer does not know it (it may also raise :class:`CredentialError`).
    """
    try:
        method, created = _verify_or_raise(secured, resolve_key, expected_purpose)
    except CredentialError as exc:
        return VerificationResult(ok=False, reason=str(exc), **_proof_hints(secured))
    return VerificationResult(
        ok=True, reason="verified", verification_method=method, created=created
    )


def _proof_hints(secured: object) -> dict[str, str | None]:
    """Best-effort method and date of a failed proof, for messages; never raises."""
    none: dict[str, str | None] = {"verification_method": None, "created": None}
    if not isinstance(secured, Mapping):
        return none
    try:
        proof = _single_proof(secured)
    except CredentialError:
        return none
    method, created = proof.get("verificationMethod"), proof.get("created")
    return {
        "verification_method": method if isinstance(method, str) else None,
        "created": created if isinstance(created, str) else None,
    }
