"""Any change to a signed credential or token is detected, and never crashes the verifier.

Hypothesis picks the place and the change; the property is always the same: ``verify``
returns ``ok=False`` (no exception), ``verify_compact`` raises ``CredentialError`` (nothing
else). Example counts are kept modest so the suite stays fast.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from certificates.credentials import (
    CredentialError,
    certificate_claims,
    decrypt_seed,
    encrypt_seed,
    generate_private_key,
    load_public_multikey,
    seed_bytes,
    sign,
    sign_compact,
    verify,
    verify_compact,
)
from certificates.credentials.jcs import canonicalize
from tests.certificates.conftest import KEY_ID, LIST_URL, sample_credential, vector_json

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

Path = tuple[str | int, ...]

# --- the documents under attack -------------------------------------------------------------

_ISSUER_KEY = generate_private_key()
_VECTOR_KEY = load_public_multikey(vector_json("keyPair.json")["publicKeyMultibase"])


def _resolver(public: Ed25519PublicKey, method: str) -> Any:
    return lambda url: public if url == method else None


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    # Our own Open Badges credential: proof as a one-element list, non-ASCII text.
    "openbadge": (
        sign(
            sample_credential(),
            _ISSUER_KEY,
            verification_method=KEY_ID,
            created="2024-05-17T09:30:00Z",
            proof_as_list=True,
        ),
        _resolver(_ISSUER_KEY.public_key(), KEY_ID),
    ),
    # The W3C vector: proof as an object.
    "w3c-vector": (
        vector_json("eddsa-jcs-2022/signedJCS.json"),
        _resolver(
            _VECTOR_KEY, vector_json("eddsa-jcs-2022/signedJCS.json")["proof"]["verificationMethod"]
        ),
    ),
}


def walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) in a JSON tree, the root included."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, (*path, index))


def leaf_paths(document: Any) -> list[Path]:
    return [path for path, value in walk(document) if not isinstance(value, dict | list)]


def key_paths(document: Any) -> list[Path]:
    """Paths whose last step is an object member (so it can be deleted)."""
    return [path for path, _ in walk(document) if path and isinstance(path[-1], str)]


def paths_of(document: Any, kind: type) -> list[Path]:
    return [path for path, value in walk(document) if isinstance(value, kind)]


def parent_and_step(document: Any, path: Path) -> tuple[Any, str | int]:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node, path[-1]


def get_at(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # includes integers JCS cannot represent: must fail, not raise
    st.floats(),  # includes NaN and infinities: same
    st.text(max_size=20),
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def differs(old: Any, new: Any) -> bool:
    """Whether a change is a change in JSON terms (1 and 1.0 are the same JSON number)."""
    try:
        return canonicalize(old) != canonicalize(new)
    except CredentialError:
        return True


def assert_rejected(document: Any, resolver: Any) -> None:
    result = verify(document, resolver)
    assert result.ok is False
    assert result.reason


@pytest.mark.parametrize("case", sorted(CASES))
def test_untampered_documents_verify(case: str) -> None:
    document, resolver = CASES[case]
    assert verify(document, resolver).ok


# --- Data Integrity proofs ------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_changing_any_leaf_value_is_detected(case: str, data: st.DataObject) -> None:
    original, resolver = CASES[case]
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(leaf_paths(document)), label="path")
    parent, step = parent_and_step(document, path)
    new = data.draw(json_values, label="new value")
    assume(differs(parent[step], new))
    parent[step] = new
    assert_rejected(document, resolver)


@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_deleting_any_key_is_detected(case: str, data: st.DataObject) -> None:
    original, resolver = CASES[case]
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(key_paths(document)), label="path")
    parent, step = parent_and_step(document, path)
    del parent[step]
    assert_rejected(document, resolver)


@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_adding_a_key_anywhere_is_detected(case: str, data: st.DataObject) -> None:
    original, resolver = CASES[case]
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(paths_of(document, dict)), label="object")
    target = get_at(document, path)
    key = data.draw(st.text(max_size=12).filter(lambda k: k not in target), label="key")
    target[key] = data.draw(json_values, label="value")
    assert_rejected(document, resolver)


@pytest.mark.parametrize("case", ["openbadge"])
def test_adding_a_key_inside_the_proof_is_detected(case: str) -> None:
    document, resolver = CASES[case]
    for key, value in [("expires", "2030-01-01T00:00:00Z"), ("domain", "x"), ("nonce", "1")]:
        tampered = copy.deepcopy(document)
        tampered["proof"][0][key] = value
        assert_rejected(tampered, resolver)


@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_appending_to_any_list_is_detected(case: str, data: st.DataObject) -> None:
    original, resolver = CASES[case]
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(paths_of(document, list)), label="list")
    get_at(document, path).append(data.draw(json_values, label="value"))
    assert_rejected(document, resolver)


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    proof = document["proof"]
    return proof[0] if isinstance(proof, list) else proof


@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_altering_any_character_of_proof_value_is_detected(case: str, data: st.DataObject) -> None:
    original, resolver = CASES[case]
    document = copy.deepcopy(original)
    proof = _proof(document)
    value = proof["proofValue"]
    index = data.draw(st.integers(0, len(value) - 1), label="index")
    char = data.draw(st.characters(codec="utf-8"), label="char")
    assume(char != value[index])
    proof["proofValue"] = value[:index] + char + value[index + 1 :]
    assert_rejected(document, resolver)


@SETTINGS
@given(garbage=json_values)
def test_verify_never_raises_on_arbitrary_json(garbage: Any) -> None:
    document, resolver = CASES["openbadge"]
    assert_rejected(garbage, resolver)
    assert_rejected({**document, "proof": garbage}, resolver)


# --- targeted failures, each with its reason ------------------------------------------------


def tampered_proof(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(CASES["openbadge"][0])
    document["proof"][0].update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (tampered_proof(type="Ed25519Signature2020"), "proof type"),
        (tampered_proof(cryptosuite="eddsa-rdfc-2022"), "cryptosuite"),
        (tampered_proof(proofPurpose="authentication"), "purpose"),
        (tampered_proof(**{"@context": ["https://www.w3.org/ns/credentials/v2"]}), "@context"),
        (tampered_proof(verificationMethod="https://evil.example/key"), "unknown"),
        (tampered_proof(created="yesterday"), "created"),
        (tampered_proof(proofValue="z" + "2" * 20), "64-byte"),
        (tampered_proof(proofValue="u" + "A" * 86), "base58btc"),
        ({**CASES["openbadge"][0], "name": "Forged"}, "does not match"),
        ({**CASES["openbadge"][0], "proof": []}, "exactly one"),
        ({**CASES["openbadge"][0], "proof": [{}, {}]}, "exactly one"),
        ({**CASES["openbadge"][0], "proof": "z123"}, "JSON object"),
        ({key: v for key, v in CASES["openbadge"][0].items() if key != "proof"}, "no proof"),
        ([], "JSON object"),
    ],
)
def test_failures_say_why(document: Any, reason: str) -> None:
    result = verify(document, CASES["openbadge"][1])
    assert not result.ok
    assert reason in result.reason


def test_a_different_key_does_not_verify() -> None:
    document, _ = CASES["openbadge"]
    other = generate_private_key().public_key()
    result = verify(document, lambda url: other)
    assert not result.ok
    assert result.verification_method == KEY_ID


def test_resolver_errors_become_failed_results() -> None:
    def refuse(url: str) -> None:
        raise CredentialError("key was retired")

    result = verify(CASES["openbadge"][0], refuse)
    assert not result.ok
    assert "key was retired" in result.reason


def test_expected_purpose_is_honoured() -> None:
    document, resolver = CASES["openbadge"]
    assert not verify(document, resolver, expected_purpose="authentication").ok


def test_sign_refuses_a_document_that_already_has_a_proof() -> None:
    with pytest.raises(CredentialError):
        sign(
            CASES["openbadge"][0],
            _ISSUER_KEY,
            verification_method=KEY_ID,
            created="2024-01-01T00:00:00Z",
        )


@pytest.mark.parametrize(
    "created", ["2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", ""]
)
def test_sign_refuses_a_bad_created(created: str) -> None:
    with pytest.raises(CredentialError):
        sign(sample_credential(), _ISSUER_KEY, verification_method=KEY_ID, created=created)


# --- compact JWS ----------------------------------------------------------------------------

_TOKEN = sign_compact(
    certificate_claims(
        verification_id="7K3M-Q9PX",
        name="Айгүл Асанова",
        achievement="Жарандык билим берүү",
        issued_on=date(2024, 5, 17),
        serial="MLMS-2024-000042",
        issuer_url="https://lms.example.kg/",
        status_list_url=LIST_URL,
        status_index=42,
    ),
    _ISSUER_KEY,
    kid=KEY_ID,
)
_JWS_RESOLVER = _resolver(_ISSUER_KEY.public_key(), KEY_ID)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_untampered_token_verifies() -> None:
    assert verify_compact(_TOKEN, _JWS_RESOLVER)["si"] == 42


@SETTINGS
@given(data=st.data())
def test_altering_any_character_of_a_token_is_detected(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(_TOKEN) - 1), label="index")
    char = data.draw(st.sampled_from(BASE64URL + ".=") | st.characters(codec="utf-8"), label="char")
    assume(char != _TOKEN[index])
    with pytest.raises(CredentialError):
        verify_compact(_TOKEN[:index] + char + _TOKEN[index + 1 :], _JWS_RESOLVER)


def test_every_last_character_variant_of_every_segment_is_rejected() -> None:
    """The case base64url makes subtle: a final character whose unused bits change."""
    ends = [i - 1 for i, c in enumerate(_TOKEN) if c == "."] + [len(_TOKEN) - 1]
    for index in ends:
        for char in BASE64URL:
            if char != _TOKEN[index]:
                with pytest.raises(CredentialError):
                    verify_compact(_TOKEN[:index] + char + _TOKEN[index + 1 :], _JWS_RESOLVER)


@SETTINGS
@given(length=st.integers(0, len(_TOKEN) - 1))
def test_truncating_a_token_is_detected(length: int) -> None:
    with pytest.raises(CredentialError):
        verify_compact(_TOKEN[:length], _JWS_RESOLVER)


@SETTINGS
@given(
    garbage=st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,40}){2}")
)
def test_arbitrary_strings_are_rejected_cleanly(garbage: str) -> None:
    with pytest.raises(CredentialError):
        verify_compact(garbage, _JWS_RESOLVER)


# --- encrypted seeds ------------------------------------------------------------------------

SECRET = "a-long-random-secret-key-for-tests-only-0123456789"


def test_seed_round_trip() -> None:
    seed = seed_bytes(_ISSUER_KEY)
    blob = encrypt_seed(seed, SECRET)
    assert decrypt_seed(blob, SECRET) == seed
    assert blob[0] == 1 and len(blob) == 1 + 12 + 32 + 16
    assert encrypt_seed(seed, SECRET) != blob  # fresh nonce every time


def test_seed_with_the_wrong_secret_is_refused() -> None:
    blob = encrypt_seed(seed_bytes(_ISSUER_KEY), SECRET)
    with pytest.raises(CredentialError, match="wrong secret"):
        decrypt_seed(blob, SECRET + "x")


@SETTINGS
@given(data=st.data())
def test_any_damage_to_an_encrypted_seed_is_refused(data: st.DataObject) -> None:
    blob = bytearray(encrypt_seed(seed_bytes(_ISSUER_KEY), SECRET))
    index = data.draw(st.integers(0, len(blob) - 1), label="index")
    blob[index] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(CredentialError):
        decrypt_seed(bytes(blob), SECRET)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + bytes(60), bytes(61), "text"])
def test_malformed_seed_blobs_are_refused(blob: Any) -> None:
    with pytest.raises(CredentialError):
        decrypt_seed(blob, SECRET)


@pytest.mark.parametrize("secret", ["", None])
def test_empty_secret_is_refused(secret: Any) -> None:
    with pytest.raises(CredentialError):
        encrypt_seed(seed_bytes(_ISSUER_KEY), secret)


def test_token_payload_is_plain_base64url_json() -> None:
    payload = _TOKEN.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["n"] == "Айгүл Асанова"
