"""Pages of the lessons plugin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

from lessons.services import groups_led_by
from lms.accounts.permissions import permission_required

bp = Blueprint("lessons", __name__, url_prefix="/lessons", template_folder="templates")


@bp.get("/")
@permission_required("lessons.teach")
def index() -> Any:
    """The classes and ToT cohorts the user teaches, with learners counted by sex, each
    linked to its schedule (once that page exists) and its progress grid."""
    return render_template(
        "lessons/index.html",
        groups=groups_led_by(current_user),
    )
