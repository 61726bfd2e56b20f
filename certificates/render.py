"""Certificate PDFs: a design's Jinja template and stylesheet, rendered by WeasyPrint.

The HTML comes from the app's Jinja environment under ``force_locale(language)``, so the
design's ``_()`` strings and dates come out in the certificate's language whatever the
language of the person (or job) rendering it. A bilingual design prints a second language
with the ``in_language`` call block (see ``in_language``).

WeasyPrint runs with the host's locked-down helpers (``lms.pdf``): the URL fetcher opens
only inline ``data:`` URLs, so neither a design nor a recipient's name can read a local
file or reach the network, and the one FontConfiguration of the process is reused. Each
design's stylesheet is parsed once per process and passed as a ``weasyprint.CSS`` object:
parsing CSS and building fonts are the costly parts of a small page, so a certificate
renders faster than a bare ``HTML(string=...).write_pdf()`` of the same page.
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from babel.dates import format_date as babel_format_date
from flask import current_app, render_template
from flask_babel import force_locale, format_date, get_locale
from markupsafe import Markup

from certificates.designs import KINDS, CertificateTemplate
from certificates.printed import PrintedCertificate
from certificates.qr import qr_data_uri
from lms.pdf import font_configuration, restricted_url_fetcher

if TYPE_CHECKING:
    from weasyprint import CSS

# -- template helpers ---------------------------------------------------------------------


def in_language(language: str, caller: Callable[[], str]) -> Markup:
    """Render the body of a ``{% call in_language("ru") %}…{% endcall %}`` block in ``language``.

    Every ``_()``, lazy string and date inside the block is resolved while the block is
    rendered, so switching the locale around ``caller()`` translates the block as a whole.
    Designs keep writing plain ``_("…")`` (which the message extractor finds) instead of a
    second, design-specific gettext function.
    """
    with force_locale(language):
        return Markup(caller())  # nosec B704  # the output of a Jinja macro, already escaped


def text_direction(text: str) -> str:
    """``rtl`` when the first strong character of ``text`` is right-to-left, else ``auto``.

    WeasyPrint ignores ``dir="auto"``, so a name written in Arabic script gets an explicit
    ``dir="rtl"``; other names keep ``auto``, right for a browser showing the same HTML.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "auto"
    return "auto"


def size_class(text: str, *limits: int) -> str:
    """``fit-0`` while ``text`` is at most ``limits[0]`` characters, then ``fit-1``, …

    CSS cannot shrink text to fit a box, so designs choose a smaller font size by length;
    a 120-character name then still fits on its lines instead of spilling off the page.
    """
    length = len(text)
    for index, limit in enumerate(limits):
        if length <= limit:
            return f"fit-{index}"
    return f"fit-{len(limits)}"


def long_date(day: date | None) -> str:
    """A date spelled out in the current (forced) locale, e.g. "16 сентября 2026 г."."""
    return format_date(day, "long") if day else ""


#: A run of exactly three month letters (abbreviated month) in a CLDR date pattern.
_SHORT_MONTH = re.compile(r"(?<![ML])([ML])\1\1(?![ML])")


def date_range(start: date | None, end: date | None) -> str:
    """The dates something took place, shortened per locale: "September 14 – 16, 2026".

    CLDR has interval patterns only with abbreviated months ("Sep 14 – 16"); a certificate
    spells months out, so the locale's ``yMMMd`` interval pattern is used with the month
    widened to its full name. Without such a pattern both dates are printed in full.
    """
    if not (start and end) or start == end:
        return long_date(start or end)
    locale = get_locale()
    patterns = locale.interval_formats.get("yMMMd") if locale else None
    field = "y" if start.year != end.year else "M" if start.month != end.month else "d"
    pair = patterns.get(field) if patterns else None
    if not pair or len(pair) != 2:
        return f"{long_date(start)} – {long_date(end)}"
    return "".join(
        babel_format_date(day, _SHORT_MONTH.sub(r"\1\1\1\1", pattern), locale=locale)
        for pattern, day in zip(pair, (start, end), strict=True)
    )


