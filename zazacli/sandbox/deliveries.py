"""Signed webhook deliveries: `call.*` events posted when each call reaches them.

As the Webhooks page says: `call.started` when an outbound call is queued (an inbound one:
when it connects), then `call.completed` or `call.failed` when it ends.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any
from urllib.parse import urlsplit

from zazacli import __version__
from zazacli.sandbox.data import CallRecord, CreatedForm, dumps, iso
from zazacli.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, sign

WEBHOOK_TIMEOUT = 5.0


class WebhookDispatcher:
    """One thread that posts `call.*` events, signed, when each call reaches them.

    Due times are on the sandbox's clock (`clock`), like the call timestamps they carry.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        log: Any,
        clock: Callable[[], float],
        created_form: Callable[[], CreatedForm | None] = lambda: None,
    ) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._url = url
        self._secret = secret
        self._log = log
        self._clock = clock
        self._created_form = created_form
        self._heap: list[tuple[float, int, str, CallRecord]] = []
        self._order = count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def schedule(self, call: CallRecord, now: float) -> None:
        """Queue the events this call has yet to reach (a call created at `now` has all)."""
        events = []
        # The Webhooks page: "an outbound call has been queued at the carrier; an inbound call
        # has connected" -- so it also fires for outbound calls that then fail or ring out.
        started = call.created if call.direction == "OUTBOUND" else call.answer_at
        if started is not None and started >= now:
            events.append((started, "call.started"))
        if call.end_at > now:
            final = "call.completed" if call.outcome.status == "COMPLETED" else "call.failed"
            events.append((call.end_at, final))
        if not events:
            return
        with self._cond:
            for due, event in events:
                heappush(self._heap, (due, next(self._order), event, call))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap:
                        wait = self._heap[0][0] - self._clock()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopped:
                    return
                due, _, event, call = heappop(self._heap)
            try:
                self.deliver(event, call, due)
            except Exception as exc:  # a bad delivery must never stop later ones
                self._log(f"webhook {event} for call {call.id}: unexpected error {exc!r}")

    def deliver(self, event: str, call: CallRecord, at: float) -> None:
        # The data is the call as it was when the event happened, even if delivery lags.
        data = call.to_dict(at, self._created_form())
        body = dumps({"event": event, "data": data, "timestamp": iso(at)})
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"ZazaVoice-Sandbox/{__version__}",
            EVENT_HEADER: event,
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=WEBHOOK_TIMEOUT)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=WEBHOOK_TIMEOUT)
        try:
            conn.request("POST", self._target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            outcome = f"answered {response.status}"
            if response.status >= 300:
                outcome += " (not delivered)"
        except (OSError, http.client.HTTPException) as exc:
            outcome = f"failed: {exc}"
        finally:
            conn.close()
        self._log(f"webhook {event} for call {call.id} -> {self._url} {outcome}")
