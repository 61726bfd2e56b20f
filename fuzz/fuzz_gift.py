#!/usr/bin/env python
"""Coverage-guided fuzzing of the GIFT importer (quizzes.gift) with atheris.

    python fuzz/fuzz_gift.py -max_total_time=60 fuzz/work/gift fuzz/corpus/gift

or ``fuzz/run.sh SECONDS`` for both harnesses. What counts as a crash is in fuzz/targets.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["quizzes.gift", "quizzes.gift_io"]):
    import quizzes.gift
    import quizzes.gift_io  # noqa: F401

import targets


def test_one_input(data: bytes) -> None:
    targets.check_gift(data)


def main() -> None:
    with targets.app_context():  # built once, before the fuzzing starts
        pass
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
