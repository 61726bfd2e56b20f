"""Pages of the curriculum plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("curriculum", __name__, url_prefix="/curriculum", template_folder="templates")


@bp.get("/")
def index() -> Any:
    return render_template("curriculum/index.html")
