"""Compact JWS with EdDSA: the certificate token in the QR code."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.credentials import (
    CredentialError,
    certificate_claims,
    check_certificate_claims,
    generate_private_key,
    sign_compact,
    verify_compact,
)
from certificates.credentials.jws import b64url_decode, b64url_encode
from certificates.credentials.keys import private_key_from_seed, public_key_bytes
from tests.certificates.conftest import KEY_ID, LIST_URL, Resolver

CLAIMS = {
    "verification_id": "7K3M-Q9PX",
    "name": "Айгүл Асанова",
    "achievement": "Жарандык билим берүү: тренерлерди даярдоо",
    "issued_on": date(2024, 5, 17),
    "serial": "MLMS-2024-000042",
    "issuer_url": "https://lms.example.kg/",
    "status_list_url": LIST_URL,
    "status_index": 42,
}


def claims(**changes: Any) -> dict[str, Any]:
    return certificate_claims(**{**CLAIMS, **changes})


def forge(header: Any, payload: Any, key: Ed25519PrivateKey, *, raw: bool = False) -> str:
    """A token with any header and payload, correctly signed: tests parsing after the crypto."""
    encode = (lambda v: v) if raw else (lambda v: json.dumps(v, separators=(",", ":")).encode())
    signing_input = f"{b64url_encode(encode(header))}.{b64url_encode(encode(payload))}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


# --- the format ---------------------------------------------------------------------------


def test_rfc_8037_appendix_a4_example() -> None:
    """Our base64url and Ed25519 reproduce the RFC's own JWS byte for byte."""
    key = private_key_from_seed(b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
    assert b64url_encode(public_key_bytes(key.public_key())) == (
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    )
    expected = (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert (
        b64url_encode(b'{"alg":"EdDSA"}') + "." + b64url_encode(b"Example of Ed25519 signing")
        == signing_input.decode()
    )
    assert f"{signing_input.decode()}.{b64url_encode(key.sign(signing_input))}" == expected
    with pytest.raises(CredentialError, match="kid"):  # our tokens always name their key
        verify_compact(expected, lambda kid: key.public_key())


def test_round_trip(issuer_key: Ed25519PrivateKey, resolver: Resolver) -> None:
    token = sign_compact(claims(), issuer_key, kid=KEY_ID)
    assert verify_compact(token, resolver) == claims()


def test_header_and_payload_are_compact_and_exact(issuer_key: Ed25519PrivateKey) -> None:
    token = sign_compact(claims(), issuer_key, kid=KEY_ID)
    header, payload, signature = token.split(".")
    assert b64url_decode(header) == b'{"alg":"EdDSA","kid":"https://lms.example.kg/issuer#key-1"}'
    body = b64url_decode(payload).decode("utf-8")
    assert body.startswith('{"a":"Жарандык')  # sorted keys, UTF-8, not \u escapes
    assert body == json.dumps(claims(), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert "=" not in token
    issuer_key.public_key().verify(b64url_decode(signature), f"{header}.{payload}".encode())


def test_signing_is_deterministic(issuer_key: Ed25519PrivateKey) -> None:
    assert sign_compact(claims(), issuer_key, kid=KEY_ID) == sign_compact(
        claims(), issuer_key, kid=KEY_ID
    )


def test_token_fits_comfortably_in_a_qr_code(issuer_key: Ed25519PrivateKey) -> None:
    token = sign_compact(claims(), issuer_key, kid=KEY_ID)
    assert len(token) < 600  # a version-15 QR code at level M holds 530+ bytes in byte mode


def test_certificate_claims_shape() -> None:
    assert claims() == {
        "v": 1,
        "id": "7K3M-Q9PX",
        "n": "Айгүл Асанова",
        "a": "Жарандык билим берүү: тренерлерди даярдоо",
        "d": "2024-05-17",
        "s": "MLMS-2024-000042",
        "iss": "https://lms.example.kg/",
        "sl": LIST_URL,
        "si": 42,
    }
    assert claims(issued_on=datetime(2024, 5, 17, 23, 59))["d"] == "2024-05-17"


@pytest.mark.parametrize(
    "changes",
    [
        {"status_index": -1},
        {"status_index": "42"},
        {"status_index": True},
        {"name": None},
        {"issued_on": "2024-05-17"},
    ],
)
def test_certificate_claims_refuse_bad_values(changes: dict[str, Any]) -> None:
    with pytest.raises(CredentialError):
        claims(**changes)


@pytest.mark.parametrize(
    "payload",
    [
        {**claims(), "v": 2},
        {**claims(), "x": 1},
        {key: value for key, value in claims().items() if key != "sl"},
        {**claims(), "d": "17.05.2024"},
        {**claims(), "d": "2024-02-30"},
        {**claims(), "si": 4.0},
        [],
    ],
)
def test_check_certificate_claims_refuses_other_shapes(payload: Any) -> None:
    with pytest.raises(CredentialError):
        check_certificate_claims(payload)


# --- refusals -------------------------------------------------------------------------------


def test_unknown_kid(issuer_key: Ed25519PrivateKey, resolver: Resolver) -> None:
    token = sign_compact(claims(), issuer_key, kid="https://lms.example.kg/issuer#key-2")
    with pytest.raises(CredentialError, match="unknown key"):
        verify_compact(token, resolver)


def test_wrong_key(resolver: Resolver) -> None:
    token = sign_compact(claims(), generate_private_key(), kid=KEY_ID)
    with pytest.raises(CredentialError, match="signature"):
        verify_compact(token, resolver)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "kid": KEY_ID},
        {"alg": "HS256", "kid": KEY_ID},
        {"alg": "ES256", "kid": KEY_ID},
        {"alg": "Ed25519", "kid": KEY_ID},
        {"kid": KEY_ID},
        {"alg": "EdDSA", "kid": KEY_ID, "crit": ["exp"], "exp": 1},
        {"alg": "EdDSA", "kid": 7},
        {"alg": "EdDSA", "kid": ""},
        ["EdDSA", KEY_ID],
    ],
)
def test_bad_headers(issuer_key: Ed25519PrivateKey, resolver: Resolver, header: Any) -> None:
    with pytest.raises(CredentialError):
        verify_compact(forge(header, claims(), issuer_key), resolver)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b'{"v": 1, "v": 2}',
        b'{"v": NaN}',
        b"\xff\xfe{}",
        b"[" * 2000 + b"]" * 2000,  # deeper than the JSON parser goes
    ],
)
def test_bad_payloads_even_when_signed(
    issuer_key: Ed25519PrivateKey, resolver: Resolver, payload: bytes
) -> None:
    header = json.dumps({"alg": "EdDSA", "kid": KEY_ID}).encode()
    with pytest.raises(CredentialError, match="payload"):
        verify_compact(forge(header, payload, issuer_key, raw=True), resolver)


