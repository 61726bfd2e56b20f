"""What other plugins may call: the manuals and their titles."""

from __future__ import annotations

from curriculum.services import get_manual, list_manuals

__all__ = ["get_manual", "list_manuals", "manual_choices"]


def manual_choices() -> list[tuple[str, str]]:
    """(slug, title in the page's language) for select fields in other plugins."""
    return [(manual.slug, manual.title) for manual in list_manuals()]
