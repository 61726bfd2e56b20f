"""The Russian and Kyrgyz catalogs are complete and up to date with the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "lms" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> set[str]:
    """Extract every translatable string from the code and templates, as `make` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(pot, "rb") as handle:
        return {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(handle)
            if message.id
        }


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_every_string_in_the_code_is_translated(language, source_messages):
    catalog = _catalog(language)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(source_messages - translated)
    assert not missing, f"{len(missing)} strings lack a {language} translation: {missing[:15]}"


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_translations_keep_their_placeholders(language):
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if not text:
                continue  # untranslated: the completeness test reports it
            assert set(PLACEHOLDER.findall(text)) == expected, (language, message.id, text)


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_a_translation_used_in_a_template_doubles_a_literal_percent_sign(language):
    """Jinja's gettext always %-formats, so "100%" in a template's translation is a 500."""
    tokens = re.compile(r"%\(\w+\)[sdf]|%%")
    bad = []
    for message in _catalog(language):
        if not message.id or not message.string:
            continue
        from_templates = all(path.endswith(".html") for path, _ in message.locations)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if from_templates and any("%" in tokens.sub("", s) for s in strings if s):
            bad.append(message.id)
    assert bad == []
