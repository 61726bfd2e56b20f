"""Every hook a plugin author can implement is documented in docs/plugins.md."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def test_every_hookspec_is_documented(app):
    pm = app.extensions["lms"].pm
    documented = set(re.findall(r"^### `(\w+)`", DOC.read_text(), flags=re.MULTILINE))
    hooks = {name for name in dir(pm.hook) if not name.startswith("_")}
    assert hooks, "no hooks found"
    missing = sorted(hooks - documented)
    assert not missing, f"hooks missing from docs/plugins.md: {missing}"
