"""Modules and their versions: drafts, saving with optimistic locking, submission.

A draft can be edited until it is submitted; then it never changes (an edit makes a new
version). Version numbers are per module and language and unique in the database, so two
editors starting a new version at once get one each or a clear conflict, never a clash.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from curriculum.content import ContentError, ModuleDocument, parse_blocks, parse_module_file
from curriculum.models import DRAFT, SUBMITTED, Manual, Module, ModuleVersion
from lms.audit import services as audit
from lms.errors import Conflict, Invalid, NotFound
from lms.extensions import db
from lms.timeutil import utcnow


def content_error(error: ContentError) -> Invalid:
    """A parse failure as a domain error whose message lists every problem with its line."""
    lines = "; ".join(problem.describe() for problem in error.problems)
    return Invalid(
        _l("The text has problems: %(problems)s", problems=lines),
        field_errors={"text": [problem.describe() for problem in error.problems]},
    )


def document_of(version: ModuleVersion) -> ModuleDocument:
    """The version's front matter and blocks (stored canonical, so parsing cannot fail)."""
    meta = dict(version.meta)
    meta.setdefault("position", version.module.position)
    return ModuleDocument(meta=meta, blocks=parse_blocks(version.body))


def file_text(version: ModuleVersion) -> str:
    """The version as a module file, as export writes it and as the editor edits it."""
    document = document_of(version)
    meta = dict(document.meta)
    if version.translates is not None:
        meta["translation_of"] = version.translates.language
        meta["source_hash"] = version.translates.content_hash
    return ModuleDocument(meta=meta, blocks=document.blocks).serialise()


def get_module(manual: Manual, slug: str) -> Module | None:
    return db.session.scalar(
        select(Module).where(Module.manual_id == manual.id, Module.slug == slug)
    )


def get_or_create_module(manual: Manual, slug: str, position: int) -> Module:
    module = get_module(manual, slug)
    if module is None:
        module = Module(manual_id=manual.id, slug=slug, position=position)
        db.session.add(module)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            module = get_module(manual, slug)
            assert module is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    elif module.position != position:
        module.position = position
    return module


def versions_of(module: Module, language: str | None = None) -> list[ModuleVersion]:
    query = select(ModuleVersion).where(ModuleVersion.module_id == module.id)
    if language:
        query = query.where(ModuleVersion.language == language)
    return list(db.session.scalars(query.order_by(ModuleVersion.language, ModuleVersion.number)))


def latest_version(module_id: int, language: str) -> ModuleVersion | None:
    return db.session.scalar(
        select(ModuleVersion)
        .where(ModuleVersion.module_id == module_id, ModuleVersion.language == language)
        .order_by(ModuleVersion.number.desc())
        .limit(1)
    )


def latest_approved(module_id: int, language: str) -> ModuleVersion | None:
    return db.session.scalar(
        select(ModuleVersion)
        .where(
            ModuleVersion.module_id == module_id,
            ModuleVersion.language == language,
            ModuleVersion.approved_at.is_not(None),
        )
        .order_by(ModuleVersion.number.desc())
        .limit(1)
    )


def get_version(version_id: int) -> ModuleVersion:
    version = db.session.get(ModuleVersion, version_id)
    if version is None:
        raise NotFound()
    return version


def _apply_document(version: ModuleVersion, document: ModuleDocument) -> None:
    meta = {
        k: v
        for k, v in document.meta.items()
        if k not in ("position", "translation_of", "source_hash")
    }
    version.meta = meta
    version.title = meta["title"]
    version.body = document.body
    version.content_hash = document.content_hash
    version.updated_at = utcnow()


def create_draft(
    module: Module,
    document: ModuleDocument,
    *,
    author_id: int | None,
    change_summary: str = "",
    based_on: ModuleVersion | None = None,
    translates: ModuleVersion | None = None,
) -> ModuleVersion:
    """Add the next version of ``module`` in the document's language, as a draft."""
    language = document.meta["language"]
    if translates is not None and translates.language == language:
        raise Invalid(_l("A translation must come from another language."))
    number = (
        db.session.scalar(
            select(func.max(ModuleVersion.number)).where(
                ModuleVersion.module_id == module.id, ModuleVersion.language == language
            )
        )
        or 0
    ) + 1
    version = ModuleVersion(
        module_id=module.id,
        language=language,
        number=number,
        status=DRAFT,
        author_id=author_id,
        change_summary=change_summary.strip(),
        based_on_id=based_on.id if based_on else None,
        translates_id=translates.id if translates else None,
    )
    version.module = module
    _apply_document(version, document)
    db.session.add(version)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _l("Someone else started a new version of this module at the same time. Reload.")
        ) from None
    audit.record(
        "module.draft",
        "module_version",
        version.id,
        actor_id=author_id,
        details={"module": module.slug, "language": language, "number": number},
    )
    return version


