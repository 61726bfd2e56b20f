"""The module file format: parsing, validating, canonical serialisation and content hashes.

A module version is Markdown with YAML front matter; every top-level block carries a stable
id on the line before it (``{#p-k3v9qa}``). See docs/curriculum-format.md. Parsing never
raises for bad input it can describe: it collects ``Problem``s (line and reason, in the
user's language) and raises one ``ContentError`` holding all of them.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin
from mdit_py_plugins.container import container_plugin

LANGUAGES = ("en", "ru", "ky")
ID_RE = re.compile(r"^p-[a-z0-9]{6}$")
ID_LINE_RE = re.compile(r"^\{#(p-[a-z0-9]{6})\}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
#: Control characters no text holds (tab and line breaks aside); PostgreSQL cannot store NUL.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

ACTIVITY_KINDS = {
    "group-work": _l("Group work"),
    "role-play": _l("Role play"),
    "discussion": _l("Discussion"),
    "case-study": _l("Case study"),
    "reflection": _l("Reflection"),
    "energiser": _l("Energiser"),
}

#: Front-matter keys in the order files are written.
META_ORDER = (
    "manual",
    "module",
    "position",
    "language",
    "title",
    "translation_of",
    "source_hash",
    "objectives",
    "duration_minutes",
    "methods",
    "materials",
    "sample",
)
REQUIRED = ("manual", "module", "position", "language", "title", "objectives", "duration_minutes")
#: Keys that describe the file rather than the text; the content hash leaves them out.
NOT_HASHED = ("position", "translation_of", "source_hash", "sample")

_BLOCK_KINDS = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
    "container_activity_open": "activity",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "hr": "rule",
    "html_block": "html",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (1-based line, if known) and what."""

    message: Any
    line: int | None = None

    def describe(self, filename: str = "") -> str:
        if self.line:
            where = f"{filename}:{self.line}" if filename else str(self.line)
        else:
            where = filename
        return f"{where}: {self.message}" if where else str(self.message)


class ContentError(ValueError):
    """A module file or draft that cannot be accepted; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem], filename: str = ""):
        self.problems = problems
        self.filename = filename
        super().__init__("; ".join(p.describe(filename) for p in problems))


@dataclass(frozen=True)
class Block:
    """A top-level block: its stable id, its Markdown source and what kind of block it is."""

    id: str
    text: str
    kind: str = "paragraph"
    activity: str | None = None

    @property
    def text_hash(self) -> str:
        """Identifies this exact text, so comments and approvals can tell when it changed."""
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class ModuleDocument:
    """One module version: front matter and blocks, always in canonical form."""

    meta: dict[str, Any]
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def content_hash(self) -> str:
        return content_hash(self.meta, self.blocks)

    @property
    def body(self) -> str:
        return serialise_blocks(self.blocks)

    def serialise(self) -> str:
        return serialise(self.meta, self.blocks)

    def block(self, block_id: str) -> Block | None:
        return next((b for b in self.blocks if b.id == block_id), None)


def normalise_text(text: str) -> str:
    """NFC, ``\\n`` line endings, no BOM, no trailing spaces on lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def new_block_id(taken: Iterable[str] = ()) -> str:
    if not isinstance(taken, set | frozenset):
        taken = set(taken)  # a set is used as it is: copying it per block made files quadratic
    alphabet = string.ascii_lowercase + string.digits
    while True:
        candidate = "p-" + "".join(secrets.choice(alphabet) for _ in range(6))
        if candidate not in taken:
            return candidate


def _markdown() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable("table")
        .use(attrs_block_plugin)
        .use(container_plugin, "activity")
    )


#: Only the block structure is needed here: without the inline phase (emphasis, links), a
#: long file of brackets or asterisks parses in a fraction of the time.
_PARSER = _markdown().disable(["inline", "text_join"])


# --- parsing -----------------------------------------------------------------------------


def parse_module_file(text: str, filename: str = "") -> ModuleDocument:
    """Parse a whole file (front matter and body); raise ``ContentError`` with every problem."""
    text = normalise_text(text)
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        control = CONTROL_RE.search(line)
        if control:
            problems.append(
                Problem(
                    _l(
                        "The text contains an invisible control character (%(code)s) that "
                        "cannot be saved. Delete it, or type the text again instead of "
                        "pasting it.",
                        code=f"U+{ord(control.group()):04X}",
                    ),
                    number,
                )
            )
    meta, body, body_line = _split_front_matter(text, problems)
    if meta is not None:
        key_lines = {
            line.split(":", 1)[0]: number
            for number, line in enumerate(text.split("\n")[1:body_line], start=2)
            if re.match(r"^[A-Za-z_]+:", line)
        }
        meta = validate_meta(meta, problems, key_lines)
    blocks = parse_blocks(body, first_line=body_line, problems=problems)
    if problems:
        raise ContentError(problems, filename)
    assert meta is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    return ModuleDocument(meta=meta, blocks=blocks)


