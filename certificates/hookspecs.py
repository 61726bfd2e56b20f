"""Hooks the certificates plugin adds, for any package that ships certificate designs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from certificates.designs import CertificateTemplate

hookspec = pluggy.HookspecMarker("lms")


@hookspec
def register_certificate_templates() -> Iterable[CertificateTemplate]:
    """Return certificate designs (``certificates.designs.CertificateTemplate``).

    Called when the certificates plugin lists or renders designs. Each has a stable id and
    names a Jinja template and stylesheet (HTML + CSS rendered by WeasyPrint, one A4
    landscape page) that receives ``certificate`` (a ``PrintedCertificate``: what was frozen
    at issuance), ``design``, ``lang``, ``qr_image`` and the helpers docs/plugins.md lists.
    Ids are unique across packages.
    """
