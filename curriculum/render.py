"""Module text to safe HTML: one ``<section>`` per block, sanitised, with its direction.

Module text is written by editors and shown to every teacher and learner, so it is treated
as untrusted: markdown-it renders it with raw HTML switched off, links and images are
limited to known-safe schemes while the token stream is still ours to shape, and nh3 then
keeps only the tags and attributes this renderer itself produces (so a bug in either layer
is caught by the other). Arabic quotations need no marking in the source: direction is
worked out from the first strong directional letter, for the block and for paragraphs,
quotes and list items inside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.container import container_plugin

from curriculum.content import ACTIVITY_KINDS, Block

#: Hosts whose links are video lessons; they get ``class="video-link"``.
VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "youtube-nocookie.com")
LINK_SCHEMES = ("http", "https", "mailto")
IMAGE_SCHEMES = ("http", "https")
#: Elements whose direction is decided separately, inside a block of the other direction.
_DIRECTED = {"paragraph_open", "blockquote_open", "list_item_open"}
_ALIGN_RE = re.compile(r"^text-align:(left|right|center)$")
_CLASS_RE = re.compile(r"[^a-z0-9-]+")

_ALLOWED_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "strong",
    "em",
    "code",
    "pre",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "div",
    "section",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
_DIR_VALUES = {"dir": {"rtl", "ltr"}}
_ALLOWED_DIR = {tag: _DIR_VALUES for tag in ("p", "blockquote", "li", "div", "section")}
_ALIGN_CLASSES = {"align-left", "align-right", "align-center"}
_ALLOWED_CLASSES = {
    "a": {"video-link"},
    "p": {"activity-label"},
    "div": {"activity", *(f"activity-{kind}" for kind in ACTIVITY_KINDS)},
    "section": {"activity", *(f"activity-{kind}" for kind in ACTIVITY_KINDS)},
    "th": _ALIGN_CLASSES,
    "td": _ALIGN_CLASSES,
}


def text_direction(text: str, default: str = "ltr") -> str:
    """``"rtl"`` if the first strong directional letter is right-to-left, else ``"ltr"``.

    Only strong letters count, so leading digits, punctuation or Markdown syntax do not
    decide the direction of an Arabic quotation.
    """
    return _first_strong([text]) or default


def _first_strong(texts: Iterable[str]) -> str | None:
    for text in texts:
        for char in text:
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                return "rtl"
            if kind == "L":
                return "ltr"
    return None


def _visible_text(tokens: Iterable[Token]) -> Iterator[str]:
    """The text a reader sees, in order: Markdown syntax and URLs must not set direction."""
    for token in tokens:
        if token.type == "inline":
            for child in token.children or ():
                if child.type in ("text", "code_inline", "image"):  # an image's content is its alt
                    yield child.content
        elif token.type in ("fence", "code_block"):
            yield token.content


def _safe_url(url: str, schemes: Sequence[str], *, data_images: bool = False) -> bool:
    """Absolute URLs with an allowed scheme only; relative or odd URLs are dropped."""
    url = url.strip()
    if data_images and url.lower().startswith("data:image/"):
        return True
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in schemes


def _is_video(url: str) -> bool:
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return any(host == video or host.endswith("." + video) for video in VIDEO_HOSTS)


def _render_container(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    """A top-level activity is the block itself (its ``<section>`` carries the classes);
    an activity nested in another block keeps its own ``<div>`` and label."""
    token = tokens[idx]
    if token.level == 0:
        return ""
    if token.nesting == -1:
        return "</div>\n"
    kind = _activity_kind(token.info)
    classes = "activity" + (f" activity-{kind}" if kind else "")
    return f'<div class="{classes}">\n{_label(kind)}'


def _activity_kind(info: str) -> str | None:
    parts = info.split()
    kind = parts[1] if len(parts) > 1 else None
    return kind if kind in ACTIVITY_KINDS else None


def _label(kind: str | None) -> str:
    if kind is None:
        return ""
    return str(Markup('<p class="activity-label">{}</p>\n').format(ACTIVITY_KINDS[kind]))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(container_plugin, "activity", render=_render_container)
    return md


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Second line of defence: nh3 allows ``data:`` for images, never for links."""
    if tag == "a" and attr == "href":
        return value if _safe_url(value, LINK_SCHEMES) else None
    if tag == "img" and attr == "src":
        return value if _safe_url(value, IMAGE_SCHEMES, data_images=True) else None
    return value


