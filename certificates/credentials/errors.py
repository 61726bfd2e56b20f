"""The one exception type of the signed-credential layer.

Credentials, tokens and status lists arrive from outside (a wallet, a QR code, a verifier's
upload), so every malformed input or failed check surfaces as :class:`CredentialError`.
Callers then need exactly one ``except`` clause, and no ``KeyError``, ``TypeError``,
``binascii.Error``, JSON error or ``cryptography`` exception ever leaks into a view as a 500.
"""

from __future__ import annotations


class CredentialError(ValueError):
    """A credential, key, token or status list is malformed, or a check on it failed.

    It subclasses :class:`ValueError` because every case is "this value is not acceptable";
    the message says which check failed, in plain English, for logs and error pages.
    """
