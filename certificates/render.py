"""Certificate PDFs are rendered by the host's locked-down WeasyPrint helper."""

from __future__ import annotations

from lms.pdf import font_configuration, html_to_pdf, restricted_url_fetcher

__all__ = ["font_configuration", "html_to_pdf", "restricted_url_fetcher"]
