"""The killed fan-out, run in a thread of its own (its end is finished a minute later).

A speaker with three listeners closes its socket; its ``$disconnect`` ends the session and
starts telling the listeners, and the gateway's fault kills its execution environment right
after the first ``sessionEnded`` is delivered. Nothing else runs while that happens (the thread
starts before the other tests and :meth:`KilledFanOut.start` returns once the kill is done);
then the thread listens, for as long as the janitor may take, to what every listener receives.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local.environment import LocalEnvironment
from tests.e2e.e2e_support import create_session, join_session

from .janitor_support import ends, messages_for

LISTENERS = ("es", "fr", "de")
# The janitor finishes an end once the longest function timeout has passed (SWEEP_AFTER_MS).
SWEEP_AFTER_S = 60.0


@dataclass
class Outcome:
    session_id: str = ""
    ended_at: float = 0.0  # monotonic, when the speaker closed
    told_by_disconnect: int | None = None  # index of the listener the dying $disconnect told
    received: list[list[dict[str, Any]]] = field(default_factory=list)  # per listener
    error: BaseException | None = None


class KilledFanOut:
    def __init__(self, env: LocalEnvironment, ip: str, period: float) -> None:
        self.env = env
        self.ip = ip
        self.period = period
        self.outcome = Outcome()
        self._killed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="killed-fan-out", daemon=True)

    def start(self) -> KilledFanOut:
        self._thread.start()
        self._killed.wait(60)
        if self.outcome.error is not None:
            raise self.outcome.error
        return self

    def join(self, timeout: float = SWEEP_AFTER_S + 60) -> Outcome:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the killed fan-out's scenario did not finish")
        if self.outcome.error is not None:
            raise self.outcome.error
        return self.outcome

    def _run(self) -> None:
        try:
            asyncio.run(self._scenario())
        except BaseException as exc:
            self.outcome.error = exc
        finally:
            self._killed.set()

    async def _scenario(self) -> None:
        env, out = self.env, self.outcome
        speaker, created = await create_session(
            env, self.ip, env.speaker_token("fan-out@example.com")
        )
        out.session_id = created["sessionId"]
        listeners = [
            (await join_session(env, self.ip, out.session_id, lang))[0] for lang in LISTENERS
        ]
        gateway = env.gateway
        assert gateway is not None
        gateway.faults.kill_disconnect_fan_out(created["connectionId"])
        out.ended_at = time.monotonic()
        await speaker.close()
        # The first post is delivered, then the worker dies: one listener is told.
        first = await asyncio.gather(*(messages_for(ws, 3.0) for ws in listeners))
        told = [i for i, received in enumerate(first) if ends(received)]
        assert len(told) == 1, f"the dying $disconnect told listeners {told}"
        out.told_by_disconnect = told[0]
        out.received = [list(received) for received in first]
        self._killed.set()
        # The janitor's sweep, once the end is older than the longest function timeout, then a
        # run more to see that nothing is told twice by it.
        until = out.ended_at + SWEEP_AFTER_S + 3 * self.period + 5
        while any(not ends(r) for r in out.received) and time.monotonic() < until:
            more = await asyncio.gather(*(messages_for(ws, 1.0) for ws in listeners))
            for received, new in zip(out.received, more, strict=True):
                received.extend(new)
        more = await asyncio.gather(*(messages_for(ws, 2 * self.period) for ws in listeners))
        for received, new in zip(out.received, more, strict=True):
            received.extend(new)
        for ws in listeners:
            await ws.close()
