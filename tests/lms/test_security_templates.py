"""No inline script anywhere (ASVS 14.4.3, 50.2): the Content-Security-Policy allows scripts
only from this site's files, so no template may carry an inline ``<script>``, an ``on…=``
handler or a ``javascript:`` address, and no script file may use ``eval``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["lms", "curriculum", "lessons", "quizzes", "certificates", "tests/plugins"]
#: Data blocks, which browsers never run.
DATA_TYPES = {"application/json", "application/ld+json"}

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
TYPE_ATTR = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\s(on[a-z]+)\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
EVAL = re.compile(r"\beval\s*\(|\bnew\s+Function\s*\(|setTimeout\s*\(\s*['\"]")


def _files(pattern: str) -> list[Path]:
    found: list[Path] = []
    for package in PACKAGES:
        found.extend(sorted((ROOT / package).glob(pattern)))
    return found


TEMPLATES = _files("**/templates/**/*.html")
SCRIPTS = [p for p in _files("**/static/**/*.js") if ".min." not in p.name]


def inline_script_problems(html: str) -> list[str]:
    """Inline scripts, event-handler attributes and ``javascript:`` addresses in ``html``."""
    problems = []
    for match in SCRIPT_TAG.finditer(html):
        attributes = match.group(1)
        script_type = TYPE_ATTR.search(attributes)
        if re.search(r"\bsrc\s*=", attributes, re.IGNORECASE):
            continue
        if script_type and script_type.group(1).lower() in DATA_TYPES:
            continue
        problems.append(f"inline <script{attributes}>")
    problems.extend(f"{m.group(1)}= handler" for m in HANDLER.finditer(html))
    problems.extend("javascript: address" for _ in JS_URL.finditer(html))
    return problems


def test_the_checker_finds_what_it_looks_for():
    assert inline_script_problems("<script>alert(1)</script>")
    assert inline_script_problems('<a href="#" onclick="go()">x</a>')
    assert inline_script_problems('<body\n onload="go()">')
    assert inline_script_problems('<a href="javascript:go()">x</a>')
    assert not inline_script_problems('<script src="/static/x.js" defer></script>')
    assert not inline_script_problems('<script type="application/json" id="c">{}</script>')
    assert not inline_script_problems('<p class="online">once upon a time</p>')


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 50


def test_no_template_has_inline_script():
    problems = {
        str(path.relative_to(ROOT)): found
        for path in TEMPLATES
        if (found := inline_script_problems(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_no_script_evaluates_text():
    assert SCRIPTS, "no script files found"
    offenders = [
        str(path.relative_to(ROOT))
        for path in SCRIPTS
        if EVAL.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
