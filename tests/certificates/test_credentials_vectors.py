"""The W3C EdDSA test vectors, reproduced byte for byte, and the pinned JSON-LD contexts.

``eddsa-jcs-2022`` is what we sign with: every intermediate file must come out identical.
``eddsa-rdfc-2022`` is not implemented by the package, but reproducing its vectors with
PyLD and our :func:`document_loader` proves the pinned contexts are the published ones.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from certificates.credentials import (
    CONTEXT_FILES,
    CredentialError,
    document_loader,
    generate_private_key,
    hash_data,
    load_private_multikey,
    load_public_multikey,
    private_key_from_seed,
    private_multikey,
    proof_configuration,
    public_multikey,
    seed_bytes,
    sign,
    transform,
    verify,
)
from certificates.credentials.keys import multibase_encode
from tests.certificates.conftest import (
    KEY_ID,
    sample_credential,
    vector_bytes,
    vector_json,
)

CONFORMANCE_CONTEXTS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "contexts"
PACKAGE_CONTEXTS = Path(__file__).resolve().parents[2] / "certificates" / "credentials" / "contexts"
JCS = "eddsa-jcs-2022/"
RDFC = "eddsa-rdfc-2022/"


def text(relative: str) -> str:
    return vector_bytes(relative).decode("utf-8")


def jcs_options() -> dict:
    """The proof options of proofConfigJCS.json (without its @context, which sign() adds)."""
    config = vector_json(JCS + "proofConfigJCS.json")
    return {key: value for key, value in config.items() if key != "@context"}


# --- keys -----------------------------------------------------------------------------------


def test_vector_multikeys_round_trip(vector_private_key: Ed25519PrivateKey) -> None:
    pair = vector_json("keyPair.json")
    assert private_multikey(vector_private_key) == pair["privateKeyMultibase"]
    assert public_multikey(vector_private_key.public_key()) == pair["publicKeyMultibase"]
    public = load_public_multikey(pair["publicKeyMultibase"])
    assert public_multikey(public) == pair["publicKeyMultibase"]
    assert (
        private_multikey(load_private_multikey(pair["privateKeyMultibase"]))
        == (pair["privateKeyMultibase"])
    )


def test_fresh_keys_round_trip_through_multikey_and_seed() -> None:
    key = generate_private_key()
    again = load_private_multikey(private_multikey(key))
    assert seed_bytes(again) == seed_bytes(key)
    assert seed_bytes(private_key_from_seed(seed_bytes(key))) == seed_bytes(key)
    public = load_public_multikey(public_multikey(key.public_key()))
    assert public_multikey(public) == public_multikey(key.public_key())
    assert public_multikey(public).startswith("z6Mk")  # every Ed25519 Multikey does


PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PRIVATE, "not an Ed25519 Multikey"),  # a private key where a public one belongs
        (PUBLIC[1:], "start with 'z'"),
        ("u" + PUBLIC[1:], "start with 'z'"),
        (multibase_encode(b"\xed\x01" + bytes(range(31))), "exactly 32"),
        (multibase_encode(b"\xed\x01" + bytes(range(33))), "exactly 32"),
        (multibase_encode(b"\xed"), "not an Ed25519 Multikey"),
        (PUBLIC[:-1] + "0", "outside base58btc"),
        (PUBLIC[:-1] + "l", "outside base58btc"),
        (PUBLIC + " ", "outside base58btc"),
        ("z", "empty"),
        (None, "must be a string"),
        (b"z6Mk", "must be a string"),
    ],
)
def test_bad_public_multikeys(text: object, message: str) -> None:
    with pytest.raises(CredentialError, match=message):
        load_public_multikey(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PUBLIC, "not an Ed25519 Multikey"),
        (multibase_encode(b"\x80\x26" + bytes(range(31))), "exactly 32"),
        (PRIVATE[:-1] + "I", "outside base58btc"),
    ],
)
def test_bad_private_multikeys(text: str, message: str) -> None:
    with pytest.raises(CredentialError, match=message):
        load_private_multikey(text)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "x" * 32])
def test_bad_seeds(seed: object) -> None:
    with pytest.raises(CredentialError):
        private_key_from_seed(seed)  # type: ignore[arg-type]


# --- eddsa-jcs-2022 -------------------------------------------------------------------------


def test_jcs_transform_reproduces_canonical_document() -> None:
    assert transform(vector_json("unsigned.json")) == vector_bytes(JCS + "canonDocJCS.txt")


def test_jcs_document_hash() -> None:
    digest = hashlib.sha256(transform(vector_json("unsigned.json"))).hexdigest()
    assert digest == text(JCS + "docHashJCS.txt")


def test_jcs_proof_configuration_reproduces_canonical_proof() -> None:
    config = proof_configuration(vector_json("unsigned.json"), jcs_options())
    assert config == vector_bytes(JCS + "proofCanonJCS.txt")
    assert hashlib.sha256(config).hexdigest() == text(JCS + "proofHashJCS.txt")
    # The vector's own proof config (which already carries the @context) gives the same.
    config_file = vector_json(JCS + "proofConfigJCS.json")
    assert proof_configuration(vector_json("unsigned.json"), config_file) == config


def test_jcs_combined_hash() -> None:
    unsigned = vector_json("unsigned.json")
    combined = hash_data(transform(unsigned), proof_configuration(unsigned, jcs_options()))
    assert combined.hex() == text(JCS + "combinedHashJCS.txt")
    assert combined[:32].hex() == text(JCS + "proofHashJCS.txt")
    assert combined[32:].hex() == text(JCS + "docHashJCS.txt")


def test_jcs_signature_and_signed_document(vector_private_key: Ed25519PrivateKey) -> None:
    options = jcs_options()
    signed = sign(
        vector_json("unsigned.json"),
        vector_private_key,
        verification_method=options["verificationMethod"],
        created=options["created"],
        proof_purpose=options["proofPurpose"],
    )
    proof_value = signed["proof"]["proofValue"]
    assert proof_value == text(JCS + "sigBTC58JCS.txt")
    signature = bytes.fromhex(text(JCS + "sigHexJCS.txt"))
    assert multibase_encode(signature) == proof_value
    expected = vector_json(JCS + "signedJCS.json")
    assert signed == expected
    assert list(signed["proof"]) == list(expected["proof"])  # same key order as upstream


def test_sign_leaves_the_input_untouched(vector_private_key: Ed25519PrivateKey) -> None:
    unsigned = vector_json("unsigned.json")
    before = vector_json("unsigned.json")
    sign(unsigned, vector_private_key, verification_method=KEY_ID, created="2024-01-01T00:00:00Z")
    assert unsigned == before


def test_jcs_signed_vector_verifies() -> None:
    signed = vector_json(JCS + "signedJCS.json")
    public = load_public_multikey(vector_json("keyPair.json")["publicKeyMultibase"])
    method = signed["proof"]["verificationMethod"]
    result = verify(signed, lambda url: public if url == method else None)
    assert result.ok, result.reason
    assert result.verification_method == method
    assert result.created == "2023-02-24T23:36:38Z"


def test_jcs_signed_vector_verifies_with_proof_as_list() -> None:
    signed = vector_json(JCS + "signedJCS.json")
    signed["proof"] = [signed["proof"]]
    public = load_public_multikey(vector_json("keyPair.json")["publicKeyMultibase"])
    assert verify(signed, lambda url: public).ok


def test_rdfc_vector_is_not_accepted_by_the_jcs_verifier() -> None:
    signed = vector_json(RDFC + "signedDataInt.json")
    public = load_public_multikey(vector_json("keyPair.json")["publicKeyMultibase"])
    result = verify(signed, lambda url: public)
    assert not result.ok
    assert "cryptosuite" in result.reason


# --- pinned contexts and eddsa-rdfc-2022 via PyLD ---------------------------------------------


def test_packaged_contexts_are_byte_identical_to_the_published_ones() -> None:
    if not CONFORMANCE_CONTEXTS.is_dir():
        pytest.skip(f"conformance contexts not found at {CONFORMANCE_CONTEXTS}")
    sources = {
        "credentials-v2.jsonld": "credentials-v2.jsonld",
        "credentials-examples-v2.jsonld": "credentials-examples-v2.jsonld",
        "ob-v3p0-context-3.0.3.jsonld": "ob-v3p0-context.jsonld",
    }
    assert sorted(CONTEXT_FILES.values()) == sorted(sources)
    for ours, upstream in sources.items():
        assert (PACKAGE_CONTEXTS / ours).read_bytes() == (
            CONFORMANCE_CONTEXTS / upstream
        ).read_bytes()


def rdfc(document: dict) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads, loading contexts only from the package."""
    return jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
        },
    )


