"""The curriculum plugin's one blueprint; the views modules add their routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "curriculum",
    __name__,
    url_prefix="/curriculum",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
