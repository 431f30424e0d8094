"""`zaza webhooks` against hostile senders: escapes, forgeries, slow senders, floods, full disks.

Every test drives a real listener over loopback (in-process on port 0, or `python -m zazacli
webhooks listen` in a subprocess) with raw sockets or httpx playing the attacker. The
hostile inputs of each test are a list, so how many cases it covers can be read off.
"""

from __future__ import annotations

import json
import re
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import Cli, popen_zaza, wait_for
from test_webhooks import SECRET, Running, post, signed, start_listener  # noqa: F401

from zazacli.webhooks.delivery import webhook_headers
from zazacli.webhooks.samples import encode_body, event_body, sample_data

# Escape sequences a sender could use against the operator's terminal.
ESCAPES = {
    "osc52": "\x1b]52;c;cm0gLXJmIH4=\x07",  # write the clipboard
    "osc8": "\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\",  # plant a link
    "title": "\x1b]0;pwned\x07",  # retitle the terminal
    "csi2j": "\x1b[2J\x1b[H",  # clear the screen
    "c1csi": "\x9b2J",  # the 8-bit CSI
    "c1osc": "\x9d0;pwned\x9c",  # the 8-bit OSC and ST
    "bidi": "abc\u202edcba",  # right-to-left override
    "bell": "\x07\x08\r",
}
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
MARKUP = ["[link=file:///etc/passwd]x[/link]", "[/b]", "[bold red]loud[/]"]


# ---------------------------------------------------------------- helpers


def unsafe_leftovers(output: bytes) -> list[str]:
    """What in `output` could drive a terminal: ESC other than SGR colour, C1, bidi."""
    text = output.decode("utf-8", "replace")
    without_sgr = re.sub(r"\x1b\[[0-9;]*m", "", text)
    found = []
    if "\x1b" in without_sgr:
        found.append(repr(without_sgr[max(0, without_sgr.index("\x1b") - 20) :][:60]))
    found += [f"U+{ord(c):04X}" for c in text if 0x80 <= ord(c) <= 0x9F]
    found += [f"U+{ord(c):04X}" for c in text if c in BIDI_CONTROLS]
    found += [f"control {ord(c):#x}" for c in without_sgr if ord(c) < 0x20 and c not in "\n"]
    return found


def exchange(url: str, request: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes (what httpx refuses to send); return the answer until close."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def raw_post(
    url: str,
    body: bytes,
    headers: dict[str, bytes] | None = None,
    path: bytes | None = None,
    method: bytes = b"POST",
) -> bytes:
    parts = urlsplit(url)
    lines = [
        method + b" " + (path or parts.path.encode()) + b" HTTP/1.1",
        b"Host: " + parts.netloc.encode(),
        b"Connection: close",
        b"Content-Length: " + str(len(body)).encode(),
    ]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    return exchange(url, b"\r\n".join(lines) + b"\r\n\r\n" + body)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    url: str
    stderr: list[bytes]
    stdout: list[bytes]
    readers: list[threading.Thread]

    def stop(self) -> tuple[bytes, bytes]:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(15)
        for reader in self.readers:
            reader.join(5)
        return b"".join(self.stdout), b"".join(self.stderr)


