"""Webhook signatures: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret.

[assumed] the key is the whole `whsec_…` string as UTF-8 bytes (see the API contract);
this is the one place to change if ZazaVoice documents otherwise.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-ZazaVoice-Signature"
EVENT_HEADER = "X-ZazaVoice-Event"


def sign(secret: str, body: bytes) -> str:
    """The signature ZazaVoice sends for `body` under `secret`."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` (hex, any case, surrounding blanks ignored) matches `body`.

    Constant-time, so a receiver cannot be probed byte by byte.
    """
    if not signature:
        return False
    expected = sign(secret, body)
    return hmac.compare_digest(expected, signature.strip().lower())
