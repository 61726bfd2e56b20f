"""Import module files on the web: the upload form of ``lms curriculum import``.

Editors work on module files in a text editor and are rarely at the server's command line,
so a manual's page takes the same files as an upload. As with the command, every file is
checked before anything is saved: a bad file is listed with its name, line and reason and
nothing is imported. Files may only belong to the manual whose page they are uploaded on,
because an editor's role may cover that manual and no other.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf.file import FileRequired, MultipleFileField

from curriculum import io
from curriculum.blueprint import bp
from curriculum.views_review import manual_or_404
from lms.accounts.permissions import require
from lms.extensions import db
from lms.forms import CONTROL_CHARACTERS, LmsForm

#: More files than this in one upload is not an editor's day of work; it is refused.
MAX_FILES = 100


class ImportForm(LmsForm):
    files = MultipleFileField(
        _l("Module files"),
        validators=[FileRequired(message=_l("Choose one or more module files."))],
        description=_l(
            "Markdown files (.md) in UTF-8, at most 512 KB each, as the export writes them."
        ),
        render_kw={"accept": ".md,text/markdown,text/plain"},
    )


def _uploaded(form: ImportForm) -> list[tuple[str, bytes]]:
    """(name, bytes) of each uploaded file; a name is shown, so it is kept printable."""
    files = []
    for upload in form.files.data or []:
        name = CONTROL_CHARACTERS.sub("", getattr(upload, "filename", None) or "")[:255]
        # One byte more than allowed is enough for the check to say the file is too large.
        files.append((name or "?", upload.read(io.MAX_FILE_BYTES + 1)))
    return files


@bp.route("/<slug>/import", methods=["GET", "POST"])
@login_required
def import_modules(slug: str) -> Any:
    """Upload module files: each new or changed text becomes a draft, or nothing happens."""
    manual = manual_or_404(slug)
    require("curriculum.edit", manual)
    form = ImportForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        files = _uploaded(form)
        wrong = [name for name, _ in files if not name.lower().endswith(".md")]
        if len(files) > MAX_FILES:
            form.files.errors = [_l("Upload at most %(n)s files at a time.", n=MAX_FILES)]
            status = 400
        elif wrong:
            form.files.errors = [
                _l(
                    "Choose module files (their names end in .md): %(names)s",
                    names=", ".join(wrong),
                )
            ]
            status = 400
        else:
            try:
                report = io.import_files(files, actor_id=current_user.id, only_manual=manual.slug)
            except io.ImportFailed as failure:
                db.session.rollback()
                problems = [str(problem) for problem in failure.problems]
                status = 400
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "%(num)s new draft was made; unchanged files: %(same)s.",
                        "%(num)s new drafts were made; unchanged files: %(same)s.",
                        len(report.created),
                        same=len(report.unchanged),
                    ),
                    "success",
                )
                if len(report.created) == 1:
                    return redirect(url_for("curriculum.version", version_id=report.created[0].id))
                return redirect(url_for("curriculum.manual", slug=manual.slug))
    elif form.is_submitted():
        status = 400
    return render_template(
        "curriculum/import.html", manual=manual, form=form, problems=problems
    ), status
