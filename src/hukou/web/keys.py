"""The app's field keys for routes: loaded on the first request that needs them.

Kept out of :mod:`hukou.keyring`, which ingest workers and the CLI import: they
need no web framework.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request

from hukou.config import ConfigurationError
from hukou.keyring import load_keyring
from hukou.security import KeyFileError, KeyRing

__all__ = ["request_keyring"]

log = logging.getLogger("hukou.keyring")


def request_keyring(request: Request) -> KeyRing:
    """The app's key ring, loaded on first use (a node that never decrypts needs none).

    Unavailable keys are a 503 for the caller and a logged error (under the request's
    correlation id) for the operator; the key material is never in either.
    """
    keyring: KeyRing | None = getattr(request.app.state, "keyring", None)
    if keyring is None:
        try:
            keyring = load_keyring(request.app.state.settings)
        except (KeyFileError, ConfigurationError):
            correlation = getattr(request.state, "correlation_id", "-")
            log.exception("field keys unavailable, correlation id %s", correlation)
            raise HTTPException(503, "field encryption keys are unavailable") from None
        request.app.state.keyring = keyring
    return keyring