_MD = _markdown()
_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ALLOWED_ATTRIBUTES,
    tag_attribute_values=_ALLOWED_DIR,
    allowed_classes=_ALLOWED_CLASSES,
    url_schemes={"http", "https", "mailto", "data"},
    url_relative="deny",
    link_rel="noopener noreferrer",
    attribute_filter=_filter_attribute,
)


def _closing(tokens: Sequence[Token], start: int) -> int:
    """Index of the token closing ``tokens[start]``."""
    level = tokens[start].level
    for index in range(start + 1, len(tokens)):
        if tokens[index].level == level and tokens[index].nesting == -1:
            return index
    return len(tokens)


def _shape_inline(children: list[Token]) -> list[Token]:
    """Unsafe links become their text, unsafe images their alt text; videos are marked."""
    shaped: list[Token] = []
    skipping = False  # inside a dropped link; CommonMark links cannot nest
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            if not _safe_url(href, LINK_SCHEMES):
                skipping = True
                continue
            if _is_video(href):
                child.attrJoin("class", "video-link")
        elif child.type == "link_close" and skipping:
            skipping = False
            continue
        elif child.type == "image":
            src = str(child.attrGet("src") or "")
            if not _safe_url(src, IMAGE_SCHEMES, data_images=True):
                shaped.append(Token("text", "", 0, content=child.content))
                continue
        shaped.append(child)
    return shaped


def _shape(tokens: list[Token], block_dir: str) -> None:
    """Set directions, table alignment classes and safe links on the token stream."""
    stack = [block_dir]
    for index, token in enumerate(tokens):
        if token.type == "inline" and token.children:
            token.children = _shape_inline(token.children)
        if token.type in ("th_open", "td_open"):
            match = _ALIGN_RE.match(str(token.attrGet("style") or ""))
            token.attrs.pop("style", None)
            if match:
                token.attrSet("class", f"align-{match.group(1)}")
        if token.nesting == 1:
            current = stack[-1]
            if token.type in _DIRECTED:
                inner = tokens[index + 1 : _closing(tokens, index)]
                direction = _first_strong(_visible_text(inner)) or current
                if direction != current:
                    token.attrSet("dir", direction)
                current = direction
            stack.append(current)
        elif token.nesting == -1 and len(stack) > 1:
            stack.pop()


def _css_name(value: str) -> str:
    return _CLASS_RE.sub("-", value.lower()).strip("-") or "other"


def render_block(block: Block) -> Markup:
    """One block as a sanitised ``<section>`` that review comments can anchor to by id."""
    tokens = _MD.parse(block.text)
    direction = _first_strong(_visible_text(tokens)) or "ltr"
    _shape(tokens, direction)
    inner = _CLEANER.clean(_MD.renderer.render(tokens, _MD.options, {}))
    classes = ["block", f"block-{_css_name(block.kind)}"]
    label = ""
    if block.kind == "activity":
        kind = block.activity if block.activity in ACTIVITY_KINDS else None
        if kind is None:
            opener = next((t for t in tokens if t.type == "container_activity_open"), None)
            kind = _activity_kind(opener.info) if opener else None
        classes.append("activity")
        if kind:
            classes.append(f"activity-{kind}")
        label = _label(kind)
    return Markup(
        '<section class="{classes}" id="{id}" data-block="{id}" dir="{dir}">\n'
        "{label}{inner}</section>\n"
    ).format(
        classes=" ".join(classes),
        id=block.id,
        dir=direction,
        label=Markup(label),  # nosec B704  # _label built it with Markup.format (escaped)
        inner=Markup(inner),  # nosec B704  # Markdown without HTML, sanitised by nh3
    )


def render_document(blocks: Iterable[Block]) -> Markup:
    """A whole module version, block after block."""
    return Markup("").join(render_block(block) for block in blocks)
