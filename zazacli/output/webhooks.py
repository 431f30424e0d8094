"""Printing for `zaza webhooks`: event lines, banners, summaries, delivery results."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from zazacli.output import Format, Output
from zazacli.output.fit import COMPACT_BELOW, Piece, Slot, middle, print_line
from zazacli.output.values import STATUS_STYLES, duration, local_time
from zazacli.sanitize import json_safe, plain_value, terminal_safe
from zazacli.times import parse_time

# ================================================================ webhook events
# For `zaza webhooks`. The event lines are the data of `listen` (stdout: a coloured line
# per event on a terminal, the saved JSON object per line otherwise); the banner,
# notices about bad requests and the summary go to stderr.
#
# Anyone who can reach the listener (through a public tunnel: anyone) writes the bodies,
# headers and paths shown here, signed or not. So every such string passes terminal_safe,
# lines are built as Rich `Text` (never markup), and JSON lines pass json_safe (the same
# data, with C1 and bidi controls as \u escapes).

if TYPE_CHECKING:
    from zazacli.webhooks.delivery import DeliveryResult
    from zazacli.webhooks.model import ListenerStats, Notice, ReceivedEvent

SIGNATURE_MARKS = {
    "valid": ("✓", "bold green"),
    "invalid": ("✗", "bold red"),
    "unchecked": ("unsigned-check off", "dim"),
}
FLAG_TEXT = {
    "stale-timestamp": "timestamp over 5 min old: possible replay",
    "future-timestamp": "timestamp over 5 min in the future: clock skew?",
    "no-timestamp": "no readable timestamp",
    "event-mismatch": "X-ZazaVoice-Event differs from the body's event",
    "unknown-type": "not a documented event type",
    "no-signature": "no X-ZazaVoice-Signature header",
}
EVENT_TYPE_WIDTH = len("campaign.lead.updated")


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clock(value: str, *, seconds: bool = True) -> str:
    parsed = parse_time(value)
    return parsed.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M") if parsed else value


class _Fields:
    """One event's `data` object, read field by field for the pieces of its line."""

    def __init__(self, data: dict[Any, Any], compact: bool) -> None:
        self.data = data
        self.compact = compact

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str) -> str:
        """A field as text: `?` when absent, `true` for a boolean: no Python literals."""
        value = self.data.get(key)
        return "?" if value is None else plain_value(value)

    def number(self, key: str) -> str:
        shown = self.text(key) if self.get(key) != "" else "?"
        return middle(shown, 10 if self.compact else 16)  # E.164: 16 characters at most


def _status(value: Any, slot: str) -> Piece:
    shown = plain_value(value)
    return Piece(f"  {shown}", STATUS_STYLES.get(shown.upper(), ""), slot)


_BySize = dict[bool, tuple[Slot, ...]]  # compact (True) or not -> the slots
# The columns of each kind of event line after its time, mark and type, below
# COMPACT_BELOW (True) and above: `_slots` decides from them once per width which a line
# shows (output/fit.py); everything but the event's id may go, warnings stay.
_CALL_SLOTS: _BySize = {
    True: (
        Slot("subject", 12, whole=True), Slot("status", 13, drop=4), Slot("direction", 5, drop=5),
        Slot("numbers", 25, drop=2), Slot("duration", 7, drop=3, whole=True),
        Slot("outcome", 20, flex=True),
    ),
    False: (
        Slot("subject", 12, whole=True), Slot("status", 13, drop=4),
        Slot("direction", 10, drop=5), Slot("numbers", 37, drop=2),
        Slot("duration", 7, drop=3, whole=True), Slot("outcome", 8, flex=True),
    ),
}  # fmt: skip
_LEAD_SLOTS: _BySize = {
    compact: (
        Slot("subject", 12, whole=True), Slot("campaign", 14, drop=3),
        Slot("status", 13, drop=1), Slot("disposition", 22, drop=2), Slot("name", 12, flex=True),
    )
    for compact in (True, False)
}  # fmt: skip
_SMS_SLOTS: _BySize = {
    True: (Slot("subject", 21, whole=True), Slot("to", 15, drop=1), Slot("body", 12, flex=True)),
    False: (Slot("subject", 27, whole=True), Slot("to", 21, drop=1), Slot("body", 12, flex=True)),
}  # fmt: skip
_APPOINTMENT_SLOTS: _BySize = {
    compact: (
        Slot("subject", 16, whole=True), Slot("when", 28 if compact else 42, drop=1),
        Slot("who", 14, drop=2, flex=True), Slot("call", 14, drop=3),
    )
    for compact in (True, False)
}  # fmt: skip
_RAW_SLOTS: _BySize = {compact: (Slot("raw", 10, flex=True),) for compact in (True, False)}


