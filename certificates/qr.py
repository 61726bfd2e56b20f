"""QR codes printed on certificates, as inline images WeasyPrint can embed without fetching.

The code is a PNG with one pixel per module, enlarged by the stylesheet with
``image-rendering: pixelated`` (the PDF image then has interpolation off, so every module
prints as a sharp square at any size). Measured against an SVG of the same code, the PNG
costs a few milliseconds per certificate where WeasyPrint's SVG renderer costs about ten
times more, for the same printed result.
"""

from __future__ import annotations

import segno

#: Error correction level M (15 % of the code can be damaged or covered): robust on paper
#: without making a ~400-character payload (URL, "#", signed token) too dense to scan.
ERROR_LEVEL = "m"
#: The quiet zone around the code, in modules, that scanners need (ISO/IEC 18004).
QUIET_ZONE = 4
#: A fixed data mask. Choosing the "best" of the eight masks (the standard's penalty score)
#: takes segno about 16 ms in pure Python — a third of a certificate's whole render — and
#: only avoids patterns that modern phone scanners read anyway; every mask is valid QR.
MASK = 2


def make_qr(payload: str) -> segno.QRCode:
    """The QR code for ``payload``: never a Micro QR, never a raised error level.

    ``boost_error=False`` keeps the level at M so the same payload always gives the same
    symbol (and size on paper), whatever spare capacity a version would have.
    """
    return segno.make_qr(payload, error=ERROR_LEVEL, boost_error=False, mask=MASK)


def qr_data_uri(payload: str) -> str:
    """A ``data:image/png`` URI of the QR code for ``payload``, one pixel per module."""
    return make_qr(payload).png_data_uri(scale=1, border=QUIET_ZONE)
