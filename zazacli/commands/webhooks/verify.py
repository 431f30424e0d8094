"""`zaza webhooks verify`: does a signature match a saved body (either key form)?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from zazacli.commands.app import get_context
from zazacli.commands.options import JqOpt, ReportFormatOpt, TemplateOpt
from zazacli.commands.webhooks.common import SecretOpt, resolve_secret
from zazacli.errors import UsageError, ZazaError

SignatureOpt = Annotated[
    str, typer.Option("--signature", help="The X-ZazaVoice-Signature value (hex).")
]
BodyFileArg = Annotated[
    str, typer.Argument(help="The raw body, byte for byte (- or nothing = stdin).")
]


def verify(
    ctx: typer.Context,
    signature: SignatureOpt,
    file: BodyFileArg = "-",
    secret: SecretOpt = None,
    fmt: ReportFormatOpt = None,
    jq: JqOpt = None,
    template: TemplateOpt = None,
) -> None:
    """Check that SIGNATURE is the signature of a saved body (exit 0), or not (exit 1).

    Both key forms are tried: the whole whsec_… string (form whole-secret), then the
    base64-decoded part after whsec_ (form base64-key, the Standard Webhooks convention);
    the answer says which one matched.

    \b
    Examples:
      zaza webhooks verify body.json --signature "$SIGNATURE"
      zaza webhooks verify body.json --signature "$SIGNATURE" --json
    """
    from zazacli.output import Format
    from zazacli.output.webhooks import webhook_verify_result
    from zazacli.webhooks.signing import signature_form

    app_ctx = get_context(ctx)
    chosen = app_ctx.out.view(fmt, jq=jq, template=template).format
    secret_value, _ = resolve_secret(app_ctx, secret)
    if not secret_value:
        raise UsageError(
            "no secret to check with",
            hint="pass --secret, or set ZAZA_WEBHOOK_SECRET or the profile's webhook_secret",
        )
    body = _read_body(file)
    form = signature_form(secret_value, body, signature)
    webhook_verify_result(app_ctx.out, form, as_json=chosen is Format.json)
    if form is None:
        raise ZazaError(
            "signature does NOT match", hint=_mismatch_hint(secret_value, body, signature)
        )


def _read_body(file: str) -> bytes:
    """The body as bytes: a signature covers them exactly, so nothing is decoded."""
    try:
        return sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None


def _mismatch_hint(secret: str, body: bytes, signature: str) -> str:
    """The usual reasons a handler's check fails, when we can tell which one it is."""
    from zazacli.webhooks.signing import verify_signature

    if verify_signature(secret, body.rstrip(b"\r\n"), signature):
        return "it matches without the trailing newline: the file gained one (editors add it)"
    if not secret.startswith("whsec_"):
        return "the secret does not start with whsec_: copy the endpoint's secret whole"
    if b'"raw"' in body and b'"received_at"' in body:
        return 'this looks like a line saved by `listen`; check its "raw" string instead'
    return (
        "sign the raw bytes as received (not re-serialised JSON), with this endpoint's "
        "secret (both key forms were tried)"
    )
