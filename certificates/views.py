"""Pages of the certificates plugin: the gallery of designs and their sample previews.

Other view modules of the plugin register their routes on the same ``bp``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from certificates.designs import KINDS, all_templates
from certificates.printed import PrintedCertificate
from certificates.render import render_certificate
from lms.accounts.permissions import permission_required
from lms.config import LANGUAGES
from lms.errors import NotFound

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates")


@bp.get("/designs/")
@permission_required("certificates.templates")
def designs() -> Any:
    """The certificate designs every package registered, with a preview per language."""
    return render_template(
        "certificates/designs.html", designs=all_templates().values(), kinds=KINDS
    )


@bp.get("/designs/<design_id>/preview.pdf")
@permission_required("certificates.templates")
def preview(design_id: str) -> Any:
    """A design filled in with invented data (marked SAMPLE), in the language asked for."""
    design = all_templates().get(design_id)
    language = request.args.get("lang", design.languages[0] if design else "en")
    if design is None or language not in LANGUAGES or language not in design.languages:
        raise NotFound()
    sample = PrintedCertificate.sample_data(language)
    pdf = render_certificate(sample, design, qr_payload=sample.verification_url)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{design.id}-{language}-sample.pdf"'},
    )
