#!/usr/bin/env python
"""Coverage-guided fuzzing of the module file parser (curriculum.content) and the renderer
that turns module text into HTML (curriculum.render), with atheris.

    python fuzz/fuzz_markdown.py -max_total_time=60 fuzz/work/markdown fuzz/corpus/markdown

or ``fuzz/run.sh SECONDS`` for both harnesses. What counts as a crash is in fuzz/targets.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(
    include=["curriculum.content", "curriculum.render", "markdown_it", "mdit_py_plugins", "yaml"]
):
    import curriculum.content
    import curriculum.render  # noqa: F401

import targets


def test_one_input(data: bytes) -> None:
    targets.check_markdown(data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
