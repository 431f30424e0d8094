"""Webhook signatures: lowercase hex HMAC-SHA256 of the raw body, keyed with the secret.

Which bytes are the key is not documented. [assumed] the key is the whole `whsec_…`
string as UTF-8 bytes (see the API contract); that form is what we sign with. A receiver
also accepts the Standard Webhooks convention, where the key is the base64-decoded part
after `whsec_`, so a check never fails just because our reading of the key was wrong.
This is the one place to change if ZazaVoice documents otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

SIGNATURE_HEADER = "X-ZazaVoice-Signature"
EVENT_HEADER = "X-ZazaVoice-Event"
SECRET_PREFIX = "whsec_"

# The two key forms a signature can match, as `signature_form` names them.
WHOLE_SECRET = "whole-secret"  # HMAC key: the whole `whsec_…` string, UTF-8
BASE64_KEY = "base64-key"  # HMAC key: base64-decode(the part after `whsec_`)


def sign(secret: str, body: bytes) -> str:
    """The signature of `body` under `secret`, keyed with the whole string (what we send)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def base64_key(secret: str) -> bytes | None:
    """The Standard Webhooks key: the part after `whsec_`, base64-decoded; None if it is not.

    Missing `=` padding is tolerated, and so is the URL-safe alphabet (`-`, `_`).
    Cached: a listener checks every event against the same secret.
    """
    if not secret.startswith(SECRET_PREFIX):
        return None
    rest = secret[len(SECRET_PREFIX) :].strip().rstrip("=")
    if not rest:
        return None
    altchars = b"-_" if ("-" in rest or "_" in rest) else None
    try:
        key = base64.b64decode(rest + "=" * (-len(rest) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def signature_form(secret: str, body: bytes, signature: str | None) -> str | None:
    """Which key form `signature` matches: WHOLE_SECRET, BASE64_KEY, or None for neither.

    The whole-string form is tried first; the base64 form only when it fails, so a
    sender using the first form costs one HMAC. Both compares are constant-time.
    """
    if not signature:
        return None
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    given = signature.strip().lower().encode("utf-8", "replace")
    if hmac.compare_digest(sign(secret, body).encode("ascii"), given):
        return WHOLE_SECRET
    key = base64_key(secret)
    if key is not None:
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        if hmac.compare_digest(expected, given):
            return BASE64_KEY
    return None


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` (hex, any case, surrounding blanks ignored) matches `body`.

    Either key form counts (see `signature_form`). Constant-time, so a receiver cannot
    be probed byte by byte.
    """
    return signature_form(secret, body, signature) is not None
