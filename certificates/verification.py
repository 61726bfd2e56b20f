"""Checking certificates: the public status of a verification code, and the signature of
anything a certificate carries (the PDF, its credential, the QR code's token).

The public page shows what the certificate prints and its status, nothing more. The
signature checks need no server: the keys come from the issuer profile (or this
installation's database), and the status from the signed status list.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from certificates.credentials import (
    CredentialError,
    StatusBits,
    check_certificate_claims,
    load_public_multikey,
    verify,
    verify_compact,
)
from certificates.keys import public_keys_by_id
from certificates.models import REPLACED, REVOKED, VALID, Certificate, StatusList
from certificates.printed import PrintedCertificate
from lms.extensions import db

#: 32 letters and digits of RFC 4648 base32, as ``new_verification_id`` makes them.
CODE = re.compile(r"[a-z2-7]{32}")
ISSUER_PATH = "/certificates/issuer"


def normalise_code(text: str | None) -> str | None:
    """The verification id in whatever form a person types or pastes it, or None.

    Accepts the id, the id in groups (``abcd-efgh-…``), upper case, and the full or short
    address (with or without a ``#t=`` token or ``.json``).
    """
    if not text:
        return None
    value = text.strip().lower().split("#", 1)[0].split("?", 1)[0].rstrip("/")
    if "/" in value:
        value = value.rsplit("/", 1)[-1]
    value = value.removesuffix(".json")
    value = re.sub(r"[\s\-–—.]", "", value)
    return value if CODE.fullmatch(value) else None


def find(code: str | None) -> Certificate | None:
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.verification_id == normalised))


@dataclass(frozen=True)
class PublicView:
    """What the public page and JSON show: the printed facts and the status, nothing more."""

    certificate: Certificate
    printed: PrintedCertificate
    replacement: Certificate | None

    @property
    def status(self) -> str:
        return self.certificate.status

    def to_json(self) -> dict[str, Any]:
        certificate, printed = self.certificate, self.printed
        data: dict[str, Any] = {
            "status": certificate.status,
            "serial": printed.serial,
            "name": printed.recipient_name,
            "achievement": printed.text("achievement"),
            "description": printed.text("description"),
            "issuer": printed.text("issuer_name"),
            "issuedOn": printed.issued_on.isoformat(),
            "language": printed.language,
            "verificationUrl": printed.verification_url,
            "credential": json.loads(certificate.credential),
        }
        if certificate.status == REVOKED:
            data["revokedOn"] = (
                certificate.revoked_at.date().isoformat() if certificate.revoked_at else None
            )
            data["revocationReason"] = certificate.revocation_reason
        if self.replacement is not None:
            data["replacedBy"] = self.replacement.printed["verification_url"]
        return data


def public_view(certificate: Certificate) -> PublicView:
    replacement = None
    if certificate.status == REPLACED:
        replacement = db.session.scalar(
            select(Certificate).where(Certificate.replaces_id == certificate.id)
        )
    return PublicView(certificate, PrintedCertificate.from_json(certificate.printed), replacement)


# --- signature checks (command line) --------------------------------------------------------


@dataclass
class Check:
    """One finding: ``ok`` True (passed), False (failed) or None (could not be checked)."""

    what: str
    ok: bool | None
    detail: str = ""


@dataclass
class Report:
    kind: str
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok is not False for check in self.checks)

    def add(self, what: str, ok: bool | None, detail: str = "") -> None:
        self.checks.append(Check(what, ok, detail))


class KeyRing:
    """Public keys by verification method, from an issuer profile or this database."""

    def __init__(self, profile: dict[str, Any] | None = None) -> None:
        self.by_method: dict[str, Ed25519PublicKey] = {}
        self.by_id: dict[str, Ed25519PublicKey] = {}
        if profile is not None:
            for method in profile.get("verificationMethod") or ():
                try:
                    key = load_public_multikey(method.get("publicKeyMultibase"))
                except (CredentialError, AttributeError):
                    continue
                method_id = str(method.get("id", ""))
                self.by_method[method_id] = key
                self.by_id[method_id.rsplit("#", 1)[-1]] = key
        else:
            self.by_id = public_keys_by_id()

    def for_method(self, method: str) -> Ed25519PublicKey | None:
        if method in self.by_method:
            return self.by_method[method]
        base, _, fragment = method.partition("#")
        if base.endswith(ISSUER_PATH) and fragment:
            return self.by_id.get(fragment)
        return None

    def for_kid(self, kid: str) -> Ed25519PublicKey | None:
        return self.by_id.get(kid)


def _plain(text: str) -> str:
    """Text compared without spacing; NFKC undoes the presentation forms Arabic script takes
    in a PDF."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _printed(name: str, text: str) -> bool:
    """Whether ``name`` is in the page's text (right-to-left names may come out reversed)."""
    name = _plain(name)
    return bool(name) and (name in text or name[::-1] in text)


def check_credential(document: Any, keys: KeyRing, report: Report) -> dict[str, Any] | None:
    if not isinstance(document, dict):
        report.add("credential", False, "not a JSON object")
        return None
    result = verify(document, keys.for_method)
    report.add("credential signature (eddsa-jcs-2022)", result.ok, result.reason)
    subject = document.get("credentialSubject")
    if isinstance(subject, dict):
        for identifier in subject.get("identifier") or ():
            if isinstance(identifier, dict) and identifier.get("identityType") == "name":
                report.facts["name"] = str(identifier.get("identityHash", ""))
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            report.facts["achievement"] = str(achievement.get("name", ""))
    report.facts["issued"] = str(document.get("validFrom", ""))
    return document if result.ok else None


def check_token(token: str, keys: KeyRing, report: Report) -> dict[str, Any] | None:
    try:
        claims = check_certificate_claims(verify_compact(token.strip(), keys.for_kid))
    except CredentialError as error:
        report.add("token signature (JWS EdDSA)", False, str(error))
        return None
    report.add("token signature (JWS EdDSA)", True)
    report.facts.setdefault("name", str(claims.get("n", "")))
    report.facts.setdefault("achievement", str(claims.get("a", "")))
    report.facts["serial"] = str(claims.get("s", ""))
    report.facts["verification id"] = str(claims.get("id", ""))
    return claims


def _status_from_database(verification_id: str, report: Report) -> None:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.verification_id == verification_id)
    )
    if certificate is None:
        report.add("status", None, "not issued by this installation")
        return
    status_list = db.session.get(StatusList, certificate.status_list_id)
    revoked_bit = (
        StatusBits.from_bytes(status_list.bits).get(certificate.status_index)
        if status_list is not None
        else None
    )
    if certificate.status == VALID and not revoked_bit:
        report.add("status", True, "valid")
    else:
        detail = certificate.status
        if certificate.status == REVOKED and certificate.revocation_reason:
            detail += f": {certificate.revocation_reason}"
        report.add("status", False, detail)


