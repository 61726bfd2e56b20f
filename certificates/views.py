"""Pages of the certificates plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import force_locale

from certificates.designs import KINDS, SampleCertificate, all_templates
from certificates.render import html_to_pdf
from lms.accounts.permissions import permission_required
from lms.config import LANGUAGES
from lms.errors import NotFound

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates")


@bp.get("/")
@permission_required("certificates.templates")
def index() -> Any:
    """The certificate designs every package registered, with a preview per language."""
    return render_template("certificates/index.html", designs=all_templates().values(), kinds=KINDS)


@bp.get("/designs/<design_id>/preview.pdf")
@permission_required("certificates.templates")
def preview(design_id: str) -> Any:
    """A design rendered with invented data, in the language asked for."""
    design = all_templates().get(design_id)
    language = request.args.get("lang", "en")
    if design is None or language not in LANGUAGES or language not in design.languages:
        raise NotFound()
    with force_locale(language):
        html = render_template(
            design.template,
            certificate=SampleCertificate(),
            design=design,
            kinds=KINDS,
            lang=language,
        )
    pdf = html_to_pdf(html)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{design.id}-{language}-preview.pdf"'},
    )
