"""Helpers shared by forms across the host and the plugins."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import get_translations
from flask_wtf import FlaskForm

from lms.errors import LmsError


class _CatalogTranslations:
    """WTForms' own messages ("This field is required.") from our catalogs, so they are
    translated into Kyrgyz too (WTForms ships no Kyrgyz); see lms/wtforms_messages.py."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class LmsForm(FlaskForm):
    """Base of every form: Flask-WTF (CSRF) with WTForms' messages in the user's language."""

    class Meta:
        def get_translations(self, form: Any) -> _CatalogTranslations:
            return _CatalogTranslations()


def apply_field_errors(form: FlaskForm, error: LmsError) -> None:
    """Show a service's field errors next to the form's fields; the rest as a message."""
    unplaced = False
    for name, messages in error.field_errors.items():
        field = getattr(form, name, None)
        if field is None:
            unplaced = True
            continue
        field.errors = [*field.errors, *messages]
    if unplaced or not error.field_errors:
        flash(str(error.message), "error")