def new_draft_from(version: ModuleVersion, *, author_id: int | None) -> ModuleVersion:
    """Start editing: a new draft with the text of ``version`` (which stays as it is)."""
    open_draft = db.session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.module_id == version.module_id,
            ModuleVersion.language == version.language,
            ModuleVersion.status == DRAFT,
        )
    )
    if open_draft is not None:
        raise Conflict(_l("Version %(n)s is already a draft: edit that one.", n=open_draft.number))
    return create_draft(
        version.module,
        document_of(version),
        author_id=author_id,
        based_on=version,
        translates=version.translates,
    )


def save_draft(
    version: ModuleVersion,
    text: str,
    *,
    expected_lock_version: int,
    change_summary: str,
    actor_id: int | None,
) -> ModuleVersion:
    """Replace a draft's text; refuse if someone saved it since the editor loaded it."""
    if not version.is_draft:
        raise Conflict(_l("This version has been submitted and can no longer change."))
    if version.lock_version != expected_lock_version:
        raise Conflict(
            _l("Someone else saved this draft meanwhile. Reload it and redo your change.")
        )
    try:
        # A browser's text box may add a line break before the text; the file starts after it.
        document = parse_module_file(text.lstrip("\r\n"))
    except ContentError as error:
        raise content_error(error) from None
    module = version.module
    expected = {
        "manual": module.manual.slug,
        "module": module.slug,
        "language": version.language,
    }
    wrong = [key for key, value in expected.items() if document.meta.get(key) != value]
    if wrong:
        raise Invalid(
            _l(
                "The front matter must keep %(keys)s as they are.",
                keys=", ".join(f"{k}: {expected[k]}" for k in wrong),
            ),
            field_errors={"text": [_l("Keep manual, module and language unchanged.")]},
        )
    _apply_document(version, document)
    version.change_summary = change_summary.strip()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(
            _l("Someone else saved this draft meanwhile. Reload it and redo your change.")
        ) from None
    return version


def submit(version: ModuleVersion, *, actor_id: int | None) -> ModuleVersion:
    """Freeze a draft and send it to the review panel (a conditional update: once only)."""
    if not version.change_summary.strip() and version.based_on_id is not None:
        raise Invalid(
            _l("Say what changed before submitting."),
            field_errors={"change_summary": [_l("Describe the change for the reviewers.")]},
        )
    result = db.session.execute(
        update(ModuleVersion)
        .where(ModuleVersion.id == version.id, ModuleVersion.status == DRAFT)
        .values(
            status=SUBMITTED, submitted_at=utcnow(), lock_version=ModuleVersion.lock_version + 1
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This version has already been submitted."))
    db.session.expire(version)
    audit.record(
        "module.submit",
        "module_version",
        version.id,
        actor_id=actor_id,
        details={"hash": version.content_hash, "number": version.number},
    )
    from curriculum.review import refresh_approval

    refresh_approval(version)  # an identical hash may already carry every approval
    return version


def delete_draft(version: ModuleVersion, *, actor_id: int | None) -> None:
    """Throw away an unsubmitted draft."""
    if not version.is_draft:
        raise Conflict(_l("A submitted version is kept for ever."))
    audit.record("module.discard", "module_version", version.id, actor_id=actor_id)
    db.session.delete(version)


def module_overview(manual: Manual) -> list[dict[str, Any]]:
    """Each module of a manual with its latest and latest approved version per language."""
    modules = list(
        db.session.scalars(
            select(Module).where(Module.manual_id == manual.id).order_by(Module.position, Module.id)
        )
    )
    ids = [m.id for m in modules]
    versions = (
        list(
            db.session.scalars(
                select(ModuleVersion)
                .where(ModuleVersion.module_id.in_(ids))
                .order_by(ModuleVersion.number)
            )
        )
        if ids
        else []
    )
    rows = []
    for module in modules:
        per_language: dict[str, dict[str, ModuleVersion | None]] = {}
        for version in versions:
            if version.module_id != module.id:
                continue
            slot = per_language.setdefault(version.language, {"latest": None, "approved": None})
            slot["latest"] = version
            if version.approved_at is not None:
                slot["approved"] = version
        rows.append({"module": module, "languages": per_language})
    return rows


def work_in_progress(
    limit: int = 10, *, manual_ids: Iterable[int] | None = None
) -> dict[str, list[ModuleVersion]]:
    """Drafts and versions still in review, newest first, for the editors' home panel;
    only of the manuals ``manual_ids`` when given (an editor of one manual)."""
    base = (
        select(ModuleVersion)
        .options(joinedload(ModuleVersion.module).joinedload(Module.manual))
        .order_by(ModuleVersion.updated_at.desc())
        .limit(limit)
    )
    if manual_ids is not None:
        base = base.where(ModuleVersion.module.has(Module.manual_id.in_(list(manual_ids))))
    return {
        "drafts": list(db.session.scalars(base.where(ModuleVersion.status == DRAFT))),
        "in_review": list(
            db.session.scalars(
                base.where(ModuleVersion.status == SUBMITTED, ModuleVersion.approved_at.is_(None))
            )
        ),
    }