def _call_fields(event: str, f: _Fields) -> list[Piece]:
    pieces = [Piece(f"  call {f.text('id')}", "bold", "subject")]
    if f.get("status") is not None:
        pieces.append(_status(f.get("status"), "status"))
    if f.get("direction"):
        direction = f.text("direction").lower()
        short = direction.removesuffix("bound") if f.compact else direction
        pieces.append(Piece(f"  {short}", "dim", "direction"))
    if f.get("fromNumber") or f.get("toNumber"):
        ends = f"  {f.number('fromNumber')} → {f.number('toNumber')}"
        pieces.append(Piece(ends, "", "numbers"))
    if f.get("durationSeconds") is not None:
        pieces.append(Piece(f"  {duration(f.get('durationSeconds'))}", "", "duration"))
    # How it ended, as the calls table's OUTCOME: the disposition, else why it failed.
    if f.get("disposition"):
        pieces.append(_status(f.get("disposition"), "outcome"))
    elif f.get("failureReason"):
        pieces.append(Piece(f"  {_short(f.get('failureReason'), 200)}", "red", "outcome"))
    return pieces


def _lead_fields(event: str, f: _Fields) -> list[Piece]:
    pieces = [
        Piece(f"  lead {f.text('leadId')}", "bold", "subject"),
        Piece(f"  campaign {f.text('campaignId')}", "", "campaign"),
    ]
    if f.get("status") is not None:
        pieces.append(_status(f.get("status"), "status"))
    if f.get("lastDisposition"):
        pieces.append(Piece(f"  ({f.text('lastDisposition')})", "", "disposition"))
    if f.get("targetName"):
        pieces.append(Piece(f"  {_short(f.get('targetName'))}", "", "name"))
    return pieces


def _sms_fields(event: str, f: _Fields) -> list[Piece]:
    pieces = [Piece(f"  sms from {f.number('fromNumber')}", "bold", "subject")]
    if f.get("toNumber"):
        pieces.append(Piece(f"  to {f.number('toNumber')}", "dim", "to"))
    body = _short(f.get("body") or "", 30 if f.compact else 60)
    pieces.append(Piece("  " + json.dumps(body, ensure_ascii=False), "", "body"))
    return pieces


def _appointment_fields(event: str, f: _Fields) -> list[Piece]:
    pieces = [Piece(f"  appointment {f.text('id')}", "bold", "subject")]
    if f.get("startsAt"):
        minutes = f.get("durationMinutes")
        length = f" for {plain_value(minutes)} min" if minutes is not None else ""
        parsed = parse_time(f.get("startsAt")) if f.compact else None
        # Compact: the local date and time alone (`Nov 26 14:03`), without its age.
        when = parsed.astimezone().strftime("%b %d %H:%M") if parsed else None
        when = when or local_time(f.get("startsAt"), short=f.compact)
        pieces.append(Piece(f"  at {when}{length}", "", "when"))
    people = (f.get("attendeeName"), f.get("attendeePhone"))
    if any(people):
        who = " ".join(plain_value(v) for v in people if v)
        pieces.append(Piece(f"  with {who}", "", "who"))
    if f.get("callId") is not None:
        pieces.append(Piece(f"  (call {f.text('callId')})", "dim", "call"))
    return pieces


def _raw_fields(data: Any) -> list[Piece]:
    return [Piece("  " + _short(json.dumps(data, ensure_ascii=False), 100), "dim", "raw")]


# Event type -> its fields; every `call.*` type shares the call's (see webhook_fields).
_FIELDS: dict[str, Callable[[str, _Fields], list[Piece]]] = {
    "campaign.lead.updated": _lead_fields,
    "sms.received": _sms_fields,
    "appointment.created": _appointment_fields,
}


def _extractor(event: str, data: Any) -> Callable[[str, _Fields], list[Piece]] | None:
    """How an event's data is read; None: shown raw (not an object, or an unknown type)."""
    if not isinstance(data, dict):
        return None
    # Any call.* type, documented or not, is a Call.
    return _call_fields if event.startswith("call.") else _FIELDS.get(event)


def webhook_fields(event: str, data: Any, *, compact: bool = False) -> list[Piece]:
    """The fields that matter for each event type, absent ones skipped; each piece starts
    with its gap and names its slot (`webhook_slots`). `compact` (a narrow terminal):
    short direction, numbers shortened from the middle."""
    extract = _extractor(event, data)
    if extract is None:
        return _raw_fields(data)
    return extract(event, _Fields(data, compact))


