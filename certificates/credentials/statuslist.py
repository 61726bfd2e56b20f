"""W3C Bitstring Status List v1.0: revocation without a call home per certificate.

Each issued credential gets an index into a long bitstring published as a signed
``BitstringStatusListCredential``; bit ``i`` set means credential ``i`` is revoked (or
suspended, for a suspension list). A verifier downloads the whole list, so the issuer never
learns which certificate is being checked – that is why the spec's minimum length of
131,072 entries (16 KiB) is the default: many certificates share one list ("herd privacy").

Layout and encoding follow the spec (§2.1, §3.1):

- bit 0 is the left-most (most significant) bit of byte 0, bit 8 the left-most of byte 1;
- ``encodedList`` is ``"u"`` + base64url-without-padding of the GZIP-compressed bitstring
  (multibase base64url). The GZIP member is written with fixed header fields (mtime 0,
  no file name, OS "unknown"), so the same bits always encode to the same text.
- Decoding refuses a decompressed size above :data:`MAX_LIST_BYTES`, so a tiny hostile
  list cannot expand into gigabytes (a decompression bomb).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from .dataintegrity import check_timestamp
from .errors import CredentialError
from .jws import b64url_decode, b64url_encode

#: The spec's minimum number of entries (16 KiB of bits).
MIN_ENTRIES = 131_072
#: Largest decompressed bitstring accepted when decoding: 16 MiB, i.e. 134 million entries,
#: far beyond any real list yet small enough to hold in memory safely.
MAX_LIST_BYTES = 16 * 1024 * 1024
#: Status purposes with one bit per entry, which is all this module implements.
PURPOSES = frozenset({"revocation", "suspension"})
CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"

# ID1 ID2, CM=deflate, FLG=0, MTIME=0, XFL=2 (best compression), OS=255 (unknown).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def _gzip(data: bytes) -> bytes:
    """GZIP ``data`` deterministically (fixed header; Python's own varies by platform)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    return _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress one GZIP member, refusing output larger than ``max_bytes``."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        output = decompressor.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise CredentialError(f"the status list is not valid GZIP data: {exc}") from exc
    if len(output) > max_bytes or decompressor.unconsumed_tail:
        raise CredentialError(f"the status list expands beyond {max_bytes} bytes")
    if not decompressor.eof or decompressor.unused_data:
        raise CredentialError("the status list is not exactly one complete GZIP member")
    return output


def _check_index(index: object, size: int) -> int:
    if not isinstance(index, int) or isinstance(index, bool):
        raise CredentialError("a status list index must be an integer")
    if not 0 <= index < size:
        raise CredentialError(f"status list index {index} is outside 0..{size - 1}")
    return index


class StatusBits:
    """A mutable bitstring of status entries, in the spec's bit order."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        """Create ``size`` entries, all clear; ``size`` must be a positive multiple of 8."""
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or size % 8:
            raise CredentialError("a status list size must be a positive multiple of 8")
        if size > MAX_LIST_BYTES * 8:
            raise CredentialError(f"a status list holds at most {MAX_LIST_BYTES * 8} entries")
        self._bits = bytearray(size // 8)

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self._bits) * 8

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusBits):
            return NotImplemented
        return self._bits == other._bits

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusBits(size={self.size}, set={self.count()})"

    def get(self, index: int) -> bool:
        """Whether entry ``index`` is set (e.g. revoked)."""
        index = _check_index(index, self.size)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool) -> None:
        """Set or clear entry ``index``."""
        index = _check_index(index, self.size)
        if not isinstance(value, bool):
            raise CredentialError("a status value must be True or False")
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def count(self) -> int:
        """Number of entries that are set."""
        return sum(bin(byte).count("1") for byte in self._bits if byte)

    def to_bytes(self) -> bytes:
        """The raw (uncompressed) bitstring."""
        return bytes(self._bits)

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusBits:
        """Wrap a raw bitstring (one entry per bit)."""
        if not isinstance(data, bytes | bytearray) or not data:
            raise CredentialError("a status list must be a non-empty byte string")
        bits = cls(len(data) * 8)
        bits._bits[:] = data
        return bits

    def encode(self) -> str:
        """The ``encodedList`` text: ``"u"`` + base64url(GZIP(bitstring))."""
        return "u" + b64url_encode(_gzip(bytes(self._bits)))

    @classmethod
    def decode(cls, text: object, *, max_bytes: int = MAX_LIST_BYTES) -> StatusBits:
        """Parse an ``encodedList``; refuse bad text, bad GZIP and oversized output."""
        if not isinstance(text, str) or not text.startswith("u"):
            raise CredentialError("encodedList must be multibase base64url (start with 'u')")
        compressed = b64url_decode(text[1:], what="encodedList")
        return cls.from_bytes(_gunzip(compressed, max_bytes))


def _check_purpose(purpose: object) -> str:
    if purpose not in PURPOSES:
        raise CredentialError(f"status purpose must be one of {sorted(PURPOSES)}")
    return str(purpose)


def status_list_credential(
    *,
    list_url: str,
    issuer: dict[str, Any] | str,
    encoded_list: str,
    valid_from: str,
    purpose: str = "revocation",
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` published at ``list_url`` (§2.2).

    Sign it with :func:`.dataintegrity.sign` before publishing.
    """
    StatusBits.decode(encoded_list)  # refuse to publish a list nobody could read
    return {
        "@context": [CONTEXT_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": check_timestamp(valid_from, what="validFrom"),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": _check_purpose(purpose),
            "encodedList": encoded_list,
        },
    }


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The ``credentialStatus`` of the credential at ``index`` in ``list_url`` (§2.1).

    ``id`` is optional in the spec but required by the Open Badges schema, so it is given
    as ``list_url#index``; ``statusListIndex`` is a string, as the spec says.
    """
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise CredentialError("a status list index must be a non-negative integer")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": _check_purpose(purpose),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_of(entry: dict[str, Any], list_credential: dict[str, Any]) -> bool:
    """Whether the bit that ``entry`` points to is set in ``list_credential`` (§3.2).

    ``list_credential`` must already have been verified by the caller (its proof checked);
    this function only checks that entry and list belong together and reads the bit.
    """
    if not isinstance(entry, dict) or not isinstance(list_credential, dict):
        raise CredentialError("status entry and status list credential must be JSON objects")
    if entry.get("type") != "BitstringStatusListEntry":
        raise CredentialError("credentialStatus is not a BitstringStatusListEntry")
    if entry.get("statusListCredential") != list_credential.get("id"):
        raise CredentialError("the status entry points to a different status list")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        raise CredentialError("the status list credential has no BitstringStatusList subject")
    if entry.get("statusPurpose") != subject.get("statusPurpose"):
        raise CredentialError("the status entry and the status list have different purposes")
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not raw_index.isascii() or not raw_index.isdigit():
        raise CredentialError("statusListIndex must be a string of digits")
    return StatusBits.decode(subject.get("encodedList")).get(int(raw_index))
