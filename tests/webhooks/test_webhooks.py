"""`zaza webhooks`: the listener over real loopback HTTP, trigger, replay, verify, the sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import json
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import (
    LOOPBACK,
    Cli,
    FaultServer,
    Reply,
    Request,
    Terminal,
    listen_process,
    wait_for,
)
from rich.cells import cell_len

from zazacli.output import Output
from zazacli.output.webhooks import WebhookPrinter
from zazacli.webhooks import sign, signature_form, verify_signature
from zazacli.webhooks.delivery import DeliveryResult, webhook_headers
from zazacli.webhooks.listener import WebhookListener
from zazacli.webhooks.model import ListenerConfig, Notice, ReceivedEvent
from zazacli.webhooks.samples import EVENT_TYPES, encode_body, event_body, sample_data

SECRET = "whsec_test_4b1d9e0c7a2f"


# ---------------------------------------------------------------- helpers


def signed(
    event: str = "call.completed", secret: str | None = SECRET, **data: Any
) -> tuple[bytes, dict[str, str]]:
    raw = encode_body(event_body(event, {**sample_data(event), **data}))
    return raw, webhook_headers(raw, event, secret=secret)


def post(url: str, raw: bytes, headers: dict[str, str], method: str = "POST") -> httpx.Response:
    return LOOPBACK.request(method, url, content=raw, headers=headers, timeout=5)


def raw_exchange(url: str, request: bytes, wait: float = 5.0) -> bytes:
    """Send bytes as they are (for requests httpx refuses to make); read until closed."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Running:
    listener: WebhookListener
    events: queue.Queue[tuple[ReceivedEvent, DeliveryResult | None]]
    notices: list[Notice]

    @property
    def url(self) -> str:
        return self.listener.url

    def next_event(self, timeout: float = 5.0) -> tuple[ReceivedEvent, DeliveryResult | None]:
        return self.events.get(timeout=timeout)


@pytest.fixture
def start_listener() -> Iterator[Callable[..., Running]]:
    """start_listener(**ListenerConfig fields): a real listener on a free port, in-process."""
    started: list[WebhookListener] = []

    def factory(**config: Any) -> Running:
        events: queue.Queue[tuple[ReceivedEvent, DeliveryResult | None]] = queue.Queue()
        notices: list[Notice] = []
        listener = WebhookListener(
            ListenerConfig(**{"port": 0, **config}),
            on_event=lambda event, forward: events.put((event, forward)),
            on_notice=notices.append,
        ).start()
        started.append(listener)
        return Running(listener, events, notices)

    yield factory
    for listener in started:
        listener.close(drain_timeout=1)