# Each kind's field slots, and its longest documented type (a compact line's type column).
_KINDS: dict[Any, tuple[_BySize, str]] = {
    _call_fields: (_CALL_SLOTS, "call.completed"),
    _lead_fields: (_LEAD_SLOTS, "campaign.lead.updated"),
    _sms_fields: (_SMS_SLOTS, "sms.received"),
    _appointment_fields: (_APPOINTMENT_SLOTS, "appointment.created"),
}


def webhook_slots(event: str, data: Any, *, compact: bool = False) -> tuple[Slot, ...]:
    """The columns of `event`'s line: its time, signature mark and type, then those of
    its fields (`webhook_fields`); the same for every event of a kind, whatever its data."""
    fields, longest = _KINDS.get(_extractor(event, data), (_RAW_SLOTS, "x" * EVENT_TYPE_WIDTH))
    kind = len(longest) if compact else EVENT_TYPE_WIDTH
    return (
        Slot("clock", 5 if compact else 8),
        Slot("mark", 3, whole=True),
        Slot("type", 1 + kind, whole=True),
        *fields[compact],
    )


def delivery_text(result: DeliveryResult, *, compact: bool = False) -> tuple[str, str]:
    """`200 OK 12 ms` in green, or the status / network error and the body's first line in
    red; `compact` leaves out the reason phrase (`500 3 ms: KeyError: …`)."""
    if result.status is None:
        return f"{result.error} ({result.latency_ms:.0f} ms)", "red"
    reason = "" if compact else result.reason
    text = f"{result.status} {reason} {result.latency_ms:.0f} ms".replace("  ", " ")
    if result.ok:
        return text, "green"
    first = result.first_line()
    return (f"{text}: {first}" if first else text), "red"


def event_pieces(
    event: ReceivedEvent, forward: DeliveryResult | None, *, compact: bool
) -> tuple[list[Piece], tuple[Slot, ...]]:
    """An event's line, piece by piece, every one terminal-safe: when it came, its signature,
    its type, the fields of that type, the forward's answer and any warning (`webhooks
    listen` and `zaza ui`'s Events both show it)."""
    record = event.record
    mark, mark_style = SIGNATURE_MARKS.get(event.signature, (event.signature, ""))
    # The type comes from the sender's X-ZazaVoice-Event header or body, like the fields.
    kind = terminal_safe(event.event)
    clock = _clock(str(record.get("received_at", "")), seconds=not compact)
    pieces = [
        Piece(clock, "dim", "clock"),
        Piece(f"  {mark}", mark_style, "mark"),
        Piece(" " + (kind if compact else kind.ljust(EVENT_TYPE_WIDTH)), "bold", "type"),
    ]
    body = record.get("body")
    data = body.get("data") if isinstance(body, dict) else None
    for piece in webhook_fields(event.event, data, compact=compact):
        pieces.append(Piece(terminal_safe(piece.text), piece.style, piece.slot))
    slots = webhook_slots(event.event, data, compact=compact)
    if forward is not None:  # every line of a listener that forwards: a column
        text, style = delivery_text(forward, compact=compact)
        pieces.append(Piece("  → app ", "dim", "forward"))
        pieces.append(Piece(terminal_safe(text), style, "forward"))
        # `200 OK 12 ms`; an error's first line is kept whole, the outcome giving way.
        slots = (*slots, Slot("forward", 18 if compact else 22, whole=True))
    if event.status >= 300:
        pieces.append(Piece(f"  answered {event.status}", "red"))
    for flag in record.get("flags", ()):
        text = FLAG_TEXT.get(flag, terminal_safe(flag))  # warnings in words, at any width
        pieces.append(Piece(f"  ⚠ {text}", "yellow"))
    return pieces, slots


