"""PDF rendering with WeasyPrint for every plugin, never reaching outside the document.

The URL fetcher refuses every URL except inline ``data:`` ones, so neither a design nor a
name printed on a certificate can read local files or reach the network. Fonts come from
the system (fontconfig) and are embedded in the PDF.

WeasyPrint (with Pango and its fonts, some 40 MB) is imported when the first PDF is made,
not when the app starts: a web worker that only serves pages never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weasyprint import URLFetcher
    from weasyprint.text.fonts import FontConfiguration


def restricted_url_fetcher() -> URLFetcher:
    """A fetcher that only opens inline ``data:`` URLs; anything else is skipped."""
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


_font_config: FontConfiguration | None = None


def font_configuration() -> FontConfiguration:
    """One FontConfiguration per process: building it is the slow part of a first render."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=restricted_url_fetcher(), base_url="about:blank")
    return document.write_pdf(font_config=font_configuration())
