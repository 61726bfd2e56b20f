"""Open Badges 3.0 ``OpenBadgeCredential`` for a certificate (VC Data Model 2.0).

A certificate's portable, wallet-friendly form. The shape was chosen against the OB 3.0
JSON schema (``achievementcredential.json``, draft 2019-09) and the OB 3.0 spec:

- ``@context`` is exactly [VC 2.0, OB 3.0.3]; ``validFrom`` (not VC 1.1's ``issuanceDate``);
- the recipient is named, not identified by an account: ``credentialSubject.identifier``
  holds an ``IdentityObject`` with ``identityType: "name"`` and ``hashed: false`` carrying
  the name exactly as printed, so a reader can compare it with the paper;
- the certificate's language is stated once, as ``achievement.inLanguage``; all texts are
  plain strings in that language (the schema requires strings for ``name`` and
  ``description``, which rules out VC 2.0 language maps);
- ``credentialStatus`` points into a Bitstring Status List (see :mod:`.statuslist`).

Sign the result with :func:`.dataintegrity.sign` and ``proof_as_list=True``: the schema
wants ``proof`` to be an array.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .contexts import CREDENTIALS_V2, OPEN_BADGES_V3
from .dataintegrity import format_timestamp
from .errors import CredentialError

#: ``achievementType`` values from the OB 3.0 vocabulary that fit a madrasa-lms certificate.
ACHIEVEMENT_TYPES = frozenset({"Certificate", "CertificateOfCompletion", "Course", "Award"})
DEFAULT_ACHIEVEMENT_TYPE = "CertificateOfCompletion"
# The schema's pattern for ``inLanguage`` (BCP 47 subset: language, script, region).
_LANGUAGE = re.compile(r"[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CredentialError(f"{what} must be a non-empty string")
    return value


def issuer_profile(*, issuer_url: str, issuer_name: str) -> dict[str, Any]:
    """The issuer as an OB ``Profile``; its id is the issuer's public URL."""
    return {
        "id": _text(issuer_url, "issuer_url"),
        "type": ["Profile"],
        "name": _text(issuer_name, "issuer_name"),
    }


def _achievement(
    *,
    achievement_id: str,
    name: str,
    description: str,
    criteria: str,
    achievement_type: str,
    language: str,
) -> dict[str, Any]:
    if achievement_type not in ACHIEVEMENT_TYPES:
        raise CredentialError(f"achievement_type must be one of {sorted(ACHIEVEMENT_TYPES)}")
    if not isinstance(language, str) or _LANGUAGE.fullmatch(language) is None:
        raise CredentialError(f"language must be a tag such as 'ky' or 'ru', not {language!r}")
    return {
        "id": _text(achievement_id, "achievement_id"),
        "type": ["Achievement"],
        "achievementType": achievement_type,
        "name": _text(name, "achievement_name"),
        "description": _text(description, "achievement_description"),
        "criteria": {"narrative": _text(criteria, "criteria_narrative")},
        "inLanguage": language,
    }


def _recipient(name: str, subject_id: str | None) -> dict[str, Any]:
    subject: dict[str, Any] = {}
    if subject_id is not None:
        subject["id"] = _text(subject_id, "subject_id")
    subject["type"] = ["AchievementSubject"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityHash": _text(name, "recipient_name"),
            "identityType": "name",
            "hashed": False,
        }
    ]
    return subject


def build_credential(
    *,
    credential_id: str,
    issuer_url: str,
    issuer_name: str,
    valid_from: datetime,
    recipient_name: str,
    achievement_id: str,
    achievement_name: str,
    achievement_description: str,
    criteria_narrative: str,
    language: str,
    credential_status: dict[str, Any],
    credential_name: str | None = None,
    achievement_type: str = DEFAULT_ACHIEVEMENT_TYPE,
    subject_id: str | None = None,
) -> dict[str, Any]:
    """Build the unsigned ``OpenBadgeCredential`` of one certificate.

    ``credential_id`` is where the credential can be fetched (e.g. the public verification
    URL + ``.json``); ``achievement_id`` identifies what was achieved (the same for every
    graduate of a course); ``credential_status`` comes from :func:`.statuslist.status_entry`;
    ``credential_name`` defaults to the achievement's name; ``subject_id`` is optional
    because most recipients have no DID or wallet.
    """
    if not isinstance(credential_status, dict):
        raise CredentialError("credential_status must be a status list entry")
    subject = _recipient(recipient_name, subject_id)
    subject["achievement"] = _achievement(
        achievement_id=achievement_id,
        name=achievement_name,
        description=achievement_description,
        criteria=criteria_narrative,
        achievement_type=achievement_type,
        language=language,
    )
    return {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": _text(credential_id, "credential_id"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(issuer_url=issuer_url, issuer_name=issuer_name),
        "validFrom": format_timestamp(valid_from),
        "name": _text(credential_name or achievement_name, "credential_name"),
        "credentialSubject": subject,
        "credentialStatus": dict(credential_status),
    }
