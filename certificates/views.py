"""Pages of the certificates plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("certificates", __name__, url_prefix="/certificates", template_folder="templates")


@bp.get("/")
def index() -> Any:
    return render_template("certificates/index.html")
