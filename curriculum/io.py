"""Import a folder of module files as drafts, and export a manual back to files.

Import checks every file before it changes anything: a bad file is reported with its name,
line and reason, and a failed import leaves the database as it was. Export writes each
version in canonical form, so import → export → import is lossless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from curriculum.content import ContentError, ModuleDocument, Problem, parse_module_file
from curriculum.models import Manual, Module, ModuleVersion
from curriculum.services import get_manual
from curriculum.versions import (
    create_draft,
    file_text,
    get_or_create_module,
    latest_approved,
    latest_version,
)
from lms.extensions import db

MAX_FILE_BYTES = 512 * 1024


@dataclass
class FileProblem:
    path: str
    problem: Problem

    def __str__(self) -> str:
        return self.problem.describe(self.path)


class ImportFailed(Exception):
    """Nothing was imported; ``problems`` lists every file, line and reason."""

    def __init__(self, problems: list[FileProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ImportReport:
    created: list[ModuleVersion] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class _Parsed:
    path: str
    document: ModuleDocument

    @property
    def key(self) -> tuple[str, str, str]:
        meta = self.document.meta
        return (meta["manual"], meta["module"], meta["language"])


def read_folder(root: Path) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every ``.md`` file at or below ``root``, in a stable order."""
    if root.is_file():
        return [(root.name, root.read_bytes())]
    return [(str(path.relative_to(root)), path.read_bytes()) for path in sorted(root.rglob("*.md"))]


def import_files(
    files: list[tuple[str, str | bytes]], *, actor_id: int | None, only_manual: str | None = None
) -> ImportReport:
    """Create a draft for every file whose text differs from the module's latest version.

    ``only_manual``: the only manual the files may belong to (an upload on one manual's page,
    whose editor may edit that manual and no other); a file naming another is a problem.
    """
    problems: list[FileProblem] = []
    parsed: list[_Parsed] = []
    for name, raw in files:
        if isinstance(raw, bytes):
            if len(raw) > MAX_FILE_BYTES:
                problems.append(FileProblem(name, Problem(_l("The file is larger than 512 KB."))))
                continue
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                line = raw[: error.start].count(b"\n") + 1
                problems.append(FileProblem(name, Problem(_l("The file is not UTF-8 text."), line)))
                continue
        try:
            parsed.append(_Parsed(name, parse_module_file(raw, name)))
        except ContentError as error:
            problems.extend(FileProblem(name, p) for p in error.problems)
    if not files:
        problems.append(FileProblem("", Problem(_l("No .md files were found."))))

    manuals: dict[str, Manual] = {}
    seen: dict[tuple[str, str, str], str] = {}
    for item in parsed:
        slug = item.document.meta["manual"]
        if only_manual is not None and slug != only_manual:
            problems.append(
                FileProblem(
                    item.path,
                    Problem(
                        _l(
                            "The file belongs to the manual %(slug)s, not to %(manual)s.",
                            slug=slug,
                            manual=only_manual,
                        ),
                        2,
                    ),
                )
            )
            continue
        if slug not in manuals:
            manual = get_manual(slug)
            if manual is None:
                problems.append(
                    FileProblem(
                        item.path, Problem(_l("There is no manual %(slug)s.", slug=slug), 2)
                    )
                )
                continue
            manuals[slug] = manual
        if item.key in seen:
            problems.append(
                FileProblem(
                    item.path,
                    Problem(
                        _l("%(other)s has the same module and language.", other=seen[item.key])
                    ),
                )
            )
        seen[item.key] = item.path
    for item in parsed:
        meta = item.document.meta
        source_language = meta.get("translation_of")
        if source_language and item.document.meta["manual"] in manuals:
            source_key = (meta["manual"], meta["module"], source_language)
            in_set = source_key in seen
            if not in_set and _existing_source(manuals[meta["manual"]], meta, None) is None:
                problems.append(
                    FileProblem(
                        item.path,
                        Problem(
                            _l(
                                "The %(language)s text it translates was not found.",
                                language=source_language,
                            )
                        ),
                    )
                )
    if problems:
        raise ImportFailed(problems)

    report = ImportReport()
    created: dict[tuple[str, str, str], ModuleVersion] = {}
    # Sources first, so translations can point at the versions this import creates.
    for item in sorted(parsed, key=lambda p: ("translation_of" in p.document.meta, p.path)):
        meta = item.document.meta
        manual = manuals[meta["manual"]]
        module = get_or_create_module(manual, meta["module"], meta["position"])
        translates = None
        if meta.get("translation_of"):
            source_key = (meta["manual"], meta["module"], meta["translation_of"])
            translates = _existing_source(manual, meta, created.get(source_key))
        latest = latest_version(module.id, meta["language"])
        if (
            latest is not None
            and latest.content_hash == item.document.content_hash
            and (translates is None or latest.translates_id == translates.id)
        ):
            report.unchanged.append(item.path)
            continue
        version = create_draft(
            module,
            item.document,
            author_id=actor_id,
            change_summary=str(_l("Imported from %(file)s", file=item.path)),
            based_on=latest,
            translates=translates,
        )
        created[item.key] = version
        report.created.append(version)
    return report


def _existing_source(
    manual: Manual, meta: dict, just_created: ModuleVersion | None
) -> ModuleVersion | None:
    """The source version a translation file names: by ``source_hash`` if given, else the
    one created in this import, else the latest approved or latest existing one."""
    module = db.session.scalar(
        select(Module).where(Module.manual_id == manual.id, Module.slug == meta["module"])
    )
    wanted = meta.get("source_hash")
    if wanted:
        if just_created is not None and just_created.content_hash == wanted:
            return just_created
        if module is None:
            return None
        return db.session.scalar(
            select(ModuleVersion)
            .where(
                ModuleVersion.module_id == module.id,
                ModuleVersion.language == meta["translation_of"],
                ModuleVersion.content_hash == wanted,
            )
            .order_by(ModuleVersion.number.desc())
            .limit(1)
        )
    if just_created is not None:
        return just_created
    if module is None:
        return None
    return latest_approved(module.id, meta["translation_of"]) or latest_version(
        module.id, meta["translation_of"]
    )


def export_manual(
    manual: Manual, target: Path, *, approved_only: bool = False, languages: tuple[str, ...] = ()
) -> list[Path]:
    """Write the latest (or latest approved) version of every module in every language."""
    written = []
    modules = db.session.scalars(
        select(Module).where(Module.manual_id == manual.id).order_by(Module.position)
    )
    for module in modules:
        for language in languages or ("en", "ru", "ky"):
            version = (
                latest_approved(module.id, language)
                if approved_only
                else latest_version(module.id, language)
            )
            if version is None:
                continue
            path = target / language / f"{module.position:02d}-{module.slug}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file_text(version), encoding="utf-8")
            written.append(path)
    return written
