"""Pages of the quizzes plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes", template_folder="templates")


@bp.get("/")
def index() -> Any:
    return render_template("quizzes/index.html")