class WebhookPrinter:
    """Shows the listener's events and notices; called from its single worker thread."""

    def __init__(self, out: Output, *, jsonl: bool, print_body: bool) -> None:
        self.out = out
        self.jsonl = jsonl
        self.print_body = print_body
        self._stdout_gone = False

    def event(self, event: ReceivedEvent, forward: DeliveryResult | None) -> None:
        if self._stdout_gone:
            return
        try:
            if self.jsonl:
                record, line = event.record, event.line
                if forward is not None:
                    record = {**event.record, "forward": forward.as_dict()}
                    line = json.dumps(record, ensure_ascii=False)
                self.out.json_line(record, text=line, follow=True)
            else:
                self._terminal_line(event, forward)
        except BrokenPipeError:
            # `listen | head`: the reader left. Keep acknowledging and saving; say so once.
            self._stdout_gone = True
            _silence(self.out.stdout)
            self.out.warn("stdout was closed; still listening (and saving, if --save)")

    def _terminal_line(self, event: ReceivedEvent, forward: DeliveryResult | None) -> None:
        """One line per event at any width (output/fit.py); below COMPACT_BELOW columns no
        seconds, the type unpadded, short direction and numbers."""
        from rich.text import Text

        console = self.out.console
        pieces, slots = event_pieces(event, forward, compact=console.width < COMPACT_BELOW)
        body = event.record.get("body")
        print_line(console, pieces, slots)
        if self.print_body:
            from rich.highlighter import JSONHighlighter

            pretty = json_safe(json.dumps(body, indent=2, ensure_ascii=False))
            console.print(JSONHighlighter()(Text(pretty)))

    def notice(self, notice: Notice) -> None:
        """A request that was not an event (404, 400, 413 …), or a listener problem: stderr."""
        # Method, path and message can carry what a sender wrote (`GET /\x1b]52;…`).
        message = terminal_safe(notice.message)
        if notice.info:
            self.out.notice(message)
            return
        now = datetime.now().strftime("%H:%M:%S")
        parts = (notice.status, notice.method, notice.path)
        where = terminal_safe(" ".join(str(p) for p in parts if p))
        source = f" from {terminal_safe(notice.client)}" if notice.client else ""
        self.out.warn(f"{now}  {where}{source}: {message}" if where else message)


def _silence(stream: IO[str]) -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def webhook_listen_banner(
    out: Output,
    *,
    url: str,
    port: int,
    path: str,
    exposed: bool,
    secret_source: str | None,
    patterns: list[str] | None,
    save: str | None,
    forward_to: str | None,
    opt_outs: str | None = None,
) -> None:
    """stderr: the parseable `listening on URL` line, then how to reach it and what it does."""
    out.notice(f"listening on {url}")
    if secret_source:
        out.notice(f"  signatures: checked with the secret from {secret_source}")
    else:
        out.notice(
            "  signatures: not checked, no secret (use --secret, ZAZA_WEBHOOK_SECRET or the "
            "profile's webhook_secret); events are marked 'unsigned-check off'"
        )
    if patterns:
        out.notice(
            f"  showing:    {', '.join(patterns)} (other events are acknowledged"
            f"{' and saved' if save else ''}, not shown)"
        )
    if save:
        out.notice(f"  saving to:  {save} (appending)")
    if forward_to:
        out.notice(f"  forwarding: to {forward_to}")
    if opt_outs:
        out.notice(f"  opt-outs:   verified STOP texts go to the do-not-call list {opt_outs}")
    local = f"http://127.0.0.1:{port}{path}"
    out.notice(f"  from the sandbox: zaza sandbox --webhook-url {local}")
    out.notice("                    (give both the same ZAZA_WEBHOOK_SECRET)")
    if exposed:
        out.notice(f"  from a container: http://host.docker.internal:{port}{path}")
    out.notice(
        f"  from ZazaVoice:   run an HTTPS tunnel to port {port} yourself, e.g.\n"
        f"                      cloudflared tunnel --url http://localhost:{port}\n"
        f"                      ngrok http {port}\n"
        f"                    then set https://<tunnel host>{path} as the endpoint URL in "
        "the dashboard (Webhooks)"
    )
    out.notice("Ready for events. Ctrl-C to stop.")


def webhook_listen_summary(out: Output, stats: ListenerStats, save: str | None) -> None:
    checked = f"{stats.valid} valid, {stats.invalid} invalid"
    if stats.base64_key:
        checked += f"; {stats.base64_key} valid with the base64-decoded key"
    if stats.unchecked:
        checked += f", {stats.unchecked} unchecked"
    parts = [f"received {stats.received} ({checked})"]
    if stats.filtered_out:
        parts.append(f"{stats.filtered_out} not shown (--events)")
    if stats.forwarded_ok or stats.forwarded_failed:
        parts.append(f"forwarded {stats.forwarded_ok} ok / {stats.forwarded_failed} failed")
    if stats.rejected:
        parts.append(f"{stats.rejected} bad requests rejected")
    if stats.timed_out:
        parts.append(f"{stats.timed_out} requests cut off at the deadline")
    if stats.refused:
        parts.append(f"{stats.refused} connections refused (too many at once)")
    if stats.save_failures:
        parts.append(f"{stats.save_failures} events not saved (answered 500, to be retried)")
    if save:
        parts.append(f"saved to {save}")
    out.notice("\nstopped: " + "; ".join(parts))


