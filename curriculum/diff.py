"""Word-level differences between two versions of a module, block by block.

Reviewers approve paragraphs, so a diff is aligned on the stable block ids rather than on
text: a paragraph that was edited is one "changed" block even if it moved, and an edit in
one paragraph never spills into its neighbours. Inside a block the source words are
compared (not the rendered HTML), so a reviewer sees exactly which words an editor typed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from curriculum.content import Block
from curriculum.render import text_direction

STATUSES = {
    "unchanged": _l("Unchanged"),
    "changed": _l("Changed"),
    "added": _l("Added"),
    "removed": _l("Removed"),
    "moved": _l("Moved"),
}


def _mark_class() -> str:
    """Every combining mark in the Basic Multilingual Plane, as a regex class body.

    ``\\w`` leaves out combining marks, so Arabic words with vowel signs (إِنَّ) would fall
    apart into letters and harakat; words are letters *and* the marks on them.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


_MARKS = _mark_class()
#: A word (letters, digits and the marks on them, plus joiners inside Persian/Arabic
#: words), a run of whitespace, or one other character.
TOKEN_RE = re.compile(rf"[\w{_MARKS}\u200c\u200d]+|\s+|[^\w\s]", re.UNICODE)
_WORD_RE = re.compile(r"\w", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs and single punctuation marks.

    ``"".join(tokenize(text)) == text`` always holds, so a diff can show the source.
    """
    return TOKEN_RE.findall(text)


def _is_word(token: str) -> bool:
    return bool(_WORD_RE.search(token))


@dataclass(frozen=True)
class WordOp:
    """One step of a word diff: ``tag`` is equal, insert, delete or replace."""

    tag: str
    old: str = ""
    new: str = ""
    old_words: int = 0
    new_words: int = 0


@dataclass(frozen=True)
class BlockDiff:
    """How one block changed between two versions."""

    status: str
    old: Block | None
    new: Block | None
    ops: tuple[WordOp, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        block = self.new or self.old
        assert block is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
        return block.id

    @property
    def text_changed(self) -> bool:
        """A moved block can also have been edited; this says so."""
        return any(op.tag != "equal" for op in self.ops)

    @property
    def inserted_words(self) -> int:
        return sum(op.new_words for op in self.ops if op.tag in ("insert", "replace"))

    @property
    def deleted_words(self) -> int:
        return sum(op.old_words for op in self.ops if op.tag in ("delete", "replace"))


class DocumentDiff(list[BlockDiff]):
    """The result of :func:`diff_blocks`: a list, with the renderers at hand for templates."""

    def inline(self, language: str | None = None) -> Markup:
        return render_inline(self, language)

    def side_by_side(self, language: str | None = None) -> Markup:
        return render_side_by_side(self, language)

    def summary(self) -> dict[str, int]:
        return summary(self)


# --- computing ---------------------------------------------------------------------------


def word_ops(old: str, new: str) -> tuple[WordOp, ...]:
    """Word-level operations turning ``old`` into ``new``."""
    a, b = tokenize(old), tokenize(new)
    # autojunk off: in long blocks, spaces and common words would otherwise be ignored.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    raw: list[tuple[str, list[str], list[str]]] = [
        (tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    return tuple(_make_op(tag, olds, news) for tag, olds, news in _merge_gaps(raw))


def _merge_gaps(
    raw: list[tuple[str, list[str], list[str]]],
) -> list[tuple[str, list[str], list[str]]]:
    """Fold a lone space between two changes into one change.

    "quick red" → "slow blue" reads better as one replacement than as two with a
    shared space between them.
    """
    merged: list[tuple[str, list[str], list[str]]] = []
    index = 0
    while index < len(raw):
        tag, olds, news = raw[index]
        if (
            tag == "equal"
            and merged
            and merged[-1][0] != "equal"
            and index + 1 < len(raw)
            and all(not token.strip() for token in olds)
        ):
            _prev_tag, prev_old, prev_new = merged.pop()
            _next_tag, next_old, next_new = raw[index + 1]
            merged.append(("replace", prev_old + olds + next_old, prev_new + news + next_new))
            index += 2
            continue
        if tag != "equal" and merged and merged[-1][0] != "equal":
            _prev_tag, prev_old, prev_new = merged.pop()
            merged.append(("replace", prev_old + olds, prev_new + news))
        else:
            merged.append((tag, olds, news))
        index += 1
    return [
        ("insert" if not olds else "delete" if not news else tag, olds, news)
        if tag == "replace"
        else (tag, olds, news)
        for tag, olds, news in merged
    ]


def _make_op(tag: str, olds: list[str], news: list[str]) -> WordOp:
    return WordOp(
        tag,
        "".join(olds),
        "".join(news),
        sum(1 for token in olds if _is_word(token)),
        sum(1 for token in news if _is_word(token)),
    )


def _moved_ids(old: Sequence[Block], new: Sequence[Block]) -> set[str]:
    """Blocks kept in both versions whose order relative to the others changed.

    The longest run of blocks still in the same order counts as staying put; the rest moved.
    """
    new_ids = {block.id for block in new}
    old_ids = {block.id for block in old}
    old_order = [block.id for block in old if block.id in new_ids]
    new_order = [block.id for block in new if block.id in old_ids]
    matcher = difflib.SequenceMatcher(None, old_order, new_order, autojunk=False)
    staying = {
        block_id
        for start, _j, size in matcher.get_matching_blocks()
        for block_id in old_order[start : start + size]
    }
    return set(old_order) - staying


def diff_blocks(old: Sequence[Block], new: Sequence[Block]) -> DocumentDiff:
    """Align two versions by block id, in the new version's order.

    A removed block is shown after the old block that preceded it (or first, if none did),
    so a reviewer sees it where it used to be.
    """
    old_by_id: dict[str, Block] = {}
    for block in old:
        old_by_id.setdefault(block.id, block)
    new_ids = {block.id for block in new}
    moved = _moved_ids(old, new)

    after: dict[str | None, list[BlockDiff]] = {}
    anchor: str | None = None
    for block in old:
        if block.id in new_ids:
            anchor = block.id
        else:
            ops = (_make_op("delete", tokenize(block.text), []),) if block.text else ()
            after.setdefault(anchor, []).append(BlockDiff("removed", block, None, ops))

    result = DocumentDiff(after.get(None, []))
    seen: set[str] = set()
    for block in new:
        before = old_by_id.get(block.id) if block.id not in seen else None
        seen.add(block.id)
        if before is None:
            ops = (_make_op("insert", [], tokenize(block.text)),) if block.text else ()
            result.append(BlockDiff("added", None, block, ops))
        else:
            ops = word_ops(before.text, block.text)
            if block.id in moved:
                status = "moved"
            elif any(op.tag != "equal" for op in ops) or before.kind != block.kind:
                status = "changed"
            else:
                status = "unchanged"
            result.append(BlockDiff(status, before, block, ops))
        result.extend(after.pop(block.id, []))
    return result


def summary(diff: Sequence[BlockDiff]) -> dict[str, int]:
    """Counts for a one-line overview: blocks by status and words inserted and deleted.

    ``changed`` counts every kept block whose text changed, moved or not.
    """
    counts = {status: 0 for status in STATUSES}
    counts.update(inserted_words=0, deleted_words=0)
    for item in diff:
        counts[item.status] += 1
        if item.status == "moved" and item.text_changed:
            counts["changed"] += 1
        counts["inserted_words"] += item.inserted_words
        counts["deleted_words"] += item.deleted_words
    return counts


# --- rendering ---------------------------------------------------------------------------


def _lang(language: str | None) -> Markup:
    """A ``lang`` attribute (with its leading space), or nothing."""
    return Markup(' lang="{}"').format(language) if language else Markup("")


def _interface_lang(language: str | None) -> Markup:
    """Inside text in ``language``, the words of the interface are in the reader's language
    (so a screen reader reads "deleted:" in Russian amid an English paragraph)."""
    return _lang(str(get_locale() or "en")) if language else Markup("")


def _del(text: str, language: str | None = None) -> Markup:
    if not text:
        return Markup("")
    return Markup('<del><span class="visually-hidden"{}>{} </span>{}</del>').format(
        _interface_lang(language), _("deleted:"), text
    )


def _ins(text: str, language: str | None = None) -> Markup:
    if not text:
        return Markup("")
    return Markup('<ins><span class="visually-hidden"{}>{} </span>{}</ins>').format(
        _interface_lang(language), _("inserted:"), text
    )


def _inline_text(ops: Sequence[WordOp], language: str | None = None) -> Markup:
    parts: list[Markup] = []
    for op in ops:
        if op.tag == "equal":
            parts.append(Markup("{}").format(op.new))
        else:
            parts.append(_del(op.old, language) + _ins(op.new, language))
    return Markup("").join(parts)


def _old_text(ops: Sequence[WordOp], language: str | None = None) -> Markup:
    return Markup("").join(
        Markup("{}").format(op.old) if op.tag == "equal" else _del(op.old, language) for op in ops
    )


def _new_text(ops: Sequence[WordOp], language: str | None = None) -> Markup:
    return Markup("").join(
        Markup("{}").format(op.new) if op.tag == "equal" else _ins(op.new, language) for op in ops
    )


def _direction(item: BlockDiff) -> str:
    block = item.new or item.old
    return text_direction(block.text) if block else "ltr"


def _status_label(item: BlockDiff) -> Markup:
    label = Markup('<span class="diff-status">{}</span>').format(STATUSES[item.status])
    if item.status == "moved" and item.text_changed:
        label += Markup(' <span class="diff-status">{}</span>').format(STATUSES["changed"])
    return label


def render_inline(diff: Sequence[BlockDiff], language: str | None = None) -> Markup:
    """One column: each block's source text with deleted and inserted words marked.

    ``language``: the module's, marked on its text (the page around it is in the reader's).
    """
    sections = [
        Markup(
            '<section class="diff-block diff-{status}" id="diff-{id}"'
            ' aria-labelledby="diff-{id}-h">'
            '<p class="diff-meta" id="diff-{id}-h"><code class="diff-id">{id}</code> {label}</p>'
            '<div class="diff-text" dir="{dir}"{lang}>{text}</div>'
            "</section>\n"
        ).format(
            status=item.status,
            id=item.id,
            label=_status_label(item),
            dir=_direction(item),
            lang=_lang(language),
            text=_inline_text(item.ops, language),
        )
        for item in diff
    ]
    return Markup('<div class="diff diff-inline">\n{}</div>\n').format(Markup("").join(sections))


def render_side_by_side(diff: Sequence[BlockDiff], language: str | None = None) -> Markup:
    """A table with the old and the new text of each block side by side.

    Row headers name the block, so a screen reader announces which paragraph a cell is in.
    """
    rows = []
    for item in diff:
        old = _old_text(item.ops, language) if item.old is not None else Markup("")
        new = _new_text(item.ops, language) if item.new is not None else Markup("")
        direction = _direction(item)
        rows.append(
            Markup(
                '<tr class="diff-block diff-{status}" id="diff-{id}">'
                '<th scope="row"><code class="diff-id">{id}</code> {label}</th>'
                '<td class="diff-old diff-text" dir="{dir}"{lang}>{old}</td>'
                '<td class="diff-new diff-text" dir="{dir}"{lang}>{new}</td>'
                "</tr>\n"
            ).format(
                status=item.status,
                id=item.id,
                label=_status_label(item),
                dir=direction,
                lang=_lang(language),
                old=old,
                new=new,
            )
        )
    return Markup(
        '<div class="table-wrap"><table class="diff diff-side">\n'
        '<caption class="visually-hidden">{caption}</caption>\n'
        '<thead><tr><th scope="col">{block}</th><th scope="col">{before}</th>'
        '<th scope="col">{after}</th></tr></thead>\n'
        "<tbody>\n{rows}</tbody>\n</table></div>\n"
    ).format(
        caption=_("Changes between the two versions, paragraph by paragraph"),
        block=_("Paragraph"),
        before=_("Before"),
        after=_("After"),
        rows=Markup("").join(rows),
    )
