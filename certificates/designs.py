"""The registry of certificate designs, filled through ``register_certificate_templates``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.plugins import PluginError

KINDS = {
    "tot-completion": _l("Training of Trainers completed"),
    "course-completion": _l("Course completed"),
    "graduate": _l("One-year course graduate"),
}


@dataclass(frozen=True)
class CertificateTemplate:
    """A certificate design: a Jinja template rendered to an A4 landscape PDF."""

    id: str
    label: Any
    kind: str
    template: str
    languages: tuple[str, ...] = ("en", "ru", "ky")


@dataclass(frozen=True)
class SampleCertificate:
    """Invented data for previews, so a design can be checked before anyone is issued one."""

    recipient_name: str = "Айгүл Токтосунова"
    achievement: Any = field(default_factory=lambda: _l("Training of Trainers: Health Basics"))
    cohort_name: str = "ToT: Health Basics, Osh (sample)"
    issued_on: date = date(2026, 9, 16)
    serial: str = "OSH-2026-000123"
    verification_url: str = "https://lms.example/verify/SAMPLE"
    issuer: Any = field(default_factory=lambda: _l("Madrasa LMS (sample issuer)"))


def all_templates() -> dict[str, CertificateTemplate]:
    """Every registered design by id; two packages registering one id is an error."""
    pm = current_app.extensions["lms"].pm
    found: dict[str, CertificateTemplate] = {}
    for result in pm.hook.register_certificate_templates():
        for design in result or ():
            if design.id in found:
                raise PluginError(f"two packages register the certificate design {design.id!r}")
            if design.kind not in KINDS:
                raise PluginError(
                    f"certificate design {design.id!r} has unknown kind {design.kind!r}"
                )
            found[design.id] = design
    return found
