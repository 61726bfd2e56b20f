"""Region and madrasa pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from lms.accounts.permissions import permission_required

bp = Blueprint("organisations", __name__, url_prefix="/madrasas")


@bp.get("/")
@permission_required("organisations.view")
def madrasas() -> Any:
    return render_template("lms/organisations/madrasas.html")
