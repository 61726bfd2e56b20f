"""JSON Canonicalization Scheme (RFC 8785), the byte form that ``eddsa-jcs-2022`` hashes.

Signing must not depend on key order or whitespace, so both signer and verifier hash the
JCS form. The work is done by the ``rfc8785`` package; this module only narrows its errors
(and Python's own, for values JSON cannot represent) to :class:`CredentialError`.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from .errors import CredentialError


def canonicalize(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``obj``.

    Raises :class:`CredentialError` for anything JCS cannot express: integers beyond
    ±2**53, NaN or infinities, non-string keys, lone surrogates, other Python types, or
    nesting too deep to walk.
    """
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise CredentialError(f"value cannot be canonicalised as JSON (RFC 8785): {exc}") from exc
