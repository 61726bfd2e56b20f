"""What other plugins may call: the manuals and their titles."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from curriculum.services import get_manual, list_manuals

__all__ = ["get_manual", "list_manuals", "manual_choices"]


def manual_choices() -> list[SelectChoice]:
    """(slug, title in the page's language) for select fields in other plugins."""
    return [SelectChoice(manual.slug, manual.title) for manual in list_manuals()]
