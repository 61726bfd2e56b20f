"""Module text to safe HTML: what renders, which way it reads, and what never gets through."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from curriculum.content import Block, parse_blocks
from curriculum.render import render_block, render_document, text_direction


class _Elements(HTMLParser):
    """Every start tag with its attributes, so tests check structure rather than strings."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in elements(html) if tag == name]


def render(text: str, kind: str = "paragraph", activity: str | None = None) -> str:
    return str(render_block(Block("p-abc123", text, kind, activity)))


def test_block_is_a_section_anchored_by_its_id():
    html = render_block(Block("p-abc123", "Germs travel on hands."))
    assert isinstance(html, Markup)
    (section,) = tags(html, "section")
    assert section == {
        "class": "block block-paragraph",
        "id": "p-abc123",
        "data-block": "p-abc123",
        "dir": "ltr",
    }
    assert "<p>Germs travel on hands.</p>" in html


def test_headings_lists_and_emphasis_render():
    assert "<h2>Six steps</h2>" in render("## Six steps", "heading")
    html = render("1. Wet hands\n2. **Soap** for *20* seconds\n3. `Rinse`", "list")
    assert [tag for tag, _ in elements(html)][1:] == [
        "ol",
        "li",
        "li",
        "strong",
        "em",
        "li",
        "code",
    ]


def test_ordered_list_keeps_its_start_number():
    (ol,) = tags(render("3. Third\n4. Fourth", "list"), "ol")
    assert ol == {"start": "3"}


def test_table_renders_with_alignment_as_classes_not_styles():
    html = render("| Step | Seconds |\n|:--|--:|\n| Wash | 20 |", "table")
    assert [tag for tag, _ in elements(html)][1:4] == ["table", "thead", "tr"]
    assert "style" not in html
    assert tags(html, "th") == [{"class": "align-left"}, {"class": "align-right"}]
    assert tags(html, "td") == [{"class": "align-left"}, {"class": "align-right"}]


def test_activity_gets_its_classes_and_a_translated_label(app):
    text = "::: activity group-work\n**Group work (15 minutes).** In groups of four …\n:::"
    html = render(text, "activity", "group-work")
    (section,) = tags(html, "section")
    assert section["class"] == "block block-activity activity activity-group-work"
    assert '<p class="activity-label">Group work</p>' in html
    assert "<strong>Group work (15 minutes).</strong>" in html
    assert ":::" not in html


def test_activity_kind_is_read_from_the_fence_when_the_block_lacks_it(app):
    html = render("::: activity role-play\nPlay the nurse.\n:::", "activity")
    assert "activity-role-play" in tags(html, "section")[0]["class"]
    assert '<p class="activity-label">Role play</p>' in html


def test_images_render_with_http_and_data_sources_only():
    (img,) = tags(render('![A basin](https://example.org/basin.png "Basin")', "image"), "img")
    assert img == {"src": "https://example.org/basin.png", "alt": "A basin", "title": "Basin"}
    (img,) = tags(render("![dot](data:image/png;base64,iVBORw0KGgo=)"), "img")
    assert img["src"] == "data:image/png;base64,iVBORw0KGgo="
    for source in ("data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd", "/local.png"):
        assert tags(render(f"![bad]({source})"), "img") == []


def test_links_keep_safe_schemes_and_get_rel():
    html = render('[Ministry](https://example.org/ "Site") and [write](mailto:a@example.org)')
    assert tags(html, "a") == [
        {"href": "https://example.org/", "title": "Site", "rel": "noopener noreferrer"},
        {"href": "mailto:a@example.org", "rel": "noopener noreferrer"},
    ]


def test_other_links_become_plain_text():
    html = render("[files](ftp://example.org/x) and [page](/relative)")
    assert tags(html, "a") == []
    assert "files" in html and "page" in html


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=abc",
        "https://youtu.be/abc",
        "https://vimeo.com/123",
        "https://m.youtube.com/watch?v=abc",
    ],
)
def test_video_links_are_marked(url):
    (link,) = tags(render(f"[Watch the lesson]({url})"), "a")
    assert link["class"] == "video-link"


def test_links_that_only_mention_a_video_host_are_not_videos():
    (link,) = tags(render("[x](https://notyoutube.com.example.org/youtube.com)"), "a")
    assert "class" not in link


