"""Counting the requests the handlers make, per operation, where they arrive.

- DynamoDB: moto's request recorder (``/moto-api/recorder/*``, a documented moto feature)
  records every request moto's server receives, with its headers. The operation is the
  ``X-Amz-Target`` header; the handler is the ``app/<id>`` of the User-Agent, which botocore
  takes from ``AWS_SDK_UA_APP_ID`` (documented botocore setting) when the local environment
  starts each function with that variable set to the handler's name. Without it, requests are
  reported under ``unattributed``.
- Management API (``@connections``): the local gateway logs every request to its management
  port on the ``local.gateway`` logger (``management API: "POST /prod/@connections/… HTTP/1.1"
  200``); a logging handler counts those lines by method. They carry no handler name, so they are
  counted per phase; in each phase one message route posts (heartbeat: welcome, ack; refresh:
  refresh complete; speaker disconnect: sessionEnded), which the report says.

Phases are sequential (:class:`bench.generator.LoadGenerator`): at the end of a phase the counter
waits until no request has arrived for ``quiet_s`` (``$disconnect`` runs after the client's close
returns), then reads and resets both counts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import urllib.request
from collections import Counter
from typing import Any

_APP_ID = re.compile(r"\bapp/([A-Za-z0-9._-]+)")
_MGMT_LINE = re.compile(r'"(GET|POST|DELETE) /[^ ]*/@connections/')
UNATTRIBUTED = "unattributed"


def parse_recording(text: str) -> list[tuple[str, str, str]]:
    """(handler, service, operation) of each request in a moto recording."""
    requests = []
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
        target = headers.get("x-amz-target", "")
        service, _, operation = target.partition(".")
        if not operation:
            service, operation = "other", f"{entry.get('method', '?')} {entry.get('url', '?')}"
        elif service.startswith("DynamoDB"):
            service = "dynamodb"
        app = _APP_ID.search(headers.get("user-agent", ""))
        requests.append((app.group(1) if app else UNATTRIBUTED, service, operation))
    return requests


class MotoRecorder:
    """moto's request recorder, driven over its HTTP API."""

    def __init__(self, moto_endpoint: str) -> None:
        self.base = moto_endpoint.rstrip("/") + "/moto-api/recorder"

    def _call(self, action: str, method: str = "POST") -> str:
        data = b"" if method == "POST" else None
        url = f"{self.base}/{action}"  # moto on loopback, http only
        request = urllib.request.Request(url, method=method, data=data)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return str(response.read().decode("utf-8"))

    def start(self) -> None:
        self._call("reset-recording")
        self._call("start-recording")

    def stop(self) -> None:
        self._call("stop-recording")

    def take(self) -> str:
        """The recording so far, and a fresh one from now on."""
        text = self._call("download-recording", "GET")
        self._call("reset-recording")
        return text

    def size(self) -> int:
        return len(self._call("download-recording", "GET"))


class ManagementLogCounter(logging.Handler):
    """Counts the management-API request lines the local gateway logs."""

    LOGGER = "local.gateway"

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.counts: Counter[str] = Counter()
        self._lock_counts = threading.Lock()
        self._logger = logging.getLogger(self.LOGGER)
        self._previous_level = self._logger.level
        self._previous_propagate = self._logger.propagate

    def emit(self, record: logging.LogRecord) -> None:
        match = _MGMT_LINE.search(record.getMessage())
        if match:
            with self._lock_counts:
                self.counts[match.group(1)] += 1

    def install(self) -> None:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)
        # The gateway's DEBUG lines are for this counter only; INFO and above still propagate.
        self._logger.propagate = False
        self._forward = _Forward(logging.getLogger(self.LOGGER.split(".", 1)[0]))
        self._logger.addHandler(self._forward)

    def uninstall(self) -> None:
        self._logger.removeHandler(self)
        self._logger.removeHandler(self._forward)
        self._logger.setLevel(self._previous_level)
        self._logger.propagate = self._previous_propagate

    def take(self) -> Counter[str]:
        with self._lock_counts:
            taken, self.counts = self.counts, Counter()
        return taken

    def total(self) -> int:
        with self._lock_counts:
            return sum(self.counts.values())


