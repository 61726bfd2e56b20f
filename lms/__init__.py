"""madrasa-lms: the host application.

``create_app`` builds a Flask app: configuration, extensions, the plugin manager with the
four built-in plugins (curriculum, lessons, quizzes, certificates) and any third-party
plugin, and everything the plugins register. Plugins implement hooks with ``hookimpl``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("lms")


def create_app(config: Mapping[str, Any] | None = None, *, plugins: Iterable[object] = ()) -> Any:
    """Build the application; ``config`` overrides defaults and ``LMS_*`` variables."""
    from lms.app import build_app

    return build_app(config, plugins=plugins)


__all__ = ["__version__", "create_app", "hookimpl"]