def plain(text: str) -> str:
    """Terminal output without its bold/dim escapes (NO_COLOR keeps those)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def saved_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- signatures


def test_signed_event_is_acknowledged_shown_and_saved_exactly(
    start_listener: Callable[..., Running], tmp_path: Path
) -> None:
    save = tmp_path / "events.jsonl"
    running = start_listener(secret=SECRET, save_path=save)
    # Pretty-printed, non-ASCII: the saved `raw` must keep the bytes the signature covers.
    body = event_body("sms.received", {**sample_data("sms.received"), "body": "Oui, à 10h 👋"})
    raw = json.dumps(body, indent=2, ensure_ascii=False).encode()
    response = post(running.url, raw, webhook_headers(raw, "sms.received", secret=SECRET))
    assert response.status_code == 200
    assert response.json() == {"received": True}
    event, forward = running.next_event()
    assert (event.event, event.signature, forward) == ("sms.received", "valid", None)
    [line] = saved_lines(save)
    assert line["raw"].encode() == raw
    assert line["body"] == body
    assert line["signature"] == "valid" and "flags" not in line
    assert line["headers"]["X-ZazaVoice-Signature"] == sign(SECRET, raw)
    assert line["headers"]["X-ZazaVoice-Event"] == "sms.received"
    assert SECRET not in save.read_text()
    assert save.stat().st_mode & 0o777 == 0o600  # events hold customers' names and numbers


def test_invalid_or_missing_signature_gets_401_yet_is_shown_and_saved(
    start_listener: Callable[..., Running], tmp_path: Path
) -> None:
    save = tmp_path / "events.jsonl"
    running = start_listener(secret=SECRET, save_path=save)
    raw, headers = signed(secret="whsec_someone_else")
    assert post(running.url, raw, headers).status_code == 401
    headers.pop("X-ZazaVoice-Signature")
    response = post(running.url, raw, headers)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid signature"}
    first, second = running.next_event()[0], running.next_event()[0]
    assert first.signature == second.signature == "invalid"
    assert "no-signature" in second.record["flags"]
    assert [line["signature"] for line in saved_lines(save)] == ["invalid", "invalid"]
    stats = running.listener.stats()
    assert (stats.received, stats.valid, stats.invalid) == (2, 0, 2)


def test_without_a_secret_events_are_unchecked(start_listener: Callable[..., Running]) -> None:
    running = start_listener()
    raw, headers = signed(secret=None)
    assert post(running.url, raw, headers).status_code == 200
    assert running.next_event()[0].signature == "unchecked"


def test_old_timestamp_is_flagged_as_possible_replay(
    start_listener: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = start_listener(secret=SECRET)
    old = datetime.now(UTC) - timedelta(minutes=6)
    raw = encode_body(event_body("call.started", sample_data("call.started"), now=old))
    assert post(running.url, raw, webhook_headers(raw, "call.started", secret=SECRET)).is_success
    event, _ = running.next_event()
    assert event.record["flags"] == ["stale-timestamp"]
    monkeypatch.setenv("ZAZA_FORCE_TTY", "1")
    stdout = io.StringIO()
    WebhookPrinter(Output(no_color=True, stdout=stdout), jsonl=False, print_body=False).event(
        event, None
    )
    assert "⚠ timestamp over 5 min old: possible replay" in plain(stdout.getvalue())


# ---------------------------------------------------------------- event lines on a terminal

# call.* events of every length, each with every field a call line can show.
LONG_REASON = "carrier rejected: the number is not in service and cannot be reached"
CALL_EVENTS = [
    ("call.started", {"status": "QUEUED", "durationSeconds": 0}),
    ("call.completed", {"durationSeconds": 5, "disposition": "VOICEMAIL"}),
    ("call.completed", {"durationSeconds": 3723, "disposition": "APPOINTMENT_BOOKED",
                        "toNumber": "+447700900824", "id": 9021199}),
    ("call.failed", {"durationSeconds": 0, "failureReason": LONG_REASON}),
    ("call.failed", {"durationSeconds": 0, "failureReason": "BUSY", "direction": "INBOUND"}),
]  # fmt: skip
CLOCK = re.compile(r"^\d\d:\d\d(:\d\d)?  ")


def call_line_columns(line: str) -> frozenset[str]:
    """The optional columns a `webhooks listen` line of a call shows, read from its text."""
    shown = {
        "status": r"call \d+  (QUEUED|COMPLETED|FAILED)  ",
        "direction": r"  (out|in|outbound|inbound)  ",
        "numbers": r"  \+\S+ → \+\S+",
        "duration": r"  \d+:\d\d(:\d\d)?(  |$)",
    }
    return frozenset(name for name, pattern in shown.items() if re.search(pattern, line))


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_listen_lines_of_one_kind_show_the_same_columns_at_one_width(columns: int) -> None:
    """Which columns show is decided from the terminal's width, never from an event's
    values: a long failure reason is cut to fit, it does not push the numbers out."""
    terminal = Terminal("webhooks", "listen", "--port", "0", columns=columns,
                        env={"ZAZA_WEBHOOK_SECRET": SECRET})  # fmt: skip
    try:
        found = wait_for(lambda: re.search(r"listening on (http://\S+)", terminal.text()), 20)
        for event, data in CALL_EVENTS:
            assert post(found.group(1), *signed(event, **data)).status_code == 200
        wait_for(lambda: len(event_lines(terminal.text())) == len(CALL_EVENTS), 10, "lines")
    finally:
        code, text = terminal.finish(stop=True)
    assert code == 0, text
    lines = event_lines(text)
    assert len({cell_len(line) for line in lines}) > 1  # events of different lengths
    assert all(cell_len(line) <= columns for line in lines), lines
    assert len({call_line_columns(line) for line in lines}) == 1, lines
    # The failure reason is the line's last column: whole when short, else cut with `…`.
    assert lines[4].endswith("  BUSY")
    reason = lines[3].rsplit("  ", 1)[1]
    assert reason.endswith("…") and LONG_REASON.startswith(reason[:-1])
    assert len(reason) >= (20 if columns >= 80 else 12), lines[3]


def event_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if CLOCK.match(line)]


# ---------------------------------------------------------------- bad requests


@pytest.mark.slow
def test_bad_requests_get_their_status_and_never_stop_the_listener(
    start_listener: Callable[..., Running],
) -> None:
    running = start_listener(secret=SECRET, client_timeout=0.2)
    url = running.url
    ok_raw, ok_headers = signed()
    json_headers = {"Content-Type": "application/json"}
    assert post(url, b"{not json", json_headers).status_code == 400
    assert post(url, b"[1, 2]", json_headers).status_code == 400
    assert post(url, b'{"event": "call.started", "x": NaN}', json_headers).status_code == 400
    assert post(url, b"\xff\xfe{}", json_headers).status_code == 400
    assert post(url, b"", {}, method="GET").status_code == 405
    assert post(url, b"", {}, method="DELETE").status_code == 405
    assert post(url + "-typo", ok_raw, ok_headers).status_code == 404
    path = urlsplit(url).path.encode()
    too_big = raw_exchange(
        url, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n"
    )
    assert too_big.startswith(b"HTTP/1.1 413 ")
    no_length = raw_exchange(url, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert no_length.startswith(b"HTTP/1.1 411 ")
    # A client that stops mid-body is answered 408 and dropped after the client timeout.
    started = time.monotonic()
    slow = raw_exchange(
        url, b"POST " + path + b' HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"ev'
    )
    assert slow.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 3
    # A half-open client that never sends a request line is disconnected, not waited on.
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=3) as idle:
        assert idle.recv(1) == b""
    # Exactly at the limit is fine; and after all that, a real event still goes through.
    big = encode_body(event_body("call.completed", {"pad": ""}))
    big = encode_body(event_body("call.completed", {"pad": "x" * (1024 * 1024 - len(big))}))
    assert len(big) == 1024 * 1024
    assert post(url, big, webhook_headers(big, "call.completed", secret=SECRET)).is_success
    assert post(url, ok_raw, ok_headers).status_code == 200
    assert running.listener.stats().rejected == 10
    statuses = sorted(n.status for n in running.notices if n.status)
    assert statuses == [400, 400, 400, 400, 404, 405, 405, 408, 411, 413]


def test_listen_refuses_a_busy_port_and_bad_urls(bare_cli: Cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = bare_cli("webhooks", "listen", "--port", str(port))
    assert result.exit_code == 2
    assert f"port {port} is in use" in result.stderr
    result = bare_cli("webhooks", "listen", "--port", "0", "--forward-to", "localhost:3000")
    assert result.exit_code == 2 and "--forward-to" in result.stderr
    result = bare_cli(
        "webhooks", "listen", "--port", "4242", "--forward-to", "http://localhost:4242/webhooks/"
    )
    assert result.exit_code == 2 and "loop forever" in result.stderr


# ---------------------------------------------------------------- forwarding


def test_forward_resends_exact_body_and_headers_and_shows_the_answer(
    start_listener: Callable[..., Running],
    fault_server: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fault_server.route("POST", "/api/v1/hooks", 200, {"ok": True})
    running = start_listener(secret=SECRET, forward_to=fault_server.url + "/hooks")
    raw, headers = signed("appointment.created")
    assert post(running.url, raw, headers).status_code == 200
    event, forward = running.next_event()
    assert forward is not None and forward.status == 200
    [request] = fault_server.requests
    assert request["path"] == "/api/v1/hooks" and request["body"] == raw
    assert request["headers"]["X-ZazaVoice-Signature"] == headers["X-ZazaVoice-Signature"]
    assert request["headers"]["X-ZazaVoice-Event"] == "appointment.created"
    assert running.listener.stats().forwarded_ok == 1

    monkeypatch.setenv("ZAZA_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", "200")  # the wide layout: the answer's reason phrase
    stdout = io.StringIO()
    printer = WebhookPrinter(Output(no_color=True, stdout=stdout), jsonl=False, print_body=True)
    printer.event(event, forward)
    shown = plain(stdout.getvalue())
    assert "✓ appointment.created" in shown and "appointment 77" in shown
    assert "→ app 200 OK" in shown and "ms" in shown
    assert '"attendeeName": "Alex Chen"' in shown  # --print-body

    piped = io.StringIO()
    WebhookPrinter(Output(stdout=piped), jsonl=True, print_body=False).event(event, forward)
    line = json.loads(piped.getvalue())
    assert line["raw"] == raw.decode() and line["forward"]["status"] == 200


def test_forward_failure_shows_status_and_first_line_of_the_app_error(
    start_listener: Callable[..., Running],
    fault_server: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = "KeyError: 'callId'\nTraceback (most recent call last):\n"
    fault_server.route("POST", "/api/v1", 500, error, content_type="text/plain")
    running = start_listener(secret=SECRET, forward_to=fault_server.url)
    raw, headers = signed()
    assert post(running.url, raw, headers).status_code == 200  # the app's failure is not ours
    event, forward = running.next_event()
    assert forward is not None and forward.status == 500 and not forward.ok
    monkeypatch.setenv("ZAZA_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for the whole first line
    stdout = io.StringIO()
    WebhookPrinter(Output(no_color=True, stdout=stdout), jsonl=False, print_body=False).event(
        event, forward
    )
    shown = plain(stdout.getvalue())
    assert "→ app 500 Internal Server Error" in shown
    assert "KeyError: 'callId'" in shown and "Traceback" not in shown
    assert running.listener.stats().forwarded_failed == 1


@pytest.mark.slow
def test_slow_app_never_delays_acks_and_forwards_keep_arrival_order(
    start_listener: Callable[..., Running],
    fault_server: FaultServer,
) -> None:
    release = threading.Event()

    def hung(request: Request) -> Reply:
        release.wait(10)  # the app hangs until the test is over (the listener gave up)
        return Reply(200, {})

    fault_server.route("POST", "/api/v1", answer=hung)
    running = start_listener(secret=SECRET, forward_to=fault_server.url, forward_timeout=0.1)
    try:
        started = time.monotonic()
        for number in range(3):
            raw, headers = signed(id=number)
            assert post(running.url, raw, headers).status_code == 200
        assert time.monotonic() - started < 0.5  # acknowledged while the app hangs
        results = [running.next_event() for _ in range(3)]
    finally:
        release.set()
    assert [event.record["body"]["data"]["id"] for event, _ in results] == [0, 1, 2]
    assert all(f is not None and f.error == "timed out after 0.1s" for _, f in results)


def test_forward_to_a_dead_app_reports_connection_refused(
    start_listener: Callable[..., Running],
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    running = start_listener(forward_to=f"http://127.0.0.1:{port}/hook")
    raw, headers = signed(secret=None)
    assert post(running.url, raw, headers).status_code == 200
    _, forward = running.next_event()
    assert forward is not None and forward.status is None
    assert forward.error is not None and "connection refused" in forward.error


# ---------------------------------------------------------------- the command, as a process


def test_listen_piped_prints_jsonl_filters_and_summarises_on_ctrl_c(tmp_path: Path) -> None:
    save = tmp_path / "events.jsonl"
    env = {"ZAZA_WEBHOOK_SECRET": SECRET}
    with listen_process("--save", str(save), "--events", "call.*", env=env) as running:
        sent = []
        for event in ("call.started", "sms.received", "call.completed"):
            raw, headers = signed(event)
            assert post(running.url, raw, headers).status_code == 200
            sent.append(raw)
        bad_raw, bad_headers = signed("call.failed", secret="whsec_wrong")
        assert post(running.url, bad_raw, bad_headers).status_code == 401
        assert post(running.url, b"{", {}).status_code == 400
        assert running.zaza.stdout is not None
        running.zaza.stdout.until(lambda line: "call.failed" in line, 5)  # all shown
        out, err = running.stop(signal.SIGINT)
    assert running.proc.returncode == 0
    shown = [json.loads(line) for line in out.splitlines()]
    assert [(s["event"], s["signature"]) for s in shown] == [
        ("call.started", "valid"),
        ("call.completed", "valid"),
        ("call.failed", "invalid"),
    ]
    assert set(shown[0]) >= {"received_at", "event", "signature", "headers", "body", "raw"}
    assert [line["event"] for line in saved_lines(save)] == [
        "call.started",
        "sms.received",
        "call.completed",
        "call.failed",
    ]
    assert "received 4 (3 valid, 1 invalid)" in err and "1 not shown" in err
    assert "1 bad requests rejected" in err and "400 POST" in err
    assert "cloudflared" in err and "ngrok" in err and "zaza sandbox --webhook-url" in err
    assert SECRET not in out + err and "Traceback" not in err


def test_listen_on_a_terminal_shows_one_line_per_event_and_stops_on_sigterm() -> None:
    env = {"ZAZA_FORCE_TTY": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    with listen_process("--host", "0.0.0.0", env=env) as running:
        url = running.url.replace("0.0.0.0", "127.0.0.1")
        raw, headers = signed("campaign.lead.updated", secret=None)
        assert post(url, raw, headers).status_code == 200
        assert running.zaza.stdout is not None
        running.zaza.stdout.until(lambda line: "campaign.lead.updated" in line, 5)
        out, err = running.stop(signal.SIGTERM)
    assert running.proc.returncode == 0
    [line] = plain(out).splitlines()
    assert re.match(
        r"\d\d:\d\d:\d\d  unsigned-check off campaign\.lead\.updated  lead 4421"
        r"  campaign 12  REACHED  \(INTERESTED\)  Alex Chen$",
        line,
    ), line
    assert "warning: listening on 0.0.0.0" in err
    assert "host.docker.internal" in err
    assert "received 1 (0 valid, 0 invalid, 1 unchecked)" in err


def test_every_acknowledged_event_survives_kill_9(tmp_path: Path) -> None:
    save = tmp_path / "events.jsonl"
    acked: list[int] = []
    with listen_process(
        "--save",
        str(save),
        "--jsonl",
        stdout=subprocess.DEVNULL,
        env={"ZAZA_WEBHOOK_SECRET": SECRET},
    ) as running:
        parts = urlsplit(running.url)

        def sender() -> None:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
            try:
                for number in range(100_000):
                    raw, headers = signed(id=number)
                    connection.request("POST", parts.path, body=raw, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status == 200:
                        acked.append(number)
            except (OSError, http.client.HTTPException):
                return  # the listener was killed mid-request

        thread = threading.Thread(target=sender)
        thread.start()
        wait_for(lambda: len(acked) >= 300, 20, "300 acknowledged events")
        running.proc.kill()  # mid-stream, no chance to clean up
        thread.join(10)
        running.proc.wait(10)
    text = save.read_text(encoding="utf-8")
    # The event in flight when killed may be cut short: the last line, never acknowledged
    # (the next listener on this file starts afresh after it, and replay reports it).
    whole, torn = (text, "") if text.endswith("\n") else text.rsplit("\n", 1)
    saved = [json.loads(line)["body"]["data"]["id"] for line in whole.splitlines()]
    assert len(saved) == len(set(saved)), "an event was saved twice"
    assert set(acked) <= set(saved)
    assert len(saved) + bool(torn) - len(acked) <= 1  # at most the one in flight when killed


def test_save_appends_and_never_truncates(
    start_listener: Callable[..., Running], tmp_path: Path
) -> None:
    save = tmp_path / "events.jsonl"
    save.write_text('{"earlier": true}\n')
    running = start_listener(save_path=save)
    raw, headers = signed(secret=None)
    assert post(running.url, raw, headers).is_success
    running.listener.close()
    lines = saved_lines(save)
    assert lines[0] == {"earlier": True} and lines[1]["event"] == "call.completed"


# ---------------------------------------------------------------- trigger, events


@pytest.mark.parametrize("event", list(EVENT_TYPES))
def test_trigger_sends_a_signed_realistic_sample_the_listener_accepts(
    event: str,
    start_listener: Callable[..., Running],
    bare_cli: Cli,
) -> None:
    running = start_listener(secret=SECRET)
    result = bare_cli("webhooks", "trigger", event, "--to", running.url, ZAZA_WEBHOOK_SECRET=SECRET)
    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(rf"signed\t{event}\t200\t[\d.]+\t{{\"received\":true}}\n", result.stdout)
    received, _ = running.next_event()
    assert (received.event, received.signature) == (event, "valid")
    assert "flags" not in received.record
    body = received.record["body"]
    assert body["event"] == event and set(body) == {"event", "data", "timestamp"}
    assert body["data"] == {
        **sample_data(event),
        **{k: body["data"][k] for k in body["data"] if k.endswith("At")},
    }


def test_trigger_overrides_data_file_and_errors(
    start_listener: Callable[..., Running],
    bare_cli: Cli,
    tmp_path: Path,
) -> None:
    running = start_listener(secret=SECRET)
    env = {"ZAZA_WEBHOOK_SECRET": SECRET}
    result = bare_cli(
        "webhooks",
        "trigger",
        "call.completed",
        "--to",
        running.url,
        "--set",
        "data.status=FAILED",
        "--set",
        "data.durationSeconds=30",
        "--set",
        "data.variables.PLAN=gold",
        **env,
    )
    assert result.exit_code == 0, result.stderr
    data = running.next_event()[0].record["body"]["data"]
    assert (data["status"], data["durationSeconds"], data["variables"]["PLAN"]) == (
        "FAILED",
        30,
        "gold",
    )
    data_file = tmp_path / "lead.json"
    data_file.write_text(json.dumps({"leadId": 9, "status": "NO_ANSWER"}))
    result = bare_cli(
        "webhooks",
        "trigger",
        "campaign.lead.updated",
        "--to",
        running.url,
        "--data-file",
        str(data_file),
        **env,
    )
    assert result.exit_code == 0
    assert running.next_event()[0].record["body"]["data"] == {"leadId": 9, "status": "NO_ANSWER"}

    wrong = bare_cli(
        "webhooks", "trigger", "sms.received", "--to", running.url, "--secret", "whsec_wrong"
    )
    assert wrong.exit_code == 1
    assert "\t401\t" in wrong.stdout and "invalid signature" in wrong.stdout
    assert "whsec_wrong" not in wrong.stdout + wrong.stderr

    unknown = bare_cli("webhooks", "trigger", "call.exploded", "--to", running.url)
    assert unknown.exit_code == 2 and "call.completed" in unknown.stderr
    bad_set = bare_cli(
        "webhooks", "trigger", "call.started", "--to", running.url, "--set", "data.id.x=1"
    )
    assert bad_set.exit_code == 2 and "not an object" in bad_set.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = bare_cli(
        "webhooks", "trigger", "call.started", "--to", f"http://127.0.0.1:{port}/webhooks", **env
    )
    assert down.exit_code == 6 and "connection refused" in down.stderr
    assert "webhooks listen" in down.stderr


def test_trigger_prints_one_format_per_stream(
    start_listener: Callable[..., Running], bare_cli: Cli
) -> None:
    """`trigger | cat` is one tab-separated line, the answer's body on it (no pretty JSON
    after it); `-o json` one document; a terminal gets the line and the body drawn."""
    running = start_listener(secret=SECRET)
    args = ("webhooks", "trigger", "call.failed", "--to", running.url)
    piped = bare_cli(*args, ZAZA_WEBHOOK_SECRET=SECRET)
    assert piped.exit_code == 0, piped.stderr
    [line] = piped.stdout.splitlines()
    label, event, status, latency, body = line.split("\t")
    assert (label, event, status) == ("signed", "call.failed", "200")
    assert json.loads(body) == {"received": True}
    assert float(latency) >= 0 and piped.stderr == ""
    for flag in (("--json",), ("-o", "json")):
        document = json.loads(bare_cli(*args, *flag, ZAZA_WEBHOOK_SECRET=SECRET).stdout)
        assert document["latency_ms"] >= 0
        assert {k: v for k, v in document.items() if k != "latency_ms"} == {
            "event": "call.failed", "signed": True, "status": 200, "reason": "OK",
            "ok": True, "error": None, "body": {"received": True},
        }  # fmt: skip
    refused = bare_cli(*args, "--secret", "whsec_wrong", "-o", "json")
    assert refused.exit_code == 1 and "answered 401" in refused.stderr
    assert json.loads(refused.stdout)["body"] == {"error": "invalid signature"}
    drawn = bare_cli(*args, ZAZA_WEBHOOK_SECRET=SECRET, ZAZA_FORCE_TTY="1", NO_COLOR="1")
    shown = plain(drawn.stdout).splitlines()
    assert re.fullmatch(r"signed  call\.failed +→ 200 OK \d+ ms", shown[0])
    assert shown[1:] == ["{", '  "received": true', "}"]
    jsonl = bare_cli(*args, "-o", "jsonl")
    assert jsonl.exit_code == 2 and "table, plain, json" in jsonl.stderr


def test_events_lists_the_six_types(bare_cli: Cli) -> None:
    result = bare_cli("webhooks", "events")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == list(EVENT_TYPES) and len(rows) == 6
    assert all(len(row) == 2 and row[1] for row in rows)


# ---------------------------------------------------------------- replay


def test_replay_round_trip_resends_the_saved_bytes(
    start_listener: Callable[..., Running],
    bare_cli: Cli,
    tmp_path: Path,
) -> None:
    save = tmp_path / "events.jsonl"
    first = start_listener(secret=SECRET, save_path=save)
    sent = []
    for event in ("call.started", "sms.received", "call.completed"):
        raw, headers = signed(event)
        assert post(first.url, raw, headers).is_success
        sent.append(raw)
    first.listener.close()
    with save.open("a") as handle:
        handle.write('{"received_at": "2026-11-2')  # a line cut short by kill -9

    second = start_listener(secret=SECRET)
    result = bare_cli("webhooks", "replay", str(save), "--to", second.url)
    assert result.exit_code == 0, result.stderr
    assert [line.split("\t")[:3] for line in result.stdout.splitlines()] == [
        ["#1", "call.started", "200"],
        ["#2", "sms.received", "200"],
        ["#3", "call.completed", "200"],
    ]
    assert "line 4: not JSON" in result.stderr
    assert "with their original signatures: 3 ok, 0 failed" in result.stderr
    replayed = [second.next_event()[0] for _ in range(3)]
    assert [e.raw for e in replayed] == sent and {e.signature for e in replayed} == {"valid"}

    # Re-signed with another secret, one chosen event: the receiver sees the new signature.
    other = start_listener(secret="whsec_local_app")
    result = bare_cli(
        "webhooks",
        "replay",
        str(save),
        "--to",
        other.url,
        "--index",
        "-1",
        ZAZA_WEBHOOK_SECRET="whsec_local_app",
    )
    assert result.exit_code == 0
    event, _ = other.next_event()
    assert (event.event, event.signature) == ("call.completed", "valid")
    assert "re-signed with the secret from ZAZA_WEBHOOK_SECRET" in result.stderr

    # Original signatures to a receiver with another secret: reported, exit 1.
    result = bare_cli("webhooks", "replay", str(save), "--to", other.url, "--event", "sms.*")
    assert result.exit_code == 1
    assert result.stdout.startswith("#2\tsms.received\t401\t")
    assert "1 of 1 replayed events got a non-2xx answer" in result.stderr

    future = bare_cli("webhooks", "replay", str(save), "--to", other.url, "--since", "2999-01-01")
    assert future.exit_code == 0 and "no saved events match" in future.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = bare_cli("webhooks", "replay", str(save), "--to", f"http://127.0.0.1:{port}/x")
    assert down.exit_code == 6 and "0 of 3 events were sent" in down.stderr


# ---------------------------------------------------------------- verify


def test_verify_exit_codes_and_hints(bare_cli: Cli, tmp_path: Path) -> None:
    raw, headers = signed()
    signature = headers["X-ZazaVoice-Signature"]
    body = tmp_path / "body.json"
    body.write_bytes(raw)
    env = {"ZAZA_WEBHOOK_SECRET": SECRET}
    good = bare_cli("webhooks", "verify", "--signature", signature, str(body), **env)
    assert good.exit_code == 0
    assert good.stdout == "signature matches (key: the whole whsec_… string)\n"
    piped = bare_cli(
        "webhooks", "verify", "--signature", signature.upper(), input=raw.decode(), **env
    )
    assert piped.exit_code == 0
    body.write_bytes(raw + b"\n")
    newline = bare_cli("webhooks", "verify", "--signature", signature, str(body), **env)
    assert newline.exit_code == 1
    assert "signature does NOT match" in newline.stderr and "trailing newline" in newline.stderr
    wrong = bare_cli(
        "webhooks", "verify", "--signature", signature, "--secret", "whsec_nope", str(body)
    )
    assert wrong.exit_code == 1 and "whsec_nope" not in wrong.stderr + wrong.stdout
    no_secret = bare_cli("webhooks", "verify", "--signature", signature, str(body))
    assert no_secret.exit_code == 2 and "no secret" in no_secret.stderr
    assert verify_signature(SECRET, raw, signature)  # the documented Python import


def test_secret_from_the_profile_and_never_in_help(bare_cli: Cli, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    (isolated_env / "config.toml").write_text(
        f'default = "dev"\n[profiles.dev]\nwebhook_secret = "{SECRET}"\n'
    )
    (isolated_env / "config.toml").chmod(0o600)
    raw, headers = signed()
    result = bare_cli(
        "webhooks", "verify", "--signature", headers["X-ZazaVoice-Signature"], input=raw.decode()
    )
    assert result.exit_code == 0, result.stderr
    help_text = bare_cli("webhooks", "listen", "--help", ZAZA_WEBHOOK_SECRET=SECRET).stdout
    assert "ZAZA_WEBHOOK_SECRET" in help_text and SECRET not in help_text


# ---------------------------------------------------------------- the sandbox, end to end


def test_sandbox_delivers_its_call_events_to_the_listener(
    start_listener: Callable[..., Running],
) -> None:
    from zazacli.sandbox import SandboxConfig, start_sandbox

    running = start_listener(secret=SECRET)
    sandbox = start_sandbox(
        SandboxConfig(
            port=0, speed=50, calls=20, quiet=True, webhook_url=running.url, webhook_secret=SECRET
        )
    )
    try:
        auth = {"Authorization": f"Bearer {sandbox.api_key}"}
        agents = LOOPBACK.get(f"{sandbox.base_url}/agents", headers=auth).json()
        agent = next(a for a in agents if a["isActive"])
        dispatched = LOOPBACK.post(
            f"{sandbox.base_url}/calls/outbound",
            headers=auth,
            json={"fromNumber": "+14155550100", "toNumber": "+14155550199", "agentId": agent["id"]},
        )
        assert dispatched.status_code == 201, dispatched.text
        call_id = dispatched.json()["id"]
        seen: dict[str, ReceivedEvent] = {}
        deadline = time.monotonic() + 10
        while "call.completed" not in seen and time.monotonic() < deadline:
            try:
                event, _ = running.next_event(timeout=0.5)
            except queue.Empty:
                continue
            if event.record["body"]["data"].get("id") == call_id:
                seen[event.event] = event
    finally:
        sandbox.close()
    assert list(seen) == ["call.started", "call.completed"]
    assert {e.signature for e in seen.values()} == {"valid"}
    completed = seen["call.completed"].record["body"]["data"]
    assert completed["status"] == "COMPLETED" and completed["toNumber"] == "+14155550199"


# ---------------------------------------------------------------- signing-key forms

# Standard Webhooks: the key is base64(the part after whsec_); 32 bytes, so the text has one
# `=` of padding, cut off here as some dashboards show it.
KEY_BYTES = b"zaza-standard-webhooks-key-32by!"
B64_SECRET = "whsec_" + base64.b64encode(KEY_BYTES).decode().rstrip("=")


def b64_signed(raw: bytes) -> str:
    """The signature a Standard Webhooks sender computes: HMAC keyed with the decoded bytes."""
    return hmac.new(KEY_BYTES, raw, hashlib.sha256).hexdigest()


def test_listen_accepts_both_key_forms_and_says_once_which_the_sender_uses() -> None:
    env = {"ZAZA_WEBHOOK_SECRET": B64_SECRET}
    with listen_process(env=env) as running:
        statuses = []
        for form in ("whole", "b64", "b64", "wrong"):
            raw, headers = signed("call.completed", secret=B64_SECRET)
            if form == "b64":
                headers["X-ZazaVoice-Signature"] = b64_signed(raw)
            elif form == "wrong":
                headers["X-ZazaVoice-Signature"] = hmac.new(
                    b"another key", raw, hashlib.sha256
                ).hexdigest()
            statuses.append(post(running.url, raw, headers).status_code)
        assert running.zaza.stderr is not None
        running.zaza.stderr.until(lambda line: "base64-decoded" in line, 5)
        out, err = running.stop(signal.SIGINT)
    assert statuses == [200, 200, 200, 401]
    shown = [json.loads(line)["signature"] for line in out.splitlines()]
    assert shown == ["valid", "valid", "valid", "invalid"]
    assert err.count("Standard Webhooks form") == 1  # said once, not per event
    assert "received 4 (3 valid, 1 invalid; 2 valid with the base64-decoded key)" in err
    assert B64_SECRET not in out + err


def test_verify_names_the_key_form_that_matched(bare_cli: Cli, tmp_path: Path) -> None:
    raw, headers = signed(secret=B64_SECRET)
    body = tmp_path / "body.json"
    body.write_bytes(raw)
    env = {"ZAZA_WEBHOOK_SECRET": B64_SECRET}
    whole = bare_cli(
        "webhooks", "verify", "--signature", headers["X-ZazaVoice-Signature"], str(body), **env
    )
    assert whole.exit_code == 0, whole.stderr
    assert whole.stdout == "signature matches (key: the whole whsec_… string)\n"
    b64 = bare_cli("webhooks", "verify", "--signature", b64_signed(raw), str(body), **env)
    assert b64.exit_code == 0, b64.stderr
    assert "key: the base64-decoded part after whsec_" in b64.stdout
    as_json = bare_cli(
        "webhooks", "verify", "--json", "--signature", b64_signed(raw), str(body), **env
    )
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == {"matches": True, "form": "base64-key"}
    # The right signature under another secret matches neither form.
    wrong = bare_cli(
        "webhooks",
        "verify",
        "--json",
        "--signature",
        b64_signed(raw),
        str(body),
        ZAZA_WEBHOOK_SECRET=SECRET,
    )
    assert wrong.exit_code == 1
    assert json.loads(wrong.stdout) == {"matches": False, "form": None}
    assert "signature does NOT match" in wrong.stderr
    assert B64_SECRET not in whole.stdout + b64.stdout + as_json.stdout + wrong.stderr
    assert signature_form(B64_SECRET, raw, b64_signed(raw).upper()) == "base64-key"
    assert verify_signature(B64_SECRET, raw, b64_signed(raw))  # same truth value as before


@pytest.mark.parametrize(
    "secret", ["whsec_not*base64!", "whsec_abcde", "whsec_", "whsec_====", "no_prefix_at_all"]
)
def test_a_secret_whose_rest_is_not_base64_only_matches_as_a_whole(
    secret: str, bare_cli: Cli, tmp_path: Path
) -> None:
    raw = encode_body(event_body("call.failed", sample_data("call.failed")))
    body = tmp_path / "body.json"
    body.write_bytes(raw)
    good = bare_cli(
        "webhooks", "verify", "--signature", sign(secret, raw), str(body), "--secret", secret
    )
    assert good.exit_code == 0, good.stderr
    assert "whole whsec_" in good.stdout
    for signature in (hmac.new(b"x", raw, hashlib.sha256).hexdigest(), "zz", "é" * 64):
        bad = bare_cli(
            "webhooks", "verify", "--signature", signature, str(body), "--secret", secret
        )
        assert bad.exit_code == 1, bad.stderr
        assert "Traceback" not in bad.stderr and "signature does NOT match" in bad.stderr
    assert signature_form(secret, raw, "é" * 64) is None


def test_trigger_call_started_is_a_just_queued_call(
    start_listener: Callable[..., Running], bare_cli: Cli
) -> None:
    running = start_listener(secret=SECRET)
    result = bare_cli(
        "webhooks", "trigger", "call.started", "--to", running.url, ZAZA_WEBHOOK_SECRET=SECRET
    )
    assert result.exit_code == 0, result.stderr
    data = running.next_event()[0].record["body"]["data"]
    assert data["status"] == "QUEUED" and data["direction"] == "OUTBOUND"
    assert (data["startedAt"], data["endedAt"], data["durationSeconds"]) == (None, None, None)
    events = bare_cli("webhooks", "events").stdout
    assert "call.started\tan outbound call was queued at the carrier" in events