def test_arabic_block_reads_right_to_left():
    html = render("> إِنَّ اللَّهَ جَمِيلٌ يُحِبُّ الْجَمَالَ", "quote")
    assert tags(html, "section")[0]["dir"] == "rtl"
    assert "إِنَّ اللَّهَ جَمِيلٌ يُحِبُّ الْجَمَالَ" in html


def test_direction_comes_from_the_first_strong_letter_not_from_markup():
    # Digits, punctuation, emphasis marks and a link's URL are not letters.
    html = render("1. **[قُلْ هُوَ اللَّهُ أَحَدٌ](https://example.org)** (112:1)", "list")
    assert tags(html, "section")[0]["dir"] == "rtl"
    assert text_direction("«123» Саламатсызбы") == "ltr"
    assert text_direction("  ...  ") == "ltr"


def test_arabic_item_inside_an_english_block_reads_right_to_left():
    text = "- Remember the hadith:\n  > إِنَّ اللَّهَ جَمِيلٌ\n- قُلْ هُوَ اللَّهُ أَحَدٌ\n- Wash your hands."
    html = render(text, "list")
    assert tags(html, "section")[0]["dir"] == "ltr"
    assert tags(html, "blockquote") == [{"dir": "rtl"}]
    assert tags(html, "li") == [{}, {"dir": "rtl"}, {}]


def test_kyrgyz_and_russian_letters_survive():
    text = "Колуңузду самындап жууңуз: өтө маанилүү. Мойте руки с мылом — ёлка, щётка."
    html = render(text)
    assert text in html


def test_render_document_joins_the_blocks_in_order(app):
    body = (
        "{#p-k3v9qa}\n# Hand hygiene\n\n"
        "{#p-8d2mfx}\nGerms travel on hands.\n\n"
        "{#p-q7w1zz}\n::: activity discussion\nTalk about it.\n:::\n\n"
        "{#p-ar01bc}\n> إِنَّ اللَّهَ جَمِيلٌ\n"
    )
    html = render_document(parse_blocks(body))
    assert isinstance(html, Markup)
    sections = tags(html, "section")
    assert [s["id"] for s in sections] == ["p-k3v9qa", "p-8d2mfx", "p-q7w1zz", "p-ar01bc"]
    assert [s["dir"] for s in sections] == ["ltr", "ltr", "ltr", "rtl"]
    assert sections[2]["class"] == "block block-activity activity activity-discussion"


# --- what must never get through ---------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "Text <script>alert(1)</script> more",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JavaScript:alert(1))",
    "[x](java&#x73;cript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '[x](https://example.org/"onmouseover="alert(1))',
    '![x](https://example.org/a.png "t\\" onerror=\\"alert(1)")',
    "<svg onload=alert(1)>",
    "<iframe src=https://example.org></iframe>",
    "<style>body{display:none}</style>",
    "::: activity group-work\n<script>alert(1)</script>\n:::",
    "> <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
]


@pytest.mark.parametrize("text", XSS)
def test_attacks_are_neutralised(text):
    html = render(text)
    found = elements(html)
    assert {tag for tag, _ in found} <= {
        "section",
        "p",
        "a",
        "img",
        "blockquote",
        "div",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
    for _tag, attrs in found:
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name != "style"
            if name in ("href", "src"):
                assert value is not None
                assert value.startswith(("https://", "http://", "mailto:", "data:image/")), html


def test_raw_html_is_shown_as_text_not_run():
    html = render("<img src=x onerror=alert(1)> and <script>alert(1)</script>")
    assert tags(html, "img") == [] and tags(html, "script") == []
    assert "&lt;script&gt;" in html


def test_javascript_link_keeps_no_href():
    html = render("[click me](javascript:alert(1))")
    assert tags(html, "a") == []
    assert 'href="javascript' not in html.lower()


@pytest.mark.parametrize("text", XSS)
def test_sanitiser_stops_attacks_even_if_raw_html_got_through(monkeypatch, text):
    # Defence in depth: were raw HTML ever switched on, nh3 must still catch it.
    from curriculum import render as module

    monkeypatch.setitem(module._MD.options, "html", True)
    html = render(text)
    for tag, attrs in elements(html):
        assert tag not in ("script", "iframe", "svg", "style")
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", html
            if name in ("href", "src"):
                assert value and value.startswith(("https://", "http://", "data:image/")), html
