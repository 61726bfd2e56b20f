"""Certificates, the keys that sign them and the lists that publish their status.

An issued certificate is frozen: what it prints (``printed``), its signed credential, its
compact signed token and, once rendered, its PDF are stored and never made again from
changed data. A correction issues a new certificate that ``replaces`` the old one; the old
one then verifies as replaced. Races are decided by the database: a partial unique index
allows one valid certificate per person and cohort, serial numbers and status-list slots are
taken by atomic ``UPDATE … RETURNING``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.extensions import db
from lms.timeutil import utcnow

VALID, REVOKED, REPLACED = "valid", "revoked", "replaced"
STATUSES = (VALID, REVOKED, REPLACED)

#: Certificates are issued either because the cohort's completion rule says the person
#: completed it, or by hand by an administrator who gives a reason.
BASIS_COMPLETION, BASIS_MANUAL, BASIS_REISSUE = "completion", "manual", "reissue"


class SigningKey(db.Model):
    """An Ed25519 key of the issuer. One is active; retired ones stay published forever so
    certificates they signed still verify."""

    __tablename__ = "certificates_signing_key"
    __table_args__ = (
        Index(
            "uq_certificates_signing_key_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The fragment naming the key in the issuer profile: ``…/issuer#key-3``.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_multikey: Mapped[str] = mapped_column(String(64))
    #: The 32-byte private seed, encrypted (AES-GCM) under a key derived from the secret key.
    private_seed: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class StatusList(db.Model):
    """A W3C Bitstring Status List: one bit per certificate, set when it is no longer valid.

    The signed list credential is kept with the bits and re-signed in the transaction that
    changes a bit, so what is published always matches the certificates.
    """

    __tablename__ = "certificates_status_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), default="revocation")
    size: Mapped[int] = mapped_column(default=131_072)
    #: How many slots have been handed out (taken by an atomic update).
    allocated: Mapped[int] = mapped_column(default=0)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    #: The signed BitstringStatusListCredential (JSON text, exactly as published).
    credential: Mapped[str] = mapped_column(Text, default="")
    #: The same list as a compact signed token, for the offline verifier on phones.
    token: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SerialCounter(db.Model):
    """The last serial number used per prefix (region) and year: ``OSH-2026-000123``."""

    __tablename__ = "certificates_serial_counter"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class CohortDesign(db.Model):
    """The design and language a cohort's certificates are issued in."""

    __tablename__ = "certificates_cohort_design"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    design_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )


class Certificate(db.Model):
    """One certificate issued to one person for one cohort, frozen when issued."""

    __tablename__ = "certificates_certificate"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'revoked', 'replaced')", name="status"),
        CheckConstraint("basis IN ('completion', 'manual', 'reissue')", name="basis"),
        UniqueConstraint("status_list_id", "status_index"),
        # One valid certificate per person and cohort, whoever issues it at the same time.
        Index(
            "uq_certificates_certificate_one_valid",
            "cohort_id",
            "recipient_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
        Index("ix_certificates_certificate_cohort_status", "cohort_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    #: 160 random bits (base32), the public id in the verification URL and QR code.
    verification_id: Mapped[str] = mapped_column(String(40), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("lms_cohort.id"))
    design_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    name_as_printed: Mapped[str] = mapped_column(String(300))
    #: Everything the certificate prints (``PrintedCertificate.to_json()``), frozen.
    printed: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=VALID)
    basis: Mapped[str] = mapped_column(String(16), default=BASIS_COMPLETION)
    #: Why it was issued by hand, or why it was reissued (for administrators, not printed).
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates_certificate.id"), unique=True
    )
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    #: Shown on the public verification page.
    revocation_reason: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(32))
    status_list_id: Mapped[int] = mapped_column(ForeignKey("certificates_status_list.id"))
    status_index: Mapped[int]
    #: The signed Open Badges 3.0 credential, exactly as issued (JSON text).
    credential: Mapped[str] = mapped_column(Text)
    #: The compact signed form carried by the QR code.
    token: Mapped[str] = mapped_column(Text)
    #: The job that renders this certificate's PDF, when issued in a batch.
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    cohort: Mapped[Cohort] = relationship()
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id]
    )

    @property
    def is_valid(self) -> bool:
        return self.status == VALID

    @property
    def rendered(self) -> bool:
        return self.pdf_sha256 is not None
