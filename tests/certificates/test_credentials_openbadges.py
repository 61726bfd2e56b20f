"""Open Badges 3.0 credentials and status list credentials: schema-valid and verifiable.

The OB schema is not shipped with the project (its licence allows only complete copies of
the specification); these tests read it from the shared conformance folder and skip with a
message when it is absent.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft201909Validator

from certificates.credentials import (
    CredentialError,
    StatusBits,
    build_credential,
    issuer_profile,
    sign,
    status_list_credential,
    status_of,
    verify,
)
from tests.certificates.conftest import ISSUER_URL, KEY_ID, LIST_URL, Resolver, sample_credential

CREATED = "2024-05-17T09:30:00Z"


def validator(schema: dict[str, Any]) -> Draft201909Validator:
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def errors(schema: dict[str, Any], credential: dict[str, Any]) -> list[str]:
    return [error.message for error in validator(schema).iter_errors(credential)]


@pytest.fixture(scope="module")
def signed_credential(issuer_key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign(
        sample_credential(),
        issuer_key,
        verification_method=KEY_ID,
        created=CREATED,
        proof_as_list=True,
    )


def test_schema_is_draft_2019_09(ob_schema: dict[str, Any]) -> None:
    Draft201909Validator.check_schema(ob_schema)


def test_signed_credential_validates_against_the_schema(
    ob_schema: dict[str, Any], signed_credential: dict[str, Any]
) -> None:
    assert errors(ob_schema, signed_credential) == []
    assert isinstance(signed_credential["proof"], list)


def test_unsigned_credential_validates_too(ob_schema: dict[str, Any]) -> None:
    assert errors(ob_schema, sample_credential()) == []


def test_signed_credential_verifies(signed_credential: dict[str, Any], resolver: Resolver) -> None:
    result = verify(signed_credential, resolver)
    assert result.ok, result.reason
    assert (result.verification_method, result.created) == (KEY_ID, CREATED)


def test_credential_shape() -> None:
    credential = sample_credential(subject_id="did:example:aigul")
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": ISSUER_URL,
        "type": ["Profile"],
        "name": "Мадраса окуу борбору",
    }
    assert credential["validFrom"] == "2024-05-17T09:30:00Z"
    subject = credential["credentialSubject"]
    assert subject["id"] == "did:example:aigul"
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityHash": "Айгүл Асанова",
            "identityType": "name",
            "hashed": False,
        }
    ]
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["inLanguage"] == "ky"
    assert credential["name"] == achievement["name"]
    assert credential["credentialStatus"]["statusListIndex"] == "42"


def test_valid_from_is_converted_to_utc() -> None:
    bishkek = timezone(timedelta(hours=6))
    credential = sample_credential(valid_from=datetime(2024, 5, 17, 6, 0, tzinfo=bishkek))
    assert credential["validFrom"] == "2024-05-17T00:00:00Z"


@pytest.mark.parametrize(
    "overrides",
    [
        {"valid_from": datetime(2024, 5, 17, 9, 30)},  # naive: zone unknown
        {"language": "Kyrgyz"},
        {"language": "KY"},
        {"achievement_type": "Diploma"},
        {"recipient_name": "  "},
        {"achievement_description": ""},
        {"credential_status": "revoked"},
    ],
)
def test_build_credential_refuses_bad_arguments(overrides: dict[str, Any]) -> None:
    with pytest.raises(CredentialError):
        sample_credential(**overrides)


# --- negative schema tests from the conformance README --------------------------------------


def test_schema_rejects_a_credential_without_valid_from(
    ob_schema: dict[str, Any], signed_credential: dict[str, Any]
) -> None:
    credential = copy.deepcopy(signed_credential)
    del credential["validFrom"]
    credential["issuanceDate"] = "2024-05-17T09:30:00Z"
    assert "'validFrom' is a required property" in errors(ob_schema, credential)


def test_schema_rejects_the_vc_1_1_context(
    ob_schema: dict[str, Any], signed_credential: dict[str, Any]
) -> None:
    credential = copy.deepcopy(signed_credential)
    credential["@context"][0] = "https://www.w3.org/2018/credentials/v1"
    assert errors(ob_schema, credential)


@pytest.mark.parametrize("types", [["VerifiableCredential"], ["VerifiableCredential", "Badge"]])
def test_schema_rejects_a_type_without_open_badge_credential(
    ob_schema: dict[str, Any], signed_credential: dict[str, Any], types: list[str]
) -> None:
    credential = copy.deepcopy(signed_credential)
    credential["type"] = types
    assert errors(ob_schema, credential)


def test_schema_enforces_date_time_format(
    ob_schema: dict[str, Any], signed_credential: dict[str, Any]
) -> None:
    credential = copy.deepcopy(signed_credential)
    credential["validFrom"] = "17.05.2024"
    assert "'17.05.2024' is not a 'date-time'" in errors(ob_schema, credential)


def test_schema_rejects_a_proof_object_which_is_why_we_sign_with_a_list(
    ob_schema: dict[str, Any], issuer_key: Ed25519PrivateKey
) -> None:
    credential = sign(sample_credential(), issuer_key, verification_method=KEY_ID, created=CREATED)
    assert errors(ob_schema, credential)


# --- the status list credential -------------------------------------------------------------


def signed_status_list(issuer_key: Ed25519PrivateKey, revoked: tuple[int, ...]) -> dict[str, Any]:
    bits = StatusBits()
    for index in revoked:
        bits.set(index, True)
    unsigned = status_list_credential(
        list_url=LIST_URL,
        issuer=issuer_profile(issuer_url=ISSUER_URL, issuer_name="Мадраса окуу борбору"),
        encoded_list=bits.encode(),
        valid_from=CREATED,
    )
    return sign(unsigned, issuer_key, verification_method=KEY_ID, created=CREATED)


def test_status_list_credential_shape_and_proof(
    issuer_key: Ed25519PrivateKey, resolver: Resolver
) -> None:
    credential = signed_status_list(issuer_key, (42,))
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == LIST_URL
    subject = credential["credentialSubject"]
    assert subject["id"] == LIST_URL + "#list"
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert verify(credential, resolver).ok


def test_status_of_reads_the_credentials_bit(issuer_key: Ed25519PrivateKey) -> None:
    entry = sample_credential()["credentialStatus"]
    assert status_of(entry, signed_status_list(issuer_key, (42,))) is True
    assert status_of(entry, signed_status_list(issuer_key, (41, 43))) is False


@pytest.mark.parametrize(
    "change",
    [
        {"statusListCredential": "https://elsewhere.example/status/1"},
        {"statusPurpose": "suspension"},
        {"statusListIndex": "4x"},
        {"statusListIndex": 42},
        {"statusListIndex": "999999999"},
        {"type": "StatusList2021Entry"},
    ],
)
def test_status_of_refuses_mismatched_entries(
    issuer_key: Ed25519PrivateKey, change: dict[str, Any]
) -> None:
    entry = {**sample_credential()["credentialStatus"], **change}
    with pytest.raises(CredentialError):
        status_of(entry, signed_status_list(issuer_key, (42,)))


def test_explicit_achievement_type_and_credential_name() -> None:
    credential = build_credential(
        credential_id="https://lms.example.kg/verify/X.json",
        issuer_url=ISSUER_URL,
        issuer_name="Madrasa LMS",
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
        recipient_name="Aigul Asanova",
        achievement_id="https://lms.example.kg/achievements/health",
        achievement_name="Health Basics",
        achievement_description="Completed the Health Basics course.",
        criteria_narrative="Attended all lessons.",
        language="en",
        credential_status={"id": LIST_URL + "#1", "type": "BitstringStatusListEntry"},
        credential_name="Certificate: Health Basics",
        achievement_type="Certificate",
    )
    assert credential["name"] == "Certificate: Health Basics"
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    assert "id" not in credential["credentialSubject"]