def test_rdfc_canonical_document() -> None:
    canonical = rdfc(vector_json("unsigned.json"))
    assert canonical == text(RDFC + "canonDocDataInt.txt")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert digest == text(RDFC + "docHashDataInt.txt")


def test_rdfc_canonical_proof_configuration() -> None:
    canonical = rdfc(vector_json(RDFC + "proofConfigDataInt.json"))
    assert canonical == text(RDFC + "proofCanonDataInt.txt")
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert digest == text(RDFC + "proofHashDataInt.txt")


def test_rdfc_signature(vector_private_key: Ed25519PrivateKey) -> None:
    proof_hash = hashlib.sha256(rdfc(vector_json(RDFC + "proofConfigDataInt.json")).encode())
    doc_hash = hashlib.sha256(rdfc(vector_json("unsigned.json")).encode())
    combined = proof_hash.digest() + doc_hash.digest()
    assert combined.hex() == text(RDFC + "combinedHashDataInt.txt")
    signature = vector_private_key.sign(combined)
    assert signature.hex() == text(RDFC + "sigHexDataInt.txt")
    assert multibase_encode(signature) == text(RDFC + "sigBTC58DataInt.txt")
    signed = vector_json(RDFC + "signedDataInt.json")
    assert signed["proof"]["proofValue"] == multibase_encode(signature)


