"""Word-level differences between module versions, aligned on block ids."""

from __future__ import annotations

from html.parser import HTMLParser

from flask import render_template_string
from markupsafe import Markup

from curriculum.content import Block, parse_blocks
from curriculum.diff import (
    DocumentDiff,
    WordOp,
    diff_blocks,
    render_inline,
    render_side_by_side,
    summary,
    tokenize,
    word_ops,
)

OLD = (
    Block("p-aaaaaa", "# Hand hygiene", "heading"),
    Block("p-bbbbbb", "Germs travel on hands to food and water."),
    Block("p-cccccc", "Wash with soap for twenty seconds."),
    Block("p-dddddd", "Dry with a clean towel."),
)


def _changed(block: Block, text: str) -> Block:
    return Block(block.id, text, block.kind, block.activity)


class _Text(HTMLParser):
    """Collects the text inside each kind of element, to check what is marked."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.inside: dict[str, list[str]] = {}
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        if ("class", "visually-hidden") in attrs:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == "span" and self.hidden:
            self.hidden -= 1
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        for tag in set(self.open):
            self.inside.setdefault(tag, []).append(data)


def marked(html: str, tag: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.inside.get(tag, [])


def test_tokens_keep_the_text_and_split_words_from_spaces_and_punctuation():
    text = "Колуңузду жууңуз, өтө маанилүү! (20 sec.)"
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert tokens[:4] == ["Колуңузду", " ", "жууңуз", ","]
    assert "маанилүү" in tokens and "өтө" in tokens and "20" in tokens


def test_arabic_words_keep_their_vowel_marks():
    text = "إِنَّ اللَّهَ جَمِيلٌ يُحِبُّ الْجَمَالَ"
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert [token for token in tokens if token.strip()] == [
        "إِنَّ",
        "اللَّهَ",
        "جَمِيلٌ",
        "يُحِبُّ",
        "الْجَمَالَ",
    ]


def test_one_word_change_marks_only_that_paragraph_and_that_word(app):
    new = (OLD[0], OLD[1], _changed(OLD[2], "Wash with soap for thirty seconds."), OLD[3])
    diff = diff_blocks(OLD, new)
    assert [(d.id, d.status) for d in diff] == [
        ("p-aaaaaa", "unchanged"),
        ("p-bbbbbb", "unchanged"),
        ("p-cccccc", "changed"),
        ("p-dddddd", "unchanged"),
    ]
    changes = [op for op in diff[2].ops if op.tag != "equal"]
    assert changes == [WordOp("replace", "twenty", "thirty", 1, 1)]
    assert all(op.tag == "equal" for d in diff if d.status == "unchanged" for op in d.ops)

    html = render_inline(diff)
    assert isinstance(html, Markup)
    assert marked(html, "del") == ["twenty"]
    assert marked(html, "ins") == ["thirty"]
    assert 'id="diff-p-cccccc"' in html and 'class="diff-block diff-changed"' in html
    assert html.count("diff-unchanged") == 3


def test_cyrillic_word_change_is_one_word(app):
    old = (Block("p-kykyky", "Колуңузду самын менен жууңуз."),)
    new = (Block("p-kykyky", "Колуңузду самын менен жакшылап жууңуз."),)
    (item,) = diff_blocks(old, new)
    assert item.status == "changed"
    assert [op for op in item.ops if op.tag != "equal"] == [WordOp("insert", "", "жакшылап ", 0, 1)]
    assert marked(render_inline([item]), "ins") == ["жакшылап "]


def test_arabic_word_change_is_one_word_and_reads_right_to_left(app):
    old = (Block("p-ararar", "> إِنَّ اللَّهَ جَمِيلٌ يُحِبُّ الْجَمَالَ", "quote"),)
    new = (Block("p-ararar", "> إِنَّ اللَّهَ طَيِّبٌ يُحِبُّ الْجَمَالَ", "quote"),)
    (item,) = diff_blocks(old, new)
    assert [op for op in item.ops if op.tag != "equal"] == [WordOp("replace", "جَمِيلٌ", "طَيِّبٌ", 1, 1)]
    html = render_inline([item])
    assert 'dir="rtl"' in html
    assert marked(html, "del") == ["جَمِيلٌ"] and marked(html, "ins") == ["طَيِّبٌ"]


def test_added_and_removed_paragraphs(app):
    added = Block("p-eeeeee", "Use a clean basin.")
    new = (OLD[0], OLD[2], added, OLD[3])
    diff = diff_blocks(OLD, new)
    assert [(d.id, d.status) for d in diff] == [
        ("p-aaaaaa", "unchanged"),
        ("p-bbbbbb", "removed"),  # shown where it was: after the heading
        ("p-cccccc", "unchanged"),
        ("p-eeeeee", "added"),
        ("p-dddddd", "unchanged"),
    ]
    removed, new_block = diff[1], diff[3]
    assert removed.old == OLD[1] and removed.new is None
    assert new_block.old is None and new_block.new == added
    html = render_inline(diff)
    assert marked(html, "del") == [OLD[1].text]
    assert marked(html, "ins") == [added.text]


def test_removed_first_block_comes_first(app):
    diff = diff_blocks(OLD, OLD[1:])
    assert [(d.id, d.status) for d in diff][:2] == [
        ("p-aaaaaa", "removed"),
        ("p-bbbbbb", "unchanged"),
    ]


def test_reordering_marks_the_moved_block_only(app):
    new = (OLD[0], OLD[3], OLD[1], OLD[2])
    diff = diff_blocks(OLD, new)
    assert [(d.id, d.status) for d in diff] == [
        ("p-aaaaaa", "unchanged"),
        ("p-dddddd", "moved"),
        ("p-bbbbbb", "unchanged"),
        ("p-cccccc", "unchanged"),
    ]
    assert not diff[1].text_changed


def test_moved_and_edited_block_counts_as_changed_too(app):
    moved = _changed(OLD[3], "Dry with a clean cloth.")
    diff = diff_blocks(OLD, (OLD[0], moved, OLD[1], OLD[2]))
    assert diff[1].status == "moved" and diff[1].text_changed
    counts = summary(diff)
    assert counts["moved"] == 1 and counts["changed"] == 1
    assert "Changed" in render_inline(diff)


def test_identical_versions_have_no_changes(app):
    diff = diff_blocks(OLD, OLD)
    assert {d.status for d in diff} == {"unchanged"}
    assert "<del>" not in render_inline(diff) and "<ins>" not in render_inline(diff)


def test_blocks_follow_the_new_order_when_parsed_from_files(app):
    old = parse_blocks("{#p-aaaaaa}\nOne two.\n\n{#p-bbbbbb}\nThree.\n")
    new = parse_blocks("{#p-bbbbbb}\nThree.\n\n{#p-aaaaaa}\nOne two three.\n")
    diff = diff_blocks(old, new)
    assert [d.id for d in diff] == ["p-bbbbbb", "p-aaaaaa"]
    assert diff[1].inserted_words == 1


def test_side_by_side_is_a_table_with_before_and_after(app):
    new = (OLD[0], OLD[1], _changed(OLD[2], "Wash with soap for thirty seconds."))
    html = render_side_by_side(diff_blocks(OLD, new))
    assert "<table" in html and "<caption" in html
    assert '<th scope="col">Before</th>' in html
    assert '<th scope="col">After</th>' in html
    assert html.count('<th scope="row">') == 4
    assert marked(html, "del") == ["twenty", OLD[3].text]
    assert marked(html, "ins") == ["thirty"]


def test_side_by_side_headers_go_through_the_translation_catalogue(app, monkeypatch):
    from curriculum import diff as module

    monkeypatch.setattr(module, "_", lambda text: f"«{text}»")
    html = render_side_by_side(diff_blocks(OLD, OLD))
    assert '<th scope="col">«Before»</th>' in html
    assert '<th scope="col">«After»</th>' in html


def test_source_text_is_escaped_not_rendered(app):
    old = (Block("p-xsxsxs", "Hello"),)
    new = (Block("p-xsxsxs", "Hello <script>alert(1)</script> **bold**"),)
    for html in (render_inline(diff_blocks(old, new)), render_side_by_side(diff_blocks(old, new))):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "**bold**" in html


def test_summary_counts_blocks_and_words(app):
    new = (
        OLD[0],
        _changed(OLD[1], "Germs travel on dirty hands to food."),  # +dirty, -and water
        Block("p-eeeeee", "Use a clean basin."),  # +4 words
        OLD[3],
    )  # p-cccccc removed: -6 words
    counts = summary(diff_blocks(OLD, new))
    assert counts == {
        "unchanged": 2,
        "changed": 1,
        "added": 1,
        "removed": 1,
        "moved": 0,
        "inserted_words": 1 + 4,
        "deleted_words": 2 + 6,
    }


def test_adjacent_word_changes_read_as_one_replacement():
    ops = word_ops("the quick red fox", "the slow blue fox")
    assert [op.tag for op in ops] == ["equal", "replace", "equal"]
    assert ops[1] == WordOp("replace", "quick red", "slow blue", 2, 2)


def test_diff_partial_renders_both_modes_without_javascript(app):
    new = (OLD[0], OLD[1], _changed(OLD[2], "Wash with soap for thirty seconds."), OLD[3])
    diff = diff_blocks(OLD, new)
    assert isinstance(diff, DocumentDiff)
    with app.test_request_context():
        inline = render_template_string(
            '{% include "curriculum/_diff.html" %}', diff=diff, mode="inline"
        )
        side = render_template_string(
            '{% include "curriculum/_diff.html" %}', diff=diff, mode="side"
        )
    assert 'class="diff diff-inline"' in inline and "<table" not in inline
    assert "<table" in side and "Before" in side
    for html in (inline, side):
        assert "<script" not in html
        assert "1 paragraph changed" in html
        assert "1 word inserted" in html and "1 word deleted" in html
        assert 'class="diff-legend"' in html


def test_diff_partial_says_when_nothing_changed(app):
    with app.test_request_context():
        html = render_template_string(
            '{% include "curriculum/_diff.html" %}', diff=diff_blocks(OLD, OLD), mode="side"
        )
    assert "The two versions have the same text." in html
