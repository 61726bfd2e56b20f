"""Shared fixtures for the signed-credential layer (``certificates.credentials``).

No Flask app and no database: these tests exercise pure functions. Fixtures are
session-scoped so hypothesis tests can use them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certificates.credentials import (
    build_credential,
    generate_private_key,
    load_private_multikey,
    status_entry,
)

VECTORS = Path(__file__).resolve().parent / "vectors" / "vc-di-eddsa"
OB_SCHEMA = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "conformance"
    / "openbadges"
    / "achievementcredential.schema.json"
)
ISSUER_URL = "https://lms.example.kg/"
KEY_ID = "https://lms.example.kg/issuer#key-1"
LIST_URL = "https://lms.example.kg/certificates/status/1"

Resolver = Callable[[str], Ed25519PublicKey | None]


def vector_bytes(relative: str) -> bytes:
    """The exact bytes of a W3C vector file."""
    return (VECTORS / relative).read_bytes()


def vector_json(relative: str) -> Any:
    return json.loads(vector_bytes(relative))


@pytest.fixture(scope="session")
def vector_private_key() -> Ed25519PrivateKey:
    return load_private_multikey(vector_json("keyPair.json")["privateKeyMultibase"])


@pytest.fixture(scope="session")
def issuer_key() -> Ed25519PrivateKey:
    """A fresh key standing in for the LMS issuer's key."""
    return generate_private_key()


@pytest.fixture(scope="session")
def resolver(issuer_key: Ed25519PrivateKey) -> Resolver:
    """Knows exactly one key: ``KEY_ID`` -> the issuer's public key."""
    public = issuer_key.public_key()
    return lambda method: public if method == KEY_ID else None


@pytest.fixture(scope="session")
def ob_schema() -> dict[str, Any]:
    if not OB_SCHEMA.is_file():
        pytest.skip(
            f"Open Badges 3.0 schema not found at {OB_SCHEMA}; it is not redistributed with "
            "the project (its licence allows only complete copies of the specification)"
        )
    return json.loads(OB_SCHEMA.read_text(encoding="utf-8"))


def sample_credential(**overrides: Any) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential with Kyrgyz texts, as a certificate would have."""
    arguments: dict[str, Any] = {
        "credential_id": "https://lms.example.kg/verify/7K3M-Q9PX.json",
        "issuer_url": ISSUER_URL,
        "issuer_name": "Мадраса окуу борбору",
        "valid_from": datetime(2024, 5, 17, 9, 30, tzinfo=UTC),
        "recipient_name": "Айгүл Асанова",
        "achievement_id": "https://lms.example.kg/achievements/tot-civic-education",
        "achievement_name": "Жарандык билим берүү: тренерлерди даярдоо",
        "achievement_description": "Тренерлерди даярдоо курсун ийгиликтүү аяктаган.",
        "criteria_narrative": "Бардык сабактарга катышып, жыйынтыктоочу тестти тапшырган.",
        "language": "ky",
        "credential_status": status_entry(LIST_URL, 42),
    }
    arguments.update(overrides)
    return build_credential(**arguments)
