"""Core pages: the home page, the language switch, job progress and a health check."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select, text

from lms.accounts.permissions import can, has_role
from lms.accounts.roles import ADMIN
from lms.config import LANGUAGES
from lms.errors import Invalid, NotFound
from lms.extensions import db
from lms.jobs import Job, JobFile, job_file
from lms.urls import safe_next

bp = Blueprint("lms", __name__)


@bp.get("/")
def home() -> Any:
    """Everyone lands here: visitors see what this is; users see the panels for their roles."""
    if not current_user.is_authenticated:
        return render_template("lms/welcome.html")
    panels = []
    for panel in current_app.extensions["lms"].registries.panels:
        if panel.permission is None or can(current_user, panel.permission):
            html = panel.render(current_user)
            if html.strip():  # a panel with nothing to say for this user is left out
                panels.append((panel, Markup(html)))  # nosec B704  # a plugin's panel rendered by its own autoescaped template
    return render_template("lms/home.html", panels=panels)


@bp.post("/language")
def set_language() -> Any:
    """Switch the interface language; remembered on the account when logged in."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        raise Invalid()
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.preferred_language = lang
        db.session.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.get("/jobs/<job_id>")
@login_required
def job(job_id: str) -> Any:
    """A job's progress; the page refreshes itself (no JavaScript) until the job ends."""
    found = _visible_job(job_id)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return jsonify(job_json(found))
    files = db.session.execute(
        select(JobFile.name, JobFile.size).where(JobFile.job_id == found.id).order_by(JobFile.id)
    ).all()
    return render_template("lms/job.html", job=found, files=files)


@bp.get("/jobs/<job_id>/files/<path:name>")
@login_required
def job_download(job_id: str, name: str) -> Any:
    """A file the job produced, for whoever started the job (or an administrator)."""
    found = _visible_job(job_id)
    stored = job_file(found.id, name)
    if stored is None:
        raise NotFound()
    return Response(
        stored.data,
        mimetype=stored.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{stored.name}"'},
    )


@bp.get("/jobs/<job_id>.json")
@login_required
def job_status(job_id: str) -> Any:
    return jsonify(job_json(_visible_job(job_id)))


def _visible_job(job_id: str) -> Job:
    found = db.session.get(Job, job_id)
    if found is None or (
        found.created_by_id != current_user.id and not has_role(current_user, ADMIN)
    ):
        raise NotFound()
    return found


def job_json(found: Job) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "status": found.status,
        "done": found.done,
        "total": found.total,
        "percent": found.percent,
        "message": found.message,
        "result": found.result,
    }


@bp.get("/healthz")
def health() -> Any:
    """For load balancers and monitoring: the app answers and the database does."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
