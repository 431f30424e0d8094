"""Receiving and checking ZazaVoice webhook events (no CLI imports in this package)."""

from zazacli.webhooks.signing import sign, verify_signature

__all__ = ["sign", "verify_signature"]
