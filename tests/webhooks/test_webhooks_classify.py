"""`classify` and `body_length`: what a POST to the listener is, without a socket.

The listener over loopback is tested in test_webhooks.py and test_webhooks_hostile.py;
here the decision alone, on real bodies, headers as the HTTP parser hands them over, and
signatures computed with the project's own signing code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import json
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest

from zazacli.webhooks.classify import Classified, Refusal, body_length, classify
from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data
from zazacli.webhooks.signing import BASE64_KEY, WHOLE_SECRET, base64_key, sign

# An obvious test value; base64 after whsec_, so that the base64-key form applies too.
SECRET = "whsec_" + base64.b64encode(b"test-secret-not-real-0000000000").decode()
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def parsed_headers(headers: dict[str, str]) -> Message:
    """The headers as `BaseHTTPRequestHandler.headers` holds them (case-insensitive)."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    wire = f"Host: 127.0.0.1:4242\r\nUser-Agent: test\r\n{lines}\r\n".encode("latin-1")
    return http.client.parse_headers(io.BytesIO(wire))


def sample(event: str = "call.completed", sent: datetime = NOW) -> bytes:
    return encode_body(event_body(event, sample_data(event, sent), sent))


def classified(raw: bytes, headers: dict[str, str], secret: str | None) -> Classified:
    verdict = classify(raw, parsed_headers(headers), secret, now=NOW)
    assert isinstance(verdict, Classified), verdict
    return verdict


def test_an_event_signed_with_the_whole_secret_is_valid_and_acknowledged() -> None:
    raw = sample()
    verdict = classified(raw, webhook_headers(raw, "call.completed", secret=SECRET), SECRET)
    assert (verdict.signature, verdict.form, verdict.status) == ("valid", WHOLE_SECRET, 200)
    assert verdict.answer == {"received": True}
    assert (verdict.event, verdict.flags) == ("call.completed", ())
    assert verdict.body == json.loads(raw) and verdict.raw == raw and verdict.text == raw.decode()
    # Only what the save file keeps: not Host or User-Agent.
    assert verdict.headers == {
        "Content-Type": "application/json",
        "X-ZazaVoice-Event": "call.completed",
        "X-ZazaVoice-Signature": sign(SECRET, raw),
    }


def test_an_event_signed_with_the_base64_decoded_key_is_valid_too() -> None:
    raw = sample("sms.received")
    key = base64_key(SECRET)
    assert key is not None
    signature = hmac.new(key, raw, hashlib.sha256).hexdigest().upper()  # any case is accepted
    verdict = classified(raw, webhook_headers(raw, "sms.received", signature=signature), SECRET)
    assert (verdict.signature, verdict.form, verdict.status) == ("valid", BASE64_KEY, 200)


def test_a_forged_signature_is_invalid_answered_401_and_still_an_event() -> None:
    raw = sample()
    forged = webhook_headers(raw, "call.completed", secret="whsec_someone_else")
    verdict = classified(raw, forged, SECRET)
    assert (verdict.signature, verdict.form, verdict.status) == ("invalid", None, 401)
    assert verdict.answer == {"error": "invalid signature"}
    assert verdict.flags == ()  # a signature was given: it is wrong, not missing


def test_a_body_changed_after_signing_is_invalid() -> None:
    raw = sample()
    headers = webhook_headers(raw, "call.completed", secret=SECRET)
    tampered = raw.replace(b'"COMPLETED"', b'"FAILED"', 1)
    assert tampered != raw
    assert classified(tampered, headers, SECRET).signature == "invalid"


def test_a_missing_signature_is_invalid_and_flagged() -> None:
    raw = sample()
    verdict = classified(raw, webhook_headers(raw, "call.completed"), SECRET)
    assert (verdict.signature, verdict.status, verdict.flags) == ("invalid", 401, ("no-signature",))


def test_without_a_secret_nothing_is_checked_and_all_is_acknowledged() -> None:
    raw = sample()
    headers = webhook_headers(raw, "call.completed", signature="not even hex")
    verdict = classified(raw, headers, None)
    assert (verdict.signature, verdict.form, verdict.status) == ("unchecked", None, 200)


def test_flags_in_order_and_the_header_names_the_event() -> None:
    old = NOW - timedelta(minutes=6)
    raw = encode_body(event_body("call.completed", {"id": 1}, old))
    headers = webhook_headers(raw, "call.hijacked")  # differs from the body, and undocumented
    verdict = classified(raw, headers, SECRET)
    assert verdict.event == "call.hijacked"
    assert verdict.flags == ("event-mismatch", "unknown-type", "stale-timestamp", "no-signature")
    record = verdict.record("2025-03-04T12:00:00.000Z")
    assert list(record) == [
        "received_at",
        "event",
        "signature",
        "flags",
        "headers",
        "body",
        "raw",
    ]
    assert record["flags"] == list(verdict.flags) and record["raw"] == raw.decode()


def test_a_body_without_event_or_timestamp() -> None:
    verdict = classified(b'{"data": {}}', {"Content-Type": "application/json"}, None)
    assert verdict.event == "(none)"
    assert verdict.flags == ("unknown-type", "no-timestamp")
    assert "flags" in verdict.record("t") and verdict.status == 200


def test_a_clean_event_saves_no_flags_key() -> None:
    raw = sample()
    verdict = classified(raw, webhook_headers(raw, "call.completed", secret=SECRET), SECRET)
    assert "flags" not in verdict.record("t")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff{}", "malformed JSON: 'utf-8' codec can't decode byte 0xff"),
        (b'{"event": ', "malformed JSON: Expecting value"),
        (b'{"n": NaN}', "malformed JSON: NaN is not valid JSON"),
        (b'{"n": -Infinity}', "malformed JSON: -Infinity is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON: nested too deeply"),
        (b'["call.completed"]', "expected a JSON object {event, data, timestamp}"),
        (b"null", "expected a JSON object {event, data, timestamp}"),
    ],
)
def test_bodies_that_are_no_event_are_refused_400(raw: bytes, message: str) -> None:
    # Signed, so it is the body and not the signature that is refused.
    headers = parsed_headers(webhook_headers(raw, "call.completed", secret=SECRET))
    verdict = classify(raw, headers, SECRET)
    assert isinstance(verdict, Refusal)
    assert verdict.status == 400 and verdict.message.startswith(message)


@pytest.mark.parametrize(
    ("lengths", "transfer_encoding", "expected"),
    [
        (["17"], None, 17),
        (["0"], None, 0),
        ([" 42 ", "42"], None, Refusal(400, "bad Content-Length ' 42 ', '42'")),
        (["1048576"], None, 1048576),
        (["1048577"], None, Refusal(413, "body of 1048577 bytes is over 1048576")),
        ([], None, Refusal(411, "Content-Length required")),
        (["5"], "chunked", Refusal(411, "Content-Length required")),
        (["+5"], None, Refusal(400, "bad Content-Length '+5'")),
        (["1_0"], None, Refusal(400, "bad Content-Length '1_0'")),
        (["٥"], None, Refusal(400, "bad Content-Length '٥'")),
        (["5", "6"], None, Refusal(400, "bad Content-Length '5', '6'")),
    ],
)
def test_body_length_from_the_headers_alone(
    lengths: list[str], transfer_encoding: str | None, expected: int | Refusal
) -> None:
    assert body_length(lengths, transfer_encoding, 1024 * 1024) == expected