def test_bad_header_json(issuer_key: Ed25519PrivateKey, resolver: Resolver) -> None:
    with pytest.raises(CredentialError, match="header"):
        verify_compact(forge(b"{alg:EdDSA}", b"{}", issuer_key, raw=True), resolver)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.rsplit(".", 1)[0],  # two parts
        lambda t: t + ".",  # four parts
        lambda t: t + ".e30",
        lambda t: "." + t.split(".", 1)[1],  # empty header
        lambda t: t.rsplit(".", 1)[0] + ".",  # empty signature
        lambda t: t.rsplit(".", 1)[0] + "." + b64url_encode(bytes(63)),  # short signature
        lambda t: t.rsplit(".", 1)[0] + "." + b64url_encode(bytes(65)),  # long signature
        lambda t: t.replace(".", "=.", 1),  # padding
        lambda t: t.replace(".", "+.", 1),  # standard base64 alphabet
        lambda t: " " + t,
        lambda t: t + "\n",
        lambda t: t + "A" * 9000,
    ],
)
def test_bad_segments(issuer_key: Ed25519PrivateKey, resolver: Resolver, mangle: Any) -> None:
    with pytest.raises(CredentialError):
        verify_compact(mangle(sign_compact(claims(), issuer_key, kid=KEY_ID)), resolver)


@pytest.mark.parametrize("token", [None, 42, b"a.b.c", ""])
def test_non_string_tokens(resolver: Resolver, token: Any) -> None:
    with pytest.raises(CredentialError):
        verify_compact(token, resolver)


def test_non_canonical_base64url_is_refused() -> None:
    assert b64url_decode("QQ") == b"A"
    for variant in ("QR", "QS", "Qf"):  # same byte, non-zero unused bits
        with pytest.raises(CredentialError, match="canonical"):
            b64url_decode(variant)
    for bad in ("Q", "QQ==", "Q Q", "Q+", "Q/", "QQ\n"):
        with pytest.raises(CredentialError):
            b64url_decode(bad)


@pytest.mark.parametrize(
    ("payload", "kid"),
    [({"x": {1, 2}}, KEY_ID), ({"x": float("nan")}, KEY_ID), ({}, ""), ([], KEY_ID)],
)
def test_sign_compact_refuses_bad_input(
    issuer_key: Ed25519PrivateKey, payload: Any, kid: str
) -> None:
    with pytest.raises(CredentialError):
        sign_compact(payload, issuer_key, kid=kid)
