"""An edition to take away: a PDF for printing and a ZIP of web pages for a USB stick.

Both are built from the versions frozen in the edition's entries, never from the newest
text, so edition 1 prints the same in a year as on the day it was published. Both are in
the edition's own language (labels included) and reach nothing outside themselves: the
PDF's CSS is inline (``lms.pdf`` refuses every URL) and the ZIP's pages link only to one
another and to ``style.css``, so they open from a stick with no server and no internet.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from curriculum.content import Block
from curriculum.models import Edition, ModuleVersion
from curriculum.render import render_document
from curriculum.review import DECISIONS
from curriculum.versions import document_of
from lms.config import LANGUAGES
from lms.pdf import html_to_pdf


@dataclass(frozen=True)
class Chapter:
    """One module of an edition: the frozen version, its blocks and who signed it off."""

    position: int
    version: ModuleVersion
    blocks: tuple[Block, ...]
    signed: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.version.module.slug

    @property
    def title(self) -> str:
        return self.version.title

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.version.meta)

    @property
    def filename(self) -> str:
        """The page of this module in the offline ZIP, e.g. ``01-hand-hygiene.html``."""
        return f"{self.position:02d}-{self.slug}.html"

    @property
    def html(self) -> Markup:
        return render_document(self.blocks)


def text_blocks(version: ModuleVersion) -> tuple[Block, ...]:
    """The blocks to show under the module's own title: a leading heading that only repeats
    the title is left out, so readers do not see the title twice."""
    blocks = tuple(document_of(version).blocks)
    if blocks and blocks[0].kind == "heading":
        heading = blocks[0].text.lstrip("#").strip()
        if heading.casefold() == version.title.strip().casefold():
            return blocks[1:]
    return blocks


def chapters(edition: Edition) -> list[Chapter]:
    """The edition's modules in order, each with the text of its frozen version."""
    signed = {record.get("module"): record for record in edition.signatories or []}
    result = []
    for position, entry in enumerate(edition.entries, start=1):
        version = entry.version
        result.append(
            Chapter(
                position=position,
                version=version,
                blocks=text_blocks(version),
                signed=signed.get(version.module.slug)
                or {"module": version.module.slug, "seats": []},
            )
        )
    return result


def base_name(edition: Edition) -> str:
    """Manual, language and number, so downloaded files never get mixed up."""
    return f"{edition.manual.slug}-{edition.language}-edition-{edition.number}"


def pdf_filename(edition: Edition) -> str:
    return f"{base_name(edition)}.pdf"


def zip_filename(edition: Edition) -> str:
    return f"{base_name(edition)}.zip"


def manifest(edition: Edition, parts: list[Chapter] | None = None) -> dict[str, Any]:
    """``edition.json``: what the edition holds, with the hashes the panel approved."""
    parts = chapters(edition) if parts is None else parts
    return {
        "manual": edition.manual.slug,
        "title": edition.manual.title_in(edition.language),
        "language": edition.language,
        "number": edition.number,
        "published_at": edition.published_at.isoformat(timespec="seconds") + "Z",
        "notes": edition.notes,
        "modules": [
            {
                "position": part.position,
                "slug": part.slug,
                "version": part.version.number,
                "content_hash": part.version.content_hash,
                "title": part.title,
                "file": part.filename,
                "signatories": part.signed.get("seats", []),
            }
            for part in parts
        ],
    }


def _context(edition: Edition, parts: list[Chapter]) -> dict[str, Any]:
    return {
        "edition": edition,
        "manual": edition.manual,
        "manual_title": edition.manual.title_in(edition.language),
        "language_name": LANGUAGES.get(edition.language, edition.language),
        "chapters": parts,
        "titles": {part.slug: part.title for part in parts},
        "decisions": DECISIONS,
    }


def edition_html_for_print(edition: Edition) -> str:
    """The whole edition as one HTML document styled for A4 (CSS inline)."""
    parts = chapters(edition)
    with force_locale(edition.language):
        return render_template("curriculum/pdf/edition.html", **_context(edition, parts))


def edition_pdf(edition: Edition) -> bytes:
    return html_to_pdf(edition_html_for_print(edition))


def edition_zip(edition: Edition) -> bytes:
    """``index.html``, one page per module, ``style.css`` and ``edition.json``."""
    parts = chapters(edition)
    stamp = max(edition.published_at.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with force_locale(edition.language), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))

        context = _context(edition, parts)
        add("index.html", render_template("curriculum/edition_offline_index.html", **context))
        for index, part in enumerate(parts):
            add(
                part.filename,
                render_template(
                    "curriculum/edition_offline_module.html",
                    chapter=part,
                    previous=parts[index - 1] if index > 0 else None,
                    next=parts[index + 1] if index + 1 < len(parts) else None,
                    **context,
                ),
            )
        styles = [render_template(f"curriculum/pdf/{name}.css") for name in ("text", "screen")]
        add("style.css", "\n".join(styles))
        add("edition.json", json.dumps(manifest(edition, parts), ensure_ascii=False, indent=2))
    return buffer.getvalue()
