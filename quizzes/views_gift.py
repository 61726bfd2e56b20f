"""GIFT pages of a question bank: upload a file to import, download the bank as GIFT.

The upload is checked completely before anything is saved; when it has problems the page
lists them by line and the bank is unchanged, so the author fixes the file and uploads it
again. Both pages need ``quizzes.author`` on the bank.
"""

from __future__ import annotations

import io
import re
from typing import Any

from flask import render_template, request, send_file
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from lms.accounts.permissions import permission_required, require
from lms.config import LANGUAGES
from lms.errors import Invalid, LmsError, NotFound
from lms.extensions import db
from lms.forms import CONTROL_CHARACTERS, LmsForm
from quizzes import gift_io
from quizzes.gift import GiftError, GiftProblem
from quizzes.models import QuestionBank
from quizzes.question_types import registry
from quizzes.views import bp

#: More problems than this are counted but not listed; the author fixes these first.
MAX_PROBLEMS_SHOWN = 200


class GiftImportForm(LmsForm):
    file = FileField(
        _l("GIFT file"),
        validators=[FileRequired(message=_l("Choose a GIFT file."))],
        description=_l("A .gift or .txt file in UTF-8, at most 1 MB, as Moodle exports it."),
        render_kw={"accept": ".gift,.txt,text/plain"},
    )
    language = SelectField(_l("Language of the questions"), validators=[DataRequired()])


def _bank(bank_id: int) -> QuestionBank:
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        raise NotFound()
    require("quizzes.author", bank)
    return bank


def _read_upload(form: GiftImportForm) -> tuple[str, str]:
    """(text, file name) of the upload, or ``Invalid`` saying what is wrong with the file."""
    upload = form.file.data
    # The name is shown and kept in the audit log: no control characters, a sane length.
    filename = CONTROL_CHARACTERS.sub("", upload.filename or "")[:255]
    if filename and not filename.lower().endswith((".gift", ".txt")):
        raise Invalid(_l("Choose a GIFT file (its name ends in .gift or .txt)."))
    # One byte more than allowed is enough to know the file is too large.
    return gift_io.decode_gift(upload.read(gift_io.MAX_BYTES + 1)), filename


@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
@permission_required("quizzes.author")
def import_gift(bank_id: int) -> Any:
    """Upload a GIFT file: all of it is imported, or nothing and the problems by line."""
    bank = _bank(bank_id)
    form = GiftImportForm()
    form.language.choices = [SelectChoice(code, name) for code, name in LANGUAGES.items()]
    if request.method == "GET":
        locale = str(get_locale() or "en")
        form.language.data = locale if locale in LANGUAGES else "en"
    problems: list[GiftProblem] = []
    if form.validate_on_submit():
        try:
            text, filename = _read_upload(form)
            report = gift_io.import_gift(
                bank,
                text,
                actor_id=current_user.id,
                language=form.language.data or "en",
                filename=filename,
            )
        except GiftError as error:
            db.session.rollback()
            problems = error.problems
        except LmsError as error:
            db.session.rollback()
            messages = [m for found in error.field_errors.values() for m in found]
            form.file.errors = [*form.file.errors, *(messages or [error.message])]
        else:
            db.session.commit()
            return render_template(
                "quizzes/gift_import_done.html",
                bank=bank,
                report=report,
                labels={type_id: qtype.label for type_id, qtype in registry().items()},
            )
    return render_template(
        "quizzes/gift_import.html",
        bank=bank,
        form=form,
        problems=problems[:MAX_PROBLEMS_SHOWN],
        problem_count=len(problems),
    )


def _download_name(bank: QuestionBank) -> str:
    """``health-basics-pre-test.gift``: the manual and the bank's name as far as they are
    plain letters and digits (a Cyrillic name falls back to the bank's number)."""
    words = re.sub(r"[^a-z0-9]+", "-", bank.name.lower()).strip("-")
    return f"{bank.manual_slug}-{words or f'bank-{bank.id}'}.gift"


@bp.get("/banks/<int:bank_id>/export.gift")
@permission_required("quizzes.author")
def export_gift(bank_id: int) -> Any:
    """The bank as a GIFT file, to edit in a text editor or take to Moodle."""
    bank = _bank(bank_id)
    data = gift_io.export_gift(bank).encode("utf-8")
    return send_file(
        io.BytesIO(data),
        mimetype="text/plain",
        as_attachment=True,
        download_name=_download_name(bank),
        max_age=0,
    )
