"""WTForms' built-in messages, listed so `make extract-messages` puts them in our catalogs.

WTForms has translations for Russian but none for Kyrgyz; ``lms.forms.LmsForm`` looks its
messages up in our catalogs instead, so every language gets them. Nothing calls this module.
"""

from __future__ import annotations


def gettext(message: str) -> str:
    """A marker for message extraction only."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """A marker for message extraction only."""
    return singular if n == 1 else plural


MESSAGES = (
    gettext("This field is required."),
    gettext("Not a valid choice."),
    gettext("Invalid Choice: could not coerce."),
    gettext("Not a valid date value."),
    gettext("Not a valid datetime value."),
    gettext("Not a valid integer value."),
    gettext("Not a valid decimal value."),
    gettext("Not a valid float value."),
    gettext("Invalid input."),
    gettext("Invalid email address."),
    gettext("Field must be equal to %(other_name)s."),
    gettext("Field must be between %(min)d and %(max)d characters long."),
    gettext("Number must be at least %(min)s."),
    gettext("Number must be at most %(max)s."),
    gettext("Number must be between %(min)s and %(max)s."),
    gettext("CSRF token missing."),
    gettext("CSRF failed."),
    gettext("CSRF token expired."),
    gettext("Invalid CSRF Token."),
    gettext("The CSRF token is missing."),
    gettext("The CSRF token is invalid."),
    gettext("The CSRF token has expired."),
    gettext("The CSRF tokens do not match."),
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        2,
    ),
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        2,
    ),
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        2,
    ),
)