def check_payload(data: bytes, keys: KeyRing | None = None) -> Report:
    """Check a PDF, a credential (JSON), a QR payload (URL with ``#t=``) or a bare token."""
    keys = keys or KeyRing()
    if data.startswith(b"%PDF"):
        return _check_pdf(data, keys)
    text = data.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        report = Report("credential")
        try:
            document = json.loads(text)
        except ValueError as error:
            report.add("credential", False, f"not valid JSON: {error}")
            return report
        if check_credential(document, keys, report) is not None:
            vid = normalise_code(str(document.get("id", "")))
            if vid:
                _status_from_database(vid, report)
        return report
    report = Report("token")
    token = text.split("#t=", 1)[1] if "#t=" in text else text
    claims = check_token(token, keys, report)
    if claims is not None:
        if "#t=" in text and normalise_code(text) != claims.get("id"):
            report.add("address matches token", False, "the address names another certificate")
        _status_from_database(str(claims.get("id")), report)
    return report


def _check_pdf(data: bytes, keys: KeyRing) -> Report:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    report = Report("pdf")
    try:
        reader = PdfReader(io.BytesIO(data))
        attachments = reader.attachments
        printed_text = _plain(" ".join(page.extract_text() or "" for page in reader.pages))
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        report.add("pdf", False, f"cannot be read: {error}")
        return report
    credential_files = attachments.get("credential.json") or []
    if not credential_files:
        report.add("credential attached", False, "the PDF carries no credential.json")
        return report
    try:
        document = json.loads(credential_files[0])
    except ValueError:
        report.add("credential attached", False, "credential.json is not valid JSON")
        return report
    checked = check_credential(document, keys, report)
    token_files = attachments.get("token.txt") or []
    if token_files:
        check_token(token_files[0].decode("utf-8", errors="replace"), keys, report)
    if checked is not None:
        name = report.facts.get("name", "")
        report.add("printed name is the signed name", _printed(name, printed_text), name)
        vid = normalise_code(str(document.get("id", "")))
        if vid:
            _status_from_database(vid, report)
    return report
