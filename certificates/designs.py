"""The registry of certificate designs, filled through ``register_certificate_templates``."""

from __future__ import annotations

from dataclasses import dataclass
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
    """A certificate design: a Jinja template rendered to an A4 landscape PDF.

    ``template`` and ``stylesheet`` are names the app's Jinja loader resolves, so a package
    ships both in its own ``templates/`` folder. The stylesheet is kept apart from the HTML
    (no ``<style>`` block) because parsing CSS is a large part of a render: the renderer
    parses it once per process and reuses it for every certificate.
    """

    id: str
    label: Any
    kind: str
    template: str
    languages: tuple[str, ...] = ("en", "ru", "ky")
    #: The design's CSS, a template name like "certificates/pdf/classic.css" (None: no CSS).
    stylesheet: str | None = None
    #: A bilingual design also prints its texts in this language, after the issued one.
    second_language: str | None = None


#: The designs the certificates plugin ships; other packages add theirs through the hook.
BUILTIN_DESIGNS: tuple[CertificateTemplate, ...] = (
    CertificateTemplate(
        id="tot-completion",
        label=_l("Training of Trainers completion"),
        kind="tot-completion",
        template="certificates/pdf/tot_completion.html",
        stylesheet="certificates/pdf/certificate.css",
    ),
    CertificateTemplate(
        id="course-completion",
        label=_l("Course completion"),
        kind="course-completion",
        template="certificates/pdf/course_completion.html",
        stylesheet="certificates/pdf/certificate.css",
    ),
    CertificateTemplate(
        id="graduate",
        label=_l("One-year course graduate"),
        kind="graduate",
        template="certificates/pdf/graduate.html",
        stylesheet="certificates/pdf/certificate.css",
    ),
    CertificateTemplate(
        id="tot-completion-ky-ru",
        label=_l("Training of Trainers completion, Kyrgyz and Russian"),
        kind="tot-completion",
        template="certificates/pdf/tot_completion_bilingual.html",
        languages=("ky",),
        stylesheet="certificates/pdf/certificate.css",
        second_language="ru",
    ),
)


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