class MotoLogCounter(logging.Handler):
    """Counts the requests moto's server logs (werkzeug, one INFO line per request) and the
    requests it failed on (``Error on request``, an emulator fault the SDK retries).

    moto's server runs in a child process in the local environment; its log records reach this
    process's ``werkzeug`` logger all the same (:class:`local.moto_server.MotoServer` logs them
    again here, as they arrive on a pipe), so this handler counts them where it is installed.

    Cheap enough to run during every measured level; it is how the bench knows the system has
    finished the previous phase's work (:class:`Drain`). The lines are counted, not printed.
    """

    LOGGER = "werkzeug"

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.requests = 0
        self.errors = 0
        self._logger = logging.getLogger(self.LOGGER)
        self._saved: tuple[int, bool, list[logging.Handler]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and "Error on request" in record.getMessage():
            self.errors += 1
        elif record.levelno == logging.INFO:
            self.requests += 1

    def install(self) -> None:
        log = self._logger
        self._saved = (log.level, log.propagate, list(log.handlers))
        for handler in list(log.handlers):
            log.removeHandler(handler)
        log.addHandler(self)
        log.setLevel(logging.INFO)
        log.propagate = False

    def uninstall(self) -> None:
        if self._saved is None:
            return
        level, propagate, handlers = self._saved
        self._logger.removeHandler(self)
        for handler in handlers:
            self._logger.addHandler(handler)
        self._logger.setLevel(level)
        self._logger.propagate = propagate
        self._saved = None


async def wait_quiet(
    signals: list[Any], quiet_s: float, max_wait_s: float, poll_s: float = 0.5
) -> float:
    """Waits until none of ``signals`` (callables returning a number) changed for ``quiet_s``;
    returns the seconds waited (at most ``max_wait_s``)."""
    started = time.monotonic()
    last: tuple[Any, ...] = ()
    quiet_since = started
    while time.monotonic() - started < max_wait_s:
        now = tuple(signal() for signal in signals)
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        await asyncio.sleep(poll_s)
    return time.monotonic() - started


class Drain:
    """A :class:`bench.generator.PhaseObserver` that starts each phase on an idle system.

    The generator moves on when its clients have their answers, but ``$disconnect`` runs after
    a close and a saturated system may still be working through queued invocations; without a
    drain that backlog would be timed as the next phase's latency.
    """

    def __init__(
        self, moto: MotoLogCounter, management: ManagementLogCounter, quiet_s: float = 2.0
    ) -> None:
        # moto's requests (relayed from its process) and the management API's traffic (every
        # phase but the DynamoDB-only leaves posts) are the signals
        self.signals = [lambda: moto.requests, management.total]
        self.quiet_s = quiet_s
        self.waited: dict[str, float] = {}

    async def begin(self, phase: str) -> None:
        waited = await wait_quiet(self.signals, self.quiet_s, max_wait_s=180.0)
        self.waited[phase] = round(waited, 1)

    async def end(self, phase: str, operations: int) -> None:
        return None


class _Forward(logging.Handler):
    """Passes records of INFO and above on to the parent logger's handlers."""

    def __init__(self, parent: logging.Logger) -> None:
        super().__init__(level=logging.INFO)
        self.parent_logger = parent

    def emit(self, record: logging.LogRecord) -> None:
        self.parent_logger.handle(record)


def _per_handler(requests: list[tuple[str, str, str]], operations: int) -> dict[str, Any]:
    handlers: dict[str, dict[str, Any]] = {}
    for handler, service, operation in requests:
        entry = handlers.setdefault(handler, {"dynamodb": Counter(), "other": Counter()})
        entry["dynamodb" if service == "dynamodb" else "other"][operation] += 1
    out = {}
    for handler, entry in sorted(handlers.items()):
        total = sum(entry["dynamodb"].values())
        out[handler] = {
            "dynamodbRequests": total,
            "dynamodbPerOperation": _per(total, operations),
            "dynamodbCallsPerOperation": {
                name: _per(n, operations) for name, n in entry["dynamodb"].most_common()
            },
            "otherRequests": dict(entry["other"]),
        }
    return out


def _per(count: int, operations: int) -> float | None:
    return round(count / operations, 2) if operations else None


class RequestCounter:
    """A :class:`bench.generator.PhaseObserver` that counts the requests of each phase."""

    def __init__(
        self,
        recorder: MotoRecorder,
        management: ManagementLogCounter,
        *,
        quiet_s: float = 3.0,
        poll_s: float = 0.5,
        max_wait_s: float = 60.0,
    ) -> None:
        self.recorder = recorder
        self.management = management
        self.quiet_s = quiet_s
        self.poll_s = poll_s
        self.max_wait_s = max_wait_s
        self.phases: dict[str, dict[str, Any]] = {}

    async def begin(self, phase: str) -> None:
        await self._settle()  # what the previous phase (or run) left running finishes first
        await asyncio.to_thread(self.recorder.take)
        self.management.take()

    async def _settle(self) -> None:
        """Waits until neither moto nor the management API received a request for quiet_s.

        quiet_s is longer than a local worker's cold start, so a ``$disconnect`` waiting for a
        new worker is not mistaken for the end of the phase.
        """
        deadline = time.monotonic() + self.max_wait_s
        last, quiet_since = (-1, -1), time.monotonic()
        while time.monotonic() < deadline:
            now = (await asyncio.to_thread(self.recorder.size), self.management.total())
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= self.quiet_s:
                return
            await asyncio.sleep(self.poll_s)

    async def end(self, phase: str, operations: int) -> None:
        await self._settle()
        requests = parse_recording(await asyncio.to_thread(self.recorder.take))
        management = self.management.take()
        total = sum(management.values())
        self.phases[phase] = {
            "operations": operations,
            "handlers": _per_handler(requests, operations),
            "managementApi": {
                "requests": total,
                "perOperation": _per(total, operations),
                "byMethod": dict(management),
            },
        }
