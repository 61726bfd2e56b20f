"""Cohort pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from lms.accounts.permissions import permission_required

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")


@bp.get("/")
@permission_required("cohorts.view")
def index() -> Any:
    return render_template("lms/cohorts/index.html")