@contextmanager
def listen_bytes(*args: str, env: dict[str, str] | None = None) -> Iterator[Proc]:
    """`zaza webhooks listen --port 0 …` in a subprocess; its output kept as bytes."""
    proc = popen_zaza(
        "webhooks",
        "listen",
        "--port",
        "0",
        *args,
        env={"COLUMNS": "400", **(env or {})},
        text=False,
    )
    lines: list[bytes] = []
    out: list[bytes] = []
    found: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            match = re.match(rb"listening on (http://\S+)$", line.strip())
            if match:
                found.append(match.group(1).decode())

    def read_stdout() -> None:  # drained all along: a full pipe must not stall the printer
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            out.append(chunk)

    readers = [threading.Thread(target=f, daemon=True) for f in (read, read_stdout)]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: found or proc.poll() is not None, 20, "the startup line")
        assert found, f"no startup line: {b''.join(lines)!r}"
        yield Proc(proc, found[0], lines, out, readers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def hostile_requests(url: str) -> list[tuple[str, bytes]]:
    """(what, raw request): escapes and markup in body fields, event header, path, agent."""
    parts = urlsplit(url)
    requests = []

    def request(
        what: str,
        body: bytes,
        head: bytes = b"",
        path: bytes | None = None,
        method: bytes = b"POST",
    ) -> None:
        line = method + b" " + (path or parts.path.encode()) + b" HTTP/1.1\r\n"
        headers = (
            b"Host: " + parts.netloc.encode() + b"\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n" + head
        )
        requests.append((what, line + headers + b"\r\n" + body))

    strings = {**ESCAPES, **{f"markup{i}": m for i, m in enumerate(MARKUP)}}
    for name, evil in strings.items():
        # Unsigned events of each shape, the evil string in the fields that are shown.
        call = {
            **sample_data("call.failed"),
            "id": evil,
            "status": evil,
            "direction": evil,
            "fromNumber": evil,
            "failureReason": evil,
            "disposition": evil,
        }
        request(f"call body {name}", encode_body(event_body("call.failed", call)))
        sms = {**sample_data("sms.received"), "fromNumber": evil, "body": evil}
        request(f"sms body {name}", encode_body(event_body("sms.received", sms)))
        lead = {**sample_data("campaign.lead.updated"), "targetName": evil, "leadId": evil}
        request(f"lead body {name}", encode_body(event_body("campaign.lead.updated", lead)))
        appointment = {**sample_data("appointment.created"), "attendeeName": evil, "startsAt": evil}
        request(
            f"appointment body {name}", encode_body(event_body("appointment.created", appointment))
        )
        request(f"unknown type {name}", encode_body({"event": evil, "data": [evil]}))
        latin = evil.encode("latin-1", "replace")
        body = encode_body(event_body("call.started", sample_data("call.started")))
        request(f"event header {name}", body, b"X-ZazaVoice-Event: " + latin + b"\r\n")
        request(f"user agent {name}", body, b"User-Agent: " + latin + b"\r\n")
        request(f"404 path {name}", body, path=b"/" + latin.replace(b" ", b"%20"))
        request(f"GET path {name}", b"", path=b"/x" + latin.replace(b" ", b"%20"), method=b"GET")
        request(f"content-length {name}", b"{}", b"Content-Length: 2" + latin + b"\r\n")
    return requests


# ---------------------------------------------------------------- terminal injection


@pytest.mark.slow
def test_escapes_and_markup_from_unsigned_senders_never_reach_the_terminal() -> None:
    with listen_bytes(
        "--print-body", env={"ZAZA_WEBHOOK_SECRET": SECRET, "ZAZA_FORCE_TTY": "1"}
    ) as running:
        requests = hostile_requests(running.url)
        statuses = {what: status_of(exchange(running.url, raw)) for what, raw in requests}
        # Still serving: a genuine event is accepted and shown after all that.
        raw, headers = signed("call.completed", id=424242)
        assert post(running.url, raw, headers).status_code == 200
        out, err = running.stop()
    assert running.proc.returncode == 0
    assert all(status in (400, 401, 404, 405) for status in statuses.values()), statuses
    assert b"424242" in out and b"internal error" not in err and b"Traceback" not in err
    assert unsafe_leftovers(out) == [] and unsafe_leftovers(err) == []
    text = out.decode()
    # Shown visibly, and markup printed as the text it is.
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in text and "\\x9b2J" in text
    assert "\\u202e" in text
    for markup in MARKUP:
        assert markup in text
    assert "\\x1b]0;pwned\\x07" in err.decode()  # the 404 path, in the notice


def test_jsonl_stays_exact_json_yet_inert(tmp_path: Path) -> None:
    save = tmp_path / "events.jsonl"
    with listen_bytes("--jsonl", "--save", str(save)) as running:
        bodies = []
        for name, evil in ESCAPES.items():
            body = encode_body(event_body("sms.received", {"body": evil, "name": name}))
            answer = raw_post(
                running.url, body, {"X-ZazaVoice-Event": evil.encode("latin-1", "replace")}
            )
            assert status_of(answer) == 200
            bodies.append(json.loads(body))
        out, _ = running.stop()
    lines = out.decode().splitlines()
    assert [json.loads(line)["body"] for line in lines] == bodies  # the same data, exactly
    assert unsafe_leftovers(out) == []
    assert [json.loads(line)["body"] for line in save.read_text().splitlines()] == bodies


def test_a_signed_body_with_a_lone_surrogate_is_saved_and_acknowledged(tmp_path: Path) -> None:
    """`"\ud800"` is valid JSON that no UTF-8 text can hold as a character: it was answered
    500 on every retry. Now: 200, saved as the escape it came as, shown inertly."""
    from zazacli.webhooks import sign

    save = tmp_path / "events.jsonl"
    raw = (
        b'{"event":"call.completed","data":{"id":"\\ud800","note":"a\\udfffb"},'
        b'"timestamp":"2026-12-03T10:00:00Z"}'
    )
    headers = {
        "X-ZazaVoice-Event": b"call.completed",
        "X-ZazaVoice-Signature": sign(SECRET, raw).encode(),
    }
    with listen_bytes(
        "--jsonl", "--save", str(save), env={"ZAZA_WEBHOOK_SECRET": SECRET}
    ) as running:
        for _ in range(2):  # a retry of the same body too
            assert status_of(raw_post(running.url, raw, headers)) == 200
        out, _ = running.stop()
    saved = save.read_text(encoding="utf-8").splitlines()
    assert len(saved) == 2
    for line in saved:
        record = json.loads(line)
        assert record["signature"] == "valid"
        assert record["body"]["data"] == {"id": "\ud800", "note": "a\udfffb"}
        assert record["raw"].encode() == raw
        assert "\\ud800" in line  # the escape, as written
    assert [json.loads(line)["body"] for line in out.decode().splitlines()] == [json.loads(raw)] * 2


# ---------------------------------------------------------------- laundering


def test_forged_events_saved_then_replayed_are_skipped_not_laundered(
    start_listener: Callable[..., Running],  # noqa: F811  (a fixture)
    bare_cli: Cli,
    tmp_path: Path,
) -> None:
    save = tmp_path / "events.jsonl"
    receiver = start_listener(secret=SECRET, save_path=save)
    genuine, genuine_headers = signed("call.completed", id=1)
    forged, _ = signed("call.completed", id=2)
    forged_headers = webhook_headers(forged, "call.completed", secret="whsec_attacker")
    unsigned, unsigned_headers = signed("sms.received", secret=None)
    assert post(receiver.url, genuine, genuine_headers).status_code == 200
    assert post(receiver.url, forged, forged_headers).status_code == 401
    assert post(receiver.url, unsigned, unsigned_headers).status_code == 401
    receiver.listener.close()
    # An older (or hand-written) line: no verdict, so unverified.
    legacy = {
        "received_at": "2026-01-01T00:00:00Z",
        "event": "call.failed",
        "headers": {"X-ZazaVoice-Signature": "00" * 32},
        "raw": forged.decode(),
    }
    unchecked = {**legacy, "event": "call.started", "signature": "unchecked"}
    with save.open("a") as handle:
        handle.write(json.dumps(legacy) + "\n" + json.dumps(unchecked) + "\n")

    app = start_listener(secret="whsec_local_app")
    env = {"ZAZA_WEBHOOK_SECRET": "whsec_local_app"}
    result = bare_cli("webhooks", "replay", str(save), "--to", app.url, **env)
    assert result.exit_code == 0, result.stderr
    assert app.listener.stats().received == 1  # only the genuine one reached the app
    event, _ = app.next_event()
    assert event.raw == genuine and event.signature == "valid"
    skipped = [line for line in result.stderr.splitlines() if ": skipped, " in line]
    assert [line.split(" ")[0] for line in skipped] == ["#2", "#3", "#4", "#5"]
    assert "bad or missing signature" in skipped[0] and "does not say" in skipped[2]
    assert "not checked" in skipped[3]
    assert "1 ok, 0 failed; 4 skipped" in result.stderr

    # Explicitly asked for: sent, re-signed, with a warning that says what that means.
    result = bare_cli(
        "webhooks", "replay", str(save), "--to", app.url, "--include-unverified", **env
    )
    assert result.exit_code == 0 and "will look genuine to your app" in result.stderr
    assert app.listener.stats().received == 1 + 5

    # Without a secret the original signatures travel: the app still sees the forgery.
    before = app.listener.stats()
    result = bare_cli("webhooks", "replay", str(save), "--to", app.url)
    after = app.listener.stats()
    assert result.exit_code == 1  # the app answered 401 to each
    assert after.received - before.received == 5
    assert after.valid == before.valid  # none of them is valid for another secret


# ---------------------------------------------------------------- slow senders, floods


@pytest.mark.slow
def test_slow_senders_are_cut_at_the_deadline_while_events_keep_flowing(
    start_listener: Callable[..., Running],  # noqa: F811
) -> None:
    running = start_listener(secret=SECRET, request_deadline=0.3, client_timeout=5)
    parts = urlsplit(running.url)
    head = f"POST {parts.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n".encode()

    def stall(data: bytes) -> socket.socket:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        sock.sendall(data)
        return sock

    started = time.monotonic()
    stallers = {
        "half the headers": stall(head[:30]),
        "headers, half the body": stall(head + b"\r\n" + b"{" * 100),
        "nothing at all": stall(b""),
    }
    dripper = stall(b"P")
    stop_drip = threading.Event()

    def drip() -> None:  # one byte every 0.1 s: never idle, never done
        for byte in head[1:]:
            if stop_drip.wait(0.1):
                return
            try:
                dripper.send(bytes([byte]))
            except OSError:
                return

    threading.Thread(target=drip, daemon=True).start()
    # Normal events flow meanwhile.
    for number in range(5):
        raw, headers = signed("call.completed", id=number)
        assert post(running.url, raw, headers).status_code == 200
    answers = {}
    for what, sock in {**stallers, "drip-fed": dripper}.items():
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        answers[what] = (data.split(b"\r\n")[0], time.monotonic() - started)
        sock.close()
    stop_drip.set()
    for what, (line, elapsed) in answers.items():
        assert elapsed < 3.0, (what, elapsed)  # cut at ~0.3 s, not at the 5 s idle timeout
        assert line in (b"HTTP/1.1 408 Request Timeout", b""), (what, line)

    # The listener says so after it closed the socket: wait for the notices, not a race.
    def cut_notices() -> int:
        return sum("not complete within 0.3 s" in n.message for n in running.notices)

    wait_for(lambda: cut_notices() >= 3, timeout=5, what="three stalled senders reported")
    assert running.listener.stats().valid == 5


@pytest.mark.slow  # waits for the idle connections' 1 s deadline
def test_more_connections_than_the_cap_are_refused_at_once_and_never_hang(
    start_listener: Callable[..., Running],  # noqa: F811
) -> None:
    running = start_listener(secret=SECRET, max_connections=4, request_deadline=1.0)
    parts = urlsplit(running.url)
    started = time.monotonic()
    flood = [socket.create_connection((parts.hostname, parts.port), timeout=5) for _ in range(24)]
    refused = 0
    for sock in flood[4:]:
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            answer = b""
        refused += answer.startswith(b"HTTP/1.1 503 ") or answer == b""
    assert refused == 20 and time.monotonic() - started < 1.0  # at once, not at the deadline
    # Once the idle four are cut at their deadline, events are served again.
    raw, headers = signed()
    status = wait_for(lambda: _try_post(running.url, raw, headers) == 200, 5, "a served event")
    assert status and running.listener.stats().refused >= 20
    assert any("over 4 connections at once" in n.message for n in running.notices)
    for sock in flood:
        sock.close()


def _try_post(url: str, raw: bytes, headers: dict[str, str]) -> int:
    try:
        return post(url, raw, headers).status_code
    except httpx.HTTPError:
        return 0


# ---------------------------------------------------------------- headers and lengths


def test_hostile_headers_and_lengths_get_4xx_never_500(
    start_listener: Callable[..., Running],  # noqa: F811
) -> None:
    running = start_listener(secret=SECRET)
    raw, _ = signed()
    signatures = ["é".encode(), b"\xff\xfe", "ü".encode("latin-1"), b"\x1b[2J", b"a" * 8000]
    for signature in signatures:
        answer = raw_post(running.url, raw, {"X-ZazaVoice-Signature": signature})
        assert status_of(answer) == 401, (signature, answer[:60])
    parts = urlsplit(running.url)
    lengths = [
        b"+5",
        b"1_0",
        "٥".encode(),
        b"-1",
        b"0x10",
        b"5 5",
        b"1e3",
        b"\xef\xbc\x95",
        b"2\r\nContent-Length: 3",
    ]
    for length in lengths:
        request = (
            b"POST " + parts.path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: " + length + b"\r\n\r\n{}"
        )
        assert status_of(exchange(running.url, request)) == 400, length
    bodies = [
        b"[" * 100_000,
        b'{"event": NaN}',
        b'{"a": Infinity}',
        b"\xff\xfe{}",
        b'"\\ud800"',
        b"{" + b'"a":{' * 50_000,
    ]
    for body in bodies:
        assert status_of(raw_post(running.url, body)) == 400, body[:20]
    assert not any("internal error" in n.message for n in running.notices)
    good, headers = signed()
    assert post(running.url, good, headers).status_code == 200


# ---------------------------------------------------------------- a disk that fills


def test_save_to_dev_full_stops_with_one_clear_line(bare_cli: Cli) -> None:
    result = bare_cli("webhooks", "listen", "--port", "0", "--save", "/dev/full")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[0] == (
        "error: --save: cannot write to /dev/full: No space left on device"
    )
    assert "internal error" not in result.stderr


def test_a_disk_that_fills_and_frees_leaves_only_whole_acknowledged_lines(
    tmp_path: Path,
) -> None:
    """The fault is real: RLIMIT_FSIZE on the listener process makes writes past a size fail
    (a short write, then EFBIG), as a full disk does; raising it again frees the 'disk'."""
    save = tmp_path / "events.jsonl"
    acked: list[int] = []
    refused: list[int] = []
    with listen_bytes(
        "--save", str(save), "--jsonl", env={"ZAZA_WEBHOOK_SECRET": SECRET}
    ) as running:
        number = 0

        def send() -> int:
            nonlocal number
            number += 1
            raw, headers = signed("call.completed", id=number)
            status = post(running.url, raw, headers).status_code
            (acked if status == 200 else refused).append(number)
            return status

        for _ in range(3):
            assert send() == 200
        size = save.stat().st_size
        # Room for a line and a half: the second line is cut part-way through.
        limit = size + len(save.read_bytes().splitlines()[0]) * 3 // 2
        resource.prlimit(running.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        statuses = [send() for _ in range(6)]
        assert statuses[0] == 200 and set(statuses[1:]) == {500}, statuses
        assert save.stat().st_size <= limit  # and the half line was cut back out:
        assert all(json.loads(line) for line in save.read_text().splitlines())
        resource.prlimit(
            running.proc.pid,
            resource.RLIMIT_FSIZE,
            (resource.RLIM_INFINITY, resource.RLIM_INFINITY),
        )
        for number_retried in list(refused):  # the senders retry; all land whole
            raw, headers = signed("call.completed", id=number_retried)
            assert post(running.url, raw, headers).status_code == 200
            acked.append(number_retried)
        for _ in range(3):
            assert send() == 200
        _, err = running.stop()
    lines = save.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole and parseable
    assert sorted(r["body"]["data"]["id"] for r in records) == sorted(acked)
    assert b"cannot save the event: File too large" in err
    assert b"5 events not saved (answered 500, to be retried)" in err


def test_stopping_never_waits_for_a_stalled_sender(
    start_listener: Callable[..., Running],  # noqa: F811
) -> None:
    running = start_listener(request_deadline=30, client_timeout=30)
    parts = urlsplit(running.url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(b"POST /webhooks HTTP/1.1\r\nContent-Length: 10\r\n")
        wait_for(
            lambda: running.listener._server and running.listener._server._active,
            5,
            "the stalled connection to be served",
        )
        started = time.monotonic()
        running.listener.close(drain_timeout=1)
        assert time.monotonic() - started < 2.0  # not the 30 s deadline