def webhook_event_types(out: Output, types: dict[str, str], fmt: Format) -> None:
    """`zaza webhooks events`: the six types, one line each."""
    if fmt is Format.json:
        out.json_document([{"event": k, "description": v} for k, v in types.items()])
        return
    width = max(len(k) for k in types)
    for name, description in types.items():
        out.write(f"{name.ljust(width)}  {description}" if out.drawn else f"{name}\t{description}")


def webhook_delivery(
    out: Output, label: str, event: str, result: DeliveryResult, *, body: bool = False
) -> None:
    """One line per sent event (trigger, replay): what was sent and what came back. Piped:
    `label, event, status, ms, detail`, the detail the error, else the answer's first line
    when it failed; with `body` (trigger), else the whole answer on that one line."""
    # The event type comes from a saved file (so from a sender), the detail from the target.
    event = terminal_safe(event)
    if not out.drawn:
        status = "" if result.status is None else str(result.status)
        detail = result.error or ("" if result.ok else result.first_line())
        if body and not result.error:
            detail = _one_line_body(result)
        latency = f"{result.latency_ms:.1f}"
        out.write("\t".join([label, event, status, latency, terminal_safe(plain_value(detail))]))
        return
    from rich.text import Text

    text, style = delivery_text(result)
    line = Text()
    line.append(label, "dim")
    line.append("  ")
    line.append(event.ljust(EVENT_TYPE_WIDTH), "bold")
    line.append("  → ")
    line.append(terminal_safe(text), style)
    out.console.print(line)


# How an event arrived (its saved verdict), for the note that skips it in a replay.
ARRIVED_TEXT = {
    "invalid": "it arrived with a bad or missing signature",
    "unchecked": "its signature was not checked (the listener had no secret)",
}


def webhook_replay_skipped(out: Output, position: int, event: str, verdict: str | None) -> None:
    """stderr, one line: a saved event `replay` will not re-sign, and why."""
    arrived = ARRIVED_TEXT.get(verdict or "", "the file does not say it arrived validly signed")
    out.notice(
        f"#{position} {terminal_safe(event)}: skipped, {arrived} "
        "(re-signing it would make it look genuine)"
    )


def webhook_trigger_result(
    out: Output, fmt: Format, label: str, event: str, result: DeliveryResult
) -> None:
    """`trigger`, one format per stream: on a terminal the delivery line, then the answer's
    body pretty; piped, one tab-separated line (the body on it, see webhook_delivery);
    `-o json`, one document with the body as it parsed."""
    if fmt is Format.json:
        out.json_document(
            {
                "event": event,
                "signed": label == "signed",
                "status": result.status,
                "reason": result.reason or None,
                "ok": result.ok,
                "latency_ms": round(result.latency_ms, 1),
                "error": result.error,
                "body": _parsed_body(result),
            }
        )
        return
    webhook_delivery(out, label, event, result, body=True)
    if out.drawn:
        response_body(out, result)


def _parsed_body(result: DeliveryResult) -> Any:
    """The answer's body: its JSON value, else its text; None when it is empty."""
    text = result.body.decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _one_line_body(result: DeliveryResult) -> str:
    """The answer's body on one line: JSON compacted, other text with its runs of
    whitespace folded (control characters made visible by the caller)."""
    value = _parsed_body(result)
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def response_body(out: Output, result: DeliveryResult) -> None:
    """The target's answer body: pretty JSON when it is JSON, else the text."""
    text = result.body.decode("utf-8", "replace")
    if not text.strip():
        return
    try:
        pretty = json_safe(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except (ValueError, RecursionError):  # not JSON, or nested past Python's stack
        pretty = terminal_safe(text.rstrip("\n"), multiline=True)
    out.write(pretty)


# `signature_form` names -> what `verify` says about the key that matched.
KEY_FORM_TEXT = {
    "whole-secret": "key: the whole whsec_… string",
    "base64-key": "key: the base64-decoded part after whsec_, the Standard Webhooks form",
}


def webhook_verify_result(out: Output, form: str | None, *, as_json: bool) -> None:
    """`verify`: the match and which key form matched (stdout); a mismatch is the caller's error."""
    if as_json:
        out.json_document({"matches": form is not None, "form": form})
    elif form is not None:
        out.write(f"signature matches ({KEY_FORM_TEXT.get(form, form)})")
