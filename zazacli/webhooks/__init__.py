"""Receiving and checking ZazaVoice webhook events (no CLI imports in this package)."""

from zazacli.webhooks.signing import sign, signature_form, verify_signature

__all__ = ["sign", "signature_form", "verify_signature"]
