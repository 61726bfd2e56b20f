"""Pinned JSON-LD contexts and a document loader that never touches the network.

Credentials name their vocabularies by URL. A verifier that fetched those URLs at run time
would depend on third-party servers and could be fed a different context; so the three
contexts this project uses ship inside the package, byte for byte as published, and
:func:`document_loader` (PyLD's loader shape) serves only them and refuses every other URL.

The ``eddsa-jcs-2022`` proofs made here need no JSON-LD processing at all; the loader is
for tests and for anyone who wants to expand or RDF-canonicalise our credentials.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from .errors import CredentialError

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

#: Context URL -> file name under ``certificates/credentials/contexts/``.
CONTEXT_FILES: dict[str, str] = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    CREDENTIALS_EXAMPLES_V2: "credentials-examples-v2.jsonld",
    OPEN_BADGES_V3: "ob-v3p0-context-3.0.3.jsonld",
}


def context_bytes(url: str) -> bytes:
    """The exact published bytes of the context at ``url``."""
    name = CONTEXT_FILES.get(url) if isinstance(url, str) else None
    if name is None:
        raise CredentialError(f"no pinned JSON-LD context for {url!r}; nothing is fetched")
    return resources.files(__package__).joinpath("contexts").joinpath(name).read_bytes()


@cache
def _parsed(url: str) -> dict[str, Any]:
    return json.loads(context_bytes(url))


def load_context(url: str) -> dict[str, Any]:
    """The parsed context document for ``url`` (a fresh copy the caller may change)."""
    context_bytes(url)  # raises for an unknown URL before the cache sees it
    return copy.deepcopy(_parsed(url))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyLD ``documentLoader``: serve a pinned context, raise for anything else."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
    }
