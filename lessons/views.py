"""Pages of the lessons plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("lessons", __name__, url_prefix="/lessons", template_folder="templates")


@bp.get("/")
def index() -> Any:
    return render_template("lessons/index.html")
