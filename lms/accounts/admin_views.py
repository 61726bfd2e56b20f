"""Admin pages for user accounts and roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from lms.accounts.permissions import permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required("admin.users")
def users() -> Any:
    return render_template("lms/admin/users.html")