TEMPLATE_HELPERS: dict[str, Any] = {
    "in_language": in_language,
    "text_direction": text_direction,
    "size_class": size_class,
    "long_date": long_date,
    "date_range": date_range,
    "kinds": KINDS,
}

# -- stylesheets --------------------------------------------------------------------------

_stylesheets: dict[tuple[str, str], CSS] = {}
_stylesheets_lock = threading.Lock()
#: Reloading templates in development makes a new source per edit; keep the cache bounded.
_MAX_STYLESHEETS = 64


def design_stylesheets(design: CertificateTemplate) -> list[CSS]:
    """The design's parsed stylesheet, parsed once per process and per source text.

    The source is looked up through the app's Jinja loader (so a package ships its CSS
    next to its templates) on every call, which costs a file read; keying the cache by the
    text keeps an edited stylesheet from being served stale in development.
    """
    if not design.stylesheet:
        return []
    env = current_app.jinja_env
    assert env.loader is not None  # nosec B101  # narrows a type for mypy; no security decision rests on it
    source, _filename, _uptodate = env.loader.get_source(env, design.stylesheet)
    key = (design.stylesheet, source)
    css = _stylesheets.get(key)
    if css is None:
        with _stylesheets_lock:
            css = _stylesheets.get(key)
            if css is None:
                from weasyprint import CSS

                css = CSS(
                    string=source,
                    base_url="about:blank",
                    url_fetcher=restricted_url_fetcher(),
                    font_config=font_configuration(),
                )
                if len(_stylesheets) >= _MAX_STYLESHEETS:
                    _stylesheets.clear()
                _stylesheets[key] = css
    return [css]


# -- rendering ----------------------------------------------------------------------------


def certificate_html(
    printed: PrintedCertificate, design: CertificateTemplate, *, qr_payload: str
) -> str:
    """The design's HTML for ``printed``, in the certificate's language (needs an app context).

    Raises ``ValueError`` when the design is not made for the certificate's language.
    """
    if printed.language not in design.languages:
        raise ValueError(
            f"design {design.id!r} has no {printed.language!r} version ({design.languages})"
        )
    with force_locale(printed.language):
        return render_template(
            design.template,
            certificate=printed,
            design=design,
            lang=printed.language,
            second_lang=design.second_language,
            qr_image=qr_data_uri(qr_payload),
            **TEMPLATE_HELPERS,
        )


def pdf_title(printed: PrintedCertificate) -> str:
    """The PDF's title: what a viewer's title bar and a file list show."""
    return f"{printed.serial} — {printed.recipient_name}"


def render_certificate(
    printed: PrintedCertificate,
    design: CertificateTemplate,
    *,
    qr_payload: str,
    attachments: Mapping[str, bytes] | None = None,
) -> bytes:
    """The certificate as PDF bytes: one A4 landscape page, files attached.

    ``qr_payload`` is what the printed QR code holds (the verification URL, possibly with
    ``#`` and a signed token). Each ``attachments`` item (file name → bytes, e.g. the
    signed credential) is embedded as a PDF file attachment. The PDF's dates are the issue
    date, so rendering the same certificate twice gives the same bytes. Needs an app
    context (the design is a Jinja template of the app).
    """
    from weasyprint import HTML, Attachment

    html = certificate_html(printed, design, qr_payload=qr_payload)
    document = HTML(
        string=html, base_url="about:blank", url_fetcher=restricted_url_fetcher()
    ).render(font_config=font_configuration(), stylesheets=design_stylesheets(design))
    issued = datetime.combine(printed.issued_on, time(), tzinfo=UTC)
    metadata = document.metadata
    metadata.title = pdf_title(printed)
    metadata.created = metadata.modified = printed.issued_on.isoformat()
    metadata.attachments = []  # only the files given here, never <link rel=attachment>
    files = [
        Attachment(
            file_obj=io.BytesIO(content),
            name=name,
            created=issued,
            modified=issued,
            url_fetcher=restricted_url_fetcher(),
        )
        for name, content in (attachments or {}).items()
    ]
    return document.write_pdf(attachments=files)
