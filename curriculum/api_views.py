"""The curriculum's JSON API, under ``/api/v1/curriculum`` (described in curriculum/openapi.py).

Read-only: the manuals, their published editions (what teachers teach from) and, for the
curriculum team, module versions with their review state and word-level diffs. It uses the
same permission checks as the pages; errors answer JSON (see lms/errors.py and lms/api.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select

from curriculum import editions, review, translations, versions
from curriculum.content import LANGUAGES, Block, parse_blocks
from curriculum.diff import diff_blocks
from curriculum.models import EditionEntry, Manual, ModuleVersion
from curriculum.render import render_block
from curriculum.services import get_manual, list_manuals
from lms.accounts.permissions import can, require
from lms.errors import Invalid, NotAllowed, NotFound
from lms.extensions import db

api_bp = Blueprint("curriculum_api", __name__, url_prefix="/api/v1/curriculum")


# --- routes ------------------------------------------------------------------------------


@api_bp.get("/manuals")
@login_required
def manuals() -> ResponseReturnValue:
    """The manuals the user may read (a scoped reader sees only theirs)."""
    require("curriculum.view")
    visible = [m for m in list_manuals() if can(current_user, "curriculum.view", m)]
    return jsonify({"manuals": [manual_json(m) for m in visible]})


@api_bp.get("/manuals/<slug>/editions")
@login_required
def manual_editions(slug: str) -> ResponseReturnValue:
    """A manual's published editions, newest first per language; ``?language=`` narrows."""
    manual = _readable_manual(slug)
    language = request.args.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise Invalid()
    found = editions.editions_of(manual, language)
    counts = _module_counts([edition.id for edition in found])
    return jsonify(
        {
            "manual": manual.slug,
            "editions": [
                {
                    "language": edition.language,
                    "number": edition.number,
                    "published_at": _iso(edition.published_at),
                    "notes": edition.notes,
                    "module_count": counts.get(edition.id, 0),
                }
                for edition in found
            ],
        }
    )


@api_bp.get("/manuals/<slug>/editions/<language>/<int:number>")
@login_required
def edition(slug: str, language: str, number: int) -> ResponseReturnValue:
    """One edition with its frozen module versions, in order, and who signed each off."""
    manual = _readable_manual(slug)
    found = editions.get_edition(manual, language, number)  # entries and versions in one go
    signed = {(s["module"], s["version"]): s.get("seats", []) for s in found.signatories or ()}
    modules = []
    for entry in found.entries:
        version = entry.version
        modules.append(
            {
                "slug": version.module.slug,
                "position": entry.position,
                "version": version.number,
                "version_id": version.id,
                "content_hash": version.content_hash,
                "title": version.title,
                "objectives": list(version.meta.get("objectives", [])),
                "duration_minutes": version.meta.get("duration_minutes"),
                "blocks": blocks_json(parse_blocks(version.body)),
                "signatories": [
                    _signatory_json(seat)
                    for seat in signed.get((version.module.slug, version.number), [])
                ],
            }
        )
    return jsonify(
        {
            "manual": manual.slug,
            "language": found.language,
            "number": found.number,
            "published_at": _iso(found.published_at),
            "notes": found.notes,
            "modules": modules,
        }
    )


@api_bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int) -> ResponseReturnValue:
    """A module version as the review page shows it: text, review state, translation state."""
    found = _workbench_version(version_id)
    return jsonify(version_json(found))


@api_bp.get("/versions/<int:version_id>/diff")
@login_required
def version_diff(version_id: int) -> ResponseReturnValue:
    """Word-level changes from ``?against=`` (default: the version it was edited from)."""
    found = _workbench_version(version_id)
    if "against" in request.args:
        against_id = request.args.get("against", type=int)
        if against_id is None:
            raise Invalid()
    else:
        against_id = found.based_on_id
        if against_id is None:
            raise Invalid()
    other = db.session.get(ModuleVersion, against_id)
    if other is None or other.module_id != found.module_id:
        raise NotFound()
    comparison = diff_blocks(parse_blocks(other.body), parse_blocks(found.body))
    return jsonify(
        {
            "version": found.id,
            "against": other.id,
            "summary": comparison.summary(),
            "blocks": [
                {
                    "id": item.id,
                    "status": item.status,
                    "ops": [{"tag": op.tag, "old": op.old, "new": op.new} for op in item.ops],
                }
                for item in comparison
            ],
        }
    )