def _split_front_matter(
    text: str, problems: list[Problem]
) -> tuple[dict[str, Any] | None, str, int]:
    lines = text.split("\n")
    if not lines or lines[0] != "---":
        problems.append(Problem(_l("The file must start with a front-matter block (---)."), 1))
        return None, text, 1
    try:
        end = lines.index("---", 1)
    except ValueError:
        problems.append(Problem(_l("The front-matter block is not closed with ---."), 1))
        return None, "", len(lines)
    raw = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :])
    try:
        meta = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        reason = getattr(error, "problem", None) or str(error)
        problems.append(
            Problem(_l("The front matter is not valid YAML: %(reason)s", reason=reason), line)
        )
        return None, body, end + 2
    if not isinstance(meta, dict):
        problems.append(Problem(_l("The front matter must be a list of keys and values."), 2))
        return None, body, end + 2
    return meta, body, end + 2


def validate_meta(
    meta: dict[str, Any], problems: list[Problem], key_lines: dict[str, int] | None = None
) -> dict[str, Any]:
    """Check the front matter; return it cleaned (stripped strings, canonical types)."""
    clean: dict[str, Any] = {}
    lines = key_lines or {}

    def at(key: str) -> int:
        return lines.get(key, 1)

    for key in meta:
        if key not in META_ORDER:
            problems.append(Problem(_l("Unknown front-matter key: %(key)s", key=key), at(key)))
    for key in REQUIRED:
        if meta.get(key) in (None, "", []):
            problems.append(Problem(_l("The front matter lacks %(key)s.", key=key), at(key)))

    def text_value(key: str, limit: int = 200) -> None:
        value = meta.get(key)
        if value is None:
            return
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            problems.append(Problem(_l("%(key)s must be text.", key=key), at(key)))
            return
        value = str(value).strip()
        if len(value) > limit:
            problems.append(Problem(_l("%(key)s is too long.", key=key), at(key)))
        clean[key] = value

    for key in ("manual", "module", "title"):
        text_value(key)
    for key in ("manual", "module"):
        if key in clean and not SLUG_RE.match(clean[key]):
            problems.append(
                Problem(
                    _l("%(key)s must be lower-case Latin letters, digits and dashes.", key=key), 1
                )
            )
    for key in ("language", "translation_of"):
        value = meta.get(key)
        if value is None:
            continue
        if value not in LANGUAGES:
            problems.append(Problem(_l("%(key)s must be en, ru or ky.", key=key), at(key)))
        else:
            clean[key] = value
    if "translation_of" in clean and clean["translation_of"] == clean.get("language"):
        problems.append(
            Problem(
                _l("A module cannot be a translation of its own language."), at("translation_of")
            )
        )
    for key, low, high in (("position", 1, 999), ("duration_minutes", 1, 600)):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(
                Problem(
                    _l(
                        "%(key)s must be a whole number from %(low)s to %(high)s.",
                        key=key,
                        low=low,
                        high=high,
                    ),
                    1,
                )
            )
        else:
            clean[key] = value
    for key in ("objectives", "methods", "materials"):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            problems.append(Problem(_l("%(key)s must be a list of short texts.", key=key), at(key)))
        else:
            clean[key] = [item.strip() for item in value]
    if meta.get("source_hash") is not None:
        value = str(meta["source_hash"])
        if not HASH_RE.match(value):
            problems.append(
                Problem(_l("source_hash must be 64 hexadecimal characters."), at("source_hash"))
            )
        else:
            clean["source_hash"] = value
    if meta.get("sample") is not None:
        if not isinstance(meta["sample"], bool):
            problems.append(Problem(_l("sample must be true or false."), at("sample")))
        elif meta["sample"]:
            clean["sample"] = True
    return {key: clean[key] for key in META_ORDER if key in clean}


