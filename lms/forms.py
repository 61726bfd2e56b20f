"""Helpers shared by forms across the host and the plugins."""

from __future__ import annotations

import re
from typing import Any

from flask import flash
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, StringField

from lms.errors import LmsError


class _CatalogTranslations:
    """WTForms' own messages ("This field is required.") from our catalogs, so they are
    translated into Kyrgyz too (WTForms ships no Kyrgyz); see lms/wtforms_messages.py."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


#: C0 control characters other than tab and line breaks: no one types them, PostgreSQL
#: cannot store NUL, and spreadsheets (XLSX exports) refuse the others.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def no_control_characters(value: Any) -> Any:
    """A filter on every text field: text with a control character is refused with a clear
    message (a ``ValueError`` in a filter becomes the field's error) instead of failing
    when it is saved."""
    if isinstance(value, str):
        found = CONTROL_CHARACTERS.search(value)
        if found:
            raise ValueError(
                _l(
                    "The text contains an invisible control character (%(code)s) that cannot "
                    "be saved. Delete it, or type the text again instead of pasting it.",
                    code=f"U+{ord(found.group()):04X}",
                )
            )
    return value


class LmsForm(FlaskForm):
    """Base of every form: Flask-WTF (CSRF) with WTForms' messages in the user's language,
    and no control characters in any text field."""

    class Meta:
        def get_translations(self, form: Any) -> _CatalogTranslations:
            return _CatalogTranslations()

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            """The posted fields, without any that has no name: a multipart part without a
            name arrives as the key None, which WTForms' lists of fields cannot take."""
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None or all(isinstance(key, str) for key in formdata):
                return formdata
            return MultiDict(
                (key, value) for key, value in formdata.items(multi=True) if isinstance(key, str)
            )

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            field = unbound_field.bind(form=form, **options)
            if isinstance(field, StringField):
                field.filters = (no_control_characters, *field.filters)
            return field


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
