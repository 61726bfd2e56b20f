"""The certificates plugin's part of the OpenAPI document.

``/api/v1/certificates`` is for a logged-in graduate; ``/verify/{code}.json`` is public (no
log-in: ``security: []``), so anyone's program can check a certificate.
"""

from __future__ import annotations

from typing import Any

from certificates.models import STATUSES
from lms.api import error_responses, schema_ref

PREFIX = "/api/v1/certificates"
TAG = "certificates"

STATUS = {
    "type": "string",
    "enum": list(STATUSES),
    "description": "`valid`; `revoked` (see the reason); `replaced` by a corrected one.",
}

SCHEMAS: dict[str, Any] = {
    "CertificatesCertificate": {
        "type": "object",
        "required": ["id", "serial", "status", "name", "achievement", "issuedOn"],
        "properties": {
            "id": {"type": "integer"},
            "serial": {"type": "string", "examples": ["OSH-2026-000123"]},
            "status": STATUS,
            "name": {"type": "string", "description": "The name as printed."},
            "achievement": {"type": "string"},
            "cohort": {"type": "string"},
            "language": {"type": "string", "enum": ["en", "ru", "ky"]},
            "issuedOn": {"type": "string", "format": "date"},
            "verificationUrl": {"type": "string", "format": "uri"},
            "pdfUrl": {"type": "string", "description": "Download of the stored PDF."},
            "credential": {
                "type": "object",
                "description": "The signed Open Badges 3.0 credential (eddsa-jcs-2022 proof).",
            },
        },
    },
    "CertificatesCertificateList": {
        "type": "object",
        "required": ["certificates"],
        "properties": {
            "certificates": {"type": "array", "items": schema_ref("CertificatesCertificate")}
        },
    },
    "CertificatesPublicStatus": {
        "type": "object",
        "required": ["status", "serial", "name", "achievement", "issuer", "issuedOn"],
        "properties": {
            "status": STATUS,
            "serial": {"type": "string"},
            "name": {"type": "string", "description": "The name as printed."},
            "achievement": {"type": "string"},
            "description": {"type": "string"},
            "issuer": {"type": "string"},
            "issuedOn": {"type": "string", "format": "date"},
            "language": {"type": "string"},
            "verificationUrl": {"type": "string", "format": "uri"},
            "revokedOn": {"type": ["string", "null"], "format": "date"},
            "revocationReason": {"type": "string"},
            "replacedBy": {"type": "string", "format": "uri"},
            "credential": {"type": "object"},
        },
    },
}

PATHS: dict[str, Any] = {
    PREFIX: {
        "get": {
            "tags": [TAG],
            "operationId": "listMyCertificates",
            "summary": "The logged-in person's certificates",
            "responses": {
                "200": {
                    "description": "Newest first.",
                    "content": {
                        "application/json": {"schema": schema_ref("CertificatesCertificateList")}
                    },
                },
                **error_responses("401"),
            },
        }
    },
    f"{PREFIX}/{{certificate_id}}": {
        "get": {
            "tags": [TAG],
            "operationId": "getCertificate",
            "summary": "One certificate with its signed credential",
            "description": "Its recipient, the cohort's trainers and teachers, monitoring "
            "officers of its region and administrators may read it; for anyone else it does "
            "not exist (404).",
            "parameters": [
                {
                    "name": "certificate_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                "200": {
                    "description": "The certificate.",
                    "content": {
                        "application/json": {"schema": schema_ref("CertificatesCertificate")}
                    },
                },
                **error_responses("401", "404"),
            },
        }
    },
    "/verify/{code}.json": {
        "get": {
            "tags": [TAG],
            "operationId": "verifyCertificate",
            "summary": "Check a certificate (public)",
            "description": "What the certificate prints, its status and its signed credential. "
            "`code` is the verification code printed under the QR code (32 letters and "
            "digits; groups and capitals are accepted). Rate-limited per address.",
            "security": [],
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "The certificate's public status.",
                    "content": {
                        "application/json": {"schema": schema_ref("CertificatesPublicStatus")}
                    },
                },
                **error_responses("404"),
                "429": {"description": "Too many checks from this address; wait a minute."},
            },
        }
    },
}


def fragment() -> dict[str, Any]:
    return {
        "paths": PATHS,
        "schemas": SCHEMAS,
        "tags": [{"name": TAG, "description": "Certificates and their public check."}],
    }