def parse_blocks(
    body: str, *, first_line: int = 1, problems: list[Problem] | None = None
) -> tuple[Block, ...]:
    """Split a body into blocks with ids; blocks without an id get a new one.

    ``first_line`` is the file line of the body's first line, so problems point at the file.
    """
    own_problems: list[Problem] = []
    report = problems if problems is not None else own_problems
    body = normalise_text(body)
    lines = body.split("\n")
    tokens = _PARSER.parse(body)
    found: list[tuple[str | None, Block, int]] = []
    for token in _top_level(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        kind = _BLOCK_KINDS.get(token.type, "other")
        if kind == "html":
            report.append(Problem(_l("Raw HTML is not allowed; write Markdown instead."), line))
            continue
        attrs = dict(token.attrs)
        block_id = attrs.pop("id", None)
        if kind == "list":
            attrs.pop("start", None)  # "3. Third" starts a numbered list at 3: not braces
        if attrs:
            report.append(
                Problem(_l("Only a block id such as {#p-k3v9qa} may stand in braces."), line - 1)
            )
        if block_id is not None and not ID_RE.match(str(block_id)):
            report.append(
                Problem(
                    _l(
                        "%(id)s is not a block id: use p- and six lower-case letters or digits.",
                        id=block_id,
                    ),
                    line - 1,
                )
            )
            block_id = None
        assert token.map is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        start, end = token.map
        if kind == "activity" and end < len(lines) and lines[end].strip() == ":::":
            end += 1  # markdown-it's map stops before the closing fence
        text = "\n".join(lines[start:end]).strip("\n")
        activity = None
        if kind == "activity":
            parts = token.info.split()
            activity = parts[1] if len(parts) > 1 else None
            if activity not in ACTIVITY_KINDS:
                report.append(
                    Problem(
                        _l(
                            "Name the kind of activity: %(kinds)s.", kinds=", ".join(ACTIVITY_KINDS)
                        ),
                        line,
                    )
                )
        elif kind == "paragraph" and re.fullmatch(r"!\[[^\]]*\]\([^)]*\)", text.strip()):
            kind = "image"
        found.append((str(block_id) if block_id else None, Block("", text, kind, activity), line))

    seen: dict[str, int] = {}
    for block_id, _block, line in found:
        if block_id is None:
            continue
        if block_id in seen:
            report.append(
                Problem(
                    _l(
                        "The block id %(id)s is used twice (first on line %(first)s).",
                        id=block_id,
                        first=seen[block_id],
                    ),
                    line - 1,
                )
            )
        else:
            seen[block_id] = line - 1
    reported = {p.line for p in report}  # a set: a file of bad id lines is not quadratic
    for line_number, text in enumerate(lines, start=first_line):
        stripped = text.strip()
        if (
            stripped.startswith("{#")
            and "}" in stripped
            and not ID_LINE_RE.match(stripped)
            and line_number not in reported
        ):
            report.append(Problem(_l("This block id line is not valid."), line_number))
    taken = set(seen)
    blocks = []
    for block_id, block, _line in found:
        if block_id is None:
            block_id = new_block_id(taken)
            taken.add(block_id)
        blocks.append(Block(block_id, block.text, block.kind, block.activity))
    if problems is None and own_problems:
        raise ContentError(own_problems)
    return tuple(blocks)


def _top_level(tokens: list[Token]) -> Iterable[Token]:
    for token in tokens:
        if token.level == 0 and token.nesting >= 0 and token.type != "inline":
            yield token


# --- writing and hashing -----------------------------------------------------------------


def serialise_meta(meta: dict[str, Any]) -> str:
    ordered = {key: meta[key] for key in META_ORDER if key in meta}
    return yaml.safe_dump(
        ordered, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000
    ).rstrip("\n")


def serialise_blocks(blocks: Iterable[Block]) -> str:
    return "".join(f"{{#{block.id}}}\n{block.text}\n\n" for block in blocks).rstrip("\n") + "\n"


def serialise(meta: dict[str, Any], blocks: Iterable[Block]) -> str:
    """The canonical file: what export writes and what a round trip reproduces."""
    return f"---\n{serialise_meta(meta)}\n---\n\n{serialise_blocks(blocks)}"


def content_hash(meta: dict[str, Any], blocks: Iterable[Block]) -> str:
    """SHA-256 of the canonical content; approvals are bound to it."""
    canonical = json.dumps(
        {
            "meta": {k: v for k, v in sorted(meta.items()) if k not in NOT_HASHED},
            "blocks": [[block.id, block.text] for block in blocks],
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