# --- checks ------------------------------------------------------------------------------


def _readable_manual(slug: str) -> Manual:
    manual = get_manual(slug)
    if manual is None:
        raise NotFound()
    require("curriculum.view", manual)
    return manual


def _workbench_version(version_id: int) -> ModuleVersion:
    """Versions (drafts, reviews) are for the curriculum team, as on the pages."""
    found = versions.get_version(version_id)
    manual = found.module.manual
    if not (
        can(current_user, "curriculum.edit", manual)
        or can(current_user, "curriculum.review", manual)
    ):
        raise NotAllowed()
    return found


def _module_counts(edition_ids: list[int]) -> dict[int, int]:
    """Modules per edition in one grouped query, not one per edition."""
    if not edition_ids:
        return {}
    rows = db.session.execute(
        select(EditionEntry.edition_id, func.count(EditionEntry.id))
        .where(EditionEntry.edition_id.in_(edition_ids))
        .group_by(EditionEntry.edition_id)
    )
    return {edition_id: count for edition_id, count in rows}


# --- shapes ------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    """Columns hold naive UTC; clients get it with its offset."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat() if moment.tzinfo is None else moment.isoformat()


def manual_json(manual: Manual) -> dict[str, Any]:
    return {
        "slug": manual.slug,
        "titles": {"en": manual.title_en, "ru": manual.title_ru, "ky": manual.title_ky},
        "description": manual.description,
    }


def blocks_json(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [
        {
            "id": block.id,
            "kind": block.kind,
            "activity": block.activity,
            "text": block.text,
            "html": str(render_block(block)),
        }
        for block in blocks
    ]


def _signatory_json(seat: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": seat.get("name", ""),
        "domain": seat.get("domain", ""),
        "decision": seat.get("decision", ""),
        "reservation": seat.get("reservation", ""),
        "date": seat.get("date"),
    }


def version_json(found: ModuleVersion) -> dict[str, Any]:
    """Drafts carry no decisions (as on the review page): they are not under review yet."""
    meta = found.meta or {}
    decisions: list[dict[str, Any]] = []
    approved = False
    policy = None
    if not found.is_draft:
        status = review.approval_status(found)
        approved, policy = status.approved, status.policy
        seats = {seat.id: seat for seat in status.seats}
        for seat_id, decision in status.decisions.items():
            seat = seats[seat_id]
            decisions.append(
                {
                    "seat": seat.user.name,
                    "domain": seat.domain,
                    "decision": decision.decision,
                    "reasons": decision.reasons,
                    "decided_at": _iso(decision.created_at),
                }
            )
    state = translations.freshness(found)
    return {
        "id": found.id,
        "manual": found.module.manual.slug,
        "module": {"slug": found.module.slug, "position": found.module.position},
        "language": found.language,
        "number": found.number,
        "status": found.status,
        "title": found.title,
        "objectives": list(meta.get("objectives", [])),
        "duration_minutes": meta.get("duration_minutes"),
        "methods": list(meta.get("methods", [])),
        "materials": list(meta.get("materials", [])),
        "content_hash": found.content_hash,
        "change_summary": found.change_summary,
        "author": found.author.name if found.author else None,
        "created_at": _iso(found.created_at),
        "submitted_at": _iso(found.submitted_at),
        "approved": approved,
        "approved_at": _iso(found.approved_at),
        "policy": policy,
        "decisions": decisions,
        "based_on": found.based_on_id,
        "translates": None
        if state is None
        else {
            "id": state.source.id,
            "language": state.source.language,
            "number": state.source.number,
            "content_hash": state.source.content_hash,
            "stale": state.stale,
            "newest_source": state.newest_source.id if state.newest_source else None,
        },
        "blocks": blocks_json(parse_blocks(found.body)),
    }
