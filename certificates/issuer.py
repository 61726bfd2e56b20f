"""The issuer: its name and its public profile, which lists every signing key ever used.

Verifiers resolve a credential's verification method (``…/certificates/issuer#key-2``)
through this profile, so retired keys stay in it for good.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

from certificates.addresses import issuer_url, key_url, public_url
from certificates.keys import published_keys
from certificates.printed import Localized, pick

DEFAULT_ISSUER_NAME: Localized = {"en": "Madrasa LMS", "ru": "Madrasa LMS", "ky": "Madrasa LMS"}


def issuer_names() -> Localized:
    """The issuer's name per language, from ``LMS_CERTIFICATES_ISSUER_NAME``.

    The setting is either plain text (one name for every language) or a JSON object such as
    ``{"en": "…", "ru": "…", "ky": "…"}``.
    """
    raw = current_app.config.get("CERTIFICATES_ISSUER_NAME") or DEFAULT_ISSUER_NAME
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        raw = parsed if isinstance(parsed, dict) else {"en": str(parsed)}
    names = {str(k): str(v) for k, v in dict(raw).items() if v}
    english = names.get("en") or next(iter(names.values()), DEFAULT_ISSUER_NAME["en"])
    return {lang: names.get(lang) or english for lang in ("en", "ru", "ky")}


def issuer_name(language: str) -> str:
    return pick(issuer_names(), language)


def issuer_profile_summary(language: str = "en") -> dict[str, Any]:
    """The issuer as embedded in credentials: an Open Badges ``Profile``."""
    return {
        "id": issuer_url(),
        "type": ["Profile"],
        "name": issuer_name(language),
        "url": public_url(),
    }


def issuer_profile() -> dict[str, Any]:
    """The public profile document, with every key as a ``Multikey`` verification method."""
    keys = published_keys()
    methods = [
        {
            "id": key_url(key.key_id),
            "type": "Multikey",
            "controller": issuer_url(),
            "publicKeyMultibase": key.public_multikey,
        }
        for key in keys
    ]
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        **issuer_profile_summary(),
        "verificationMethod": methods,
        # Retired keys no longer sign, but what they signed stays verifiable.
        "assertionMethod": [method["id"] for method in methods],
    }