def test_open_badges_credential_expands_and_canonicalises_offline(issuer_key) -> None:
    credential = sign(
        sample_credential(),
        issuer_key,
        verification_method=KEY_ID,
        created="2024-05-17T09:30:00Z",
        proof_as_list=True,
    )
    expanded = jsonld.expand(credential, {"documentLoader": document_loader})
    assert expanded and expanded[0]["@id"] == credential["id"]
    types = expanded[0]["@type"]
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential" in types
    nquads = rdfc(credential)
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#identityHash>" in nquads
    assert "<https://www.w3.org/ns/credentials/status#BitstringStatusListEntry>" in nquads


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        "https://www.w3.org/ns/credentials/v2/",
        "http://www.w3.org/ns/credentials/v2",
        "file:///etc/passwd",
    ],
)
def test_loader_refuses_other_urls(url: str) -> None:
    with pytest.raises(CredentialError):
        document_loader(url)


def test_jsonld_processing_fails_instead_of_fetching_an_unknown_context() -> None:
    document = {"@context": "https://example.org/unknown-context.jsonld", "name": "x"}
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand(document, {"documentLoader": document_loader})


def test_loader_returns_a_fresh_copy() -> None:
    url = "https://www.w3.org/ns/credentials/examples/v2"
    first = document_loader(url)
    first["document"]["@context"]["@vocab"] = "https://evil.example/"
    assert document_loader(url)["document"]["@context"]["@vocab"] == (
        "https://www.w3.org/ns/credentials/examples#"
    )
