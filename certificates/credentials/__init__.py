"""Signed credentials for certificates: pure Python, no Flask, no database.

Each certificate is published in two signed forms, both with the issuer's Ed25519 key:

- an Open Badges 3.0 credential (:mod:`.openbadges`) with an embedded W3C Data Integrity
  proof, cryptosuite ``eddsa-jcs-2022`` (:mod:`.dataintegrity`), for wallets and
  standards-based verifiers;
- a compact JWS (:mod:`.jws`) small enough for the QR code on the paper certificate.

Revocation is a W3C Bitstring Status List (:mod:`.statuslist`); keys use the Multikey text
form and are stored encrypted (:mod:`.keys`). Every failure is a :class:`CredentialError`.
"""

from __future__ import annotations

from .contexts import CONTEXT_FILES, document_loader, load_context
from .dataintegrity import (
    VerificationResult,
    format_timestamp,
    hash_data,
    proof_configuration,
    sign,
    transform,
    verify,
)
from .errors import CredentialError
from .jcs import canonicalize
from .jws import certificate_claims, check_certificate_claims, sign_compact, verify_compact
from .keys import (
    decrypt_seed,
    encrypt_seed,
    generate_private_key,
    load_private_multikey,
    load_public_multikey,
    private_key_from_seed,
    private_multikey,
    public_key_bytes,
    public_multikey,
    seed_bytes,
)
from .openbadges import build_credential, issuer_profile
from .statuslist import StatusBits, status_entry, status_list_credential, status_of

__all__ = [
    "CONTEXT_FILES",
    "CredentialError",
    "StatusBits",
    "VerificationResult",
    "build_credential",
    "canonicalize",
    "certificate_claims",
    "check_certificate_claims",
    "decrypt_seed",
    "document_loader",
    "encrypt_seed",
    "format_timestamp",
    "generate_private_key",
    "hash_data",
    "issuer_profile",
    "load_context",
    "load_private_multikey",
    "load_public_multikey",
    "private_key_from_seed",
    "private_multikey",
    "proof_configuration",
    "public_key_bytes",
    "public_multikey",
    "seed_bytes",
    "sign",
    "sign_compact",
    "status_entry",
    "status_list_credential",
    "status_of",
    "transform",
    "verify",
    "verify_compact",
]
