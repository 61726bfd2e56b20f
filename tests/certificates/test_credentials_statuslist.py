"""W3C Bitstring Status List v1.0: bit order, encoding, and refusal of bad lists."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.credentials import CredentialError, StatusBits, status_entry
from certificates.credentials.statuslist import MAX_LIST_BYTES, MIN_ENTRIES, status_list_credential

SETTINGS = settings(max_examples=60, deadline=None)


def multibase_gzip(raw: bytes) -> str:
    # mtime=0: the same bytes in every process (xdist workers must collect the same ids).
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).rstrip(b"=").decode()


def test_default_size_is_the_spec_minimum() -> None:
    bits = StatusBits()
    assert bits.size == len(bits) == MIN_ENTRIES == 131_072
    assert len(bits.to_bytes()) == 16 * 1024
    assert bits.count() == 0


def test_set_and_get_across_the_range() -> None:
    bits = StatusBits()
    chosen = [0, 1, 7, 8, 9, 1000, 65_535, 65_536, MIN_ENTRIES - 2, MIN_ENTRIES - 1]
    for index in chosen:
        bits.set(index, True)
    assert [i for i in range(bits.size) if bits.get(i)] == chosen
    assert bits.count() == len(chosen)
    bits.set(1000, False)
    assert not bits.get(1000)
    bits.set(1000, False)  # clearing twice is harmless
    assert bits.count() == len(chosen) - 1


@SETTINGS
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=50))
def test_encode_decode_round_trip(indices: set[int]) -> None:
    bits = StatusBits()
    for index in indices:
        bits.set(index, True)
    decoded = StatusBits.decode(bits.encode())
    assert decoded == bits
    assert {i for i in indices if decoded.get(i)} == indices
    assert decoded.count() == len(indices)
    assert StatusBits.from_bytes(bits.to_bytes()) == bits


def test_bit_order_matches_the_spec() -> None:
    """Index 0 is the most significant bit of byte 0; index 8 starts byte 1."""
    bits = StatusBits(16)
    bits.set(0, True)
    assert bits.to_bytes() == b"\x80\x00"
    bits.set(7, True)
    assert bits.to_bytes() == b"\x81\x00"
    bits.set(8, True)
    assert bits.to_bytes() == b"\x81\x80"
    decoded = StatusBits.from_bytes(b"\x40\x01")
    assert [i for i in range(16) if decoded.get(i)] == [1, 15]


def test_all_zero_list_encodes_small_and_deterministically() -> None:
    encoded = StatusBits().encode()
    assert encoded.startswith("u")
    assert len(encoded) < 100  # 16 KiB of zeros compresses to a few dozen bytes
    assert StatusBits().encode() == encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b"  # GZIP
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert gzip.decompress(raw) == bytes(16 * 1024)


def test_decode_accepts_lists_from_other_gzip_writers() -> None:
    raw = bytes([0x80]) + bytes(16 * 1024 - 1)
    assert StatusBits.decode(multibase_gzip(raw)).get(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "u",
        "z" + StatusBits().encode()[1:],  # wrong multibase prefix
        StatusBits().encode() + "=",  # padding
        StatusBits().encode()[:-3],  # truncated GZIP
        "u" + base64.urlsafe_b64encode(b"not gzip at all").rstrip(b"=").decode(),
        multibase_gzip(b""),  # empty bitstring
        StatusBits().encode() + StatusBits().encode()[1:],  # junk after the member
        "u!!!!",
        None,
        42,
    ],
)
def test_bad_encoded_lists_are_refused(text: object) -> None:
    with pytest.raises(CredentialError):
        StatusBits.decode(text)


def test_decompression_bomb_is_refused() -> None:
    bomb = multibase_gzip(bytes(MAX_LIST_BYTES + 1))
    assert len(bomb) < 50_000
    with pytest.raises(CredentialError, match="expands beyond"):
        StatusBits.decode(bomb)
    with pytest.raises(CredentialError, match="expands beyond"):
        StatusBits.decode(StatusBits().encode(), max_bytes=1024)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, 10**9, "3", 1.0, True, None])
def test_bad_indices_are_refused(index: object) -> None:
    bits = StatusBits()
    with pytest.raises(CredentialError):
        bits.get(index)  # type: ignore[arg-type]
    with pytest.raises(CredentialError):
        bits.set(index, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_set_takes_booleans_only(value: object) -> None:
    with pytest.raises(CredentialError):
        StatusBits().set(0, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -8, 7, 12, 1.5, True])
def test_bad_sizes_are_refused(size: object) -> None:
    with pytest.raises(CredentialError):
        StatusBits(size)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"", "text", None])
def test_bad_raw_bytes_are_refused(data: object) -> None:
    with pytest.raises(CredentialError):
        StatusBits.from_bytes(data)  # type: ignore[arg-type]


def test_status_entry_shape() -> None:
    url = "https://lms.example.kg/certificates/status/1"
    assert status_entry(url, 94567) == {
        "id": url + "#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": url,
    }
    assert status_entry(url, 0, "suspension")["statusPurpose"] == "suspension"


@pytest.mark.parametrize(
    ("index", "purpose"), [(-1, "revocation"), (1, "refresh"), ("1", "revocation")]
)
def test_status_entry_refuses_bad_arguments(index: object, purpose: str) -> None:
    with pytest.raises(CredentialError):
        status_entry("https://x.example/s", index, purpose)  # type: ignore[arg-type]


def test_status_list_credential_shape() -> None:
    url = "https://lms.example.kg/certificates/status/1"
    encoded = StatusBits().encode()
    credential = status_list_credential(
        list_url=url,
        issuer="https://lms.example.kg/",
        encoded_list=encoded,
        valid_from="2024-05-17T00:00:00Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "https://lms.example.kg/",
        "validFrom": "2024-05-17T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }


@pytest.mark.parametrize(
    "changes",
    [{"encoded_list": "uAAAA"}, {"valid_from": "2024-05-17"}, {"purpose": "message"}],
)
def test_status_list_credential_refuses_bad_arguments(changes: dict[str, str]) -> None:
    arguments = {
        "list_url": "https://lms.example.kg/certificates/status/1",
        "issuer": "https://lms.example.kg/",
        "encoded_list": StatusBits().encode(),
        "valid_from": "2024-05-17T00:00:00Z",
        **changes,
    }
    with pytest.raises(CredentialError):
        status_list_credential(**arguments)
