"""Helpers shared by forms across the host and the plugins."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from lms.errors import LmsError


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
