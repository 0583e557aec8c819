"""Test-only faults of the local gateway, all off by default.

API Gateway delivers ``$disconnect`` on a best-effort basis, and a ``$disconnect`` invocation
can die like any other; these faults make both happen on demand, so that tests can show what the
service does when they do (the janitor puts it right):

- :meth:`GatewayFaults.lose_disconnect`: the ``$disconnect`` of a given connection is never
  called; :attr:`GatewayFaults.lose_next_disconnects`: nor those of the next N connections that
  close;
- :meth:`GatewayFaults.kill_disconnect_fan_out`: the ``$disconnect`` of a given connection runs,
  and its execution environment is killed right after the first message it posts has been
  delivered: the posts it has in flight are never delivered, the invocation ends with
  ``Runtime.ExitError`` (a fan-out that died part-way). Meant for a moment when nothing else
  posts: while the invocation runs, every post counts as its.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("local.gateway")


@dataclass
class FanOutKill:
    """One armed kill: the posts still delivered before the worker of the invocation dies."""

    connection_id: str
    deliver: int = 1
    fired: bool = False
    _kill: Callable[[], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, kill: Callable[[], None]) -> None:
        """The runtime's hook: how to kill the worker that runs this invocation."""
        self._kill = kill

    def post(self, send: Callable[[], int]) -> int:
        """A post made while the invocation runs: delivered (``send``) while any is left, then
        the worker is killed; a post after that goes nowhere (its process is gone)."""
        with self._lock:
            if self.fired:
                return 410
            status = send()
            self.deliver -= 1
            if self.deliver <= 0:
                self.fired = True
                logger.warning(
                    "fault: $disconnect of %s killed after its first post", self.connection_id
                )
                if self._kill is not None:
                    self._kill()
            return status


@dataclass
class GatewayFaults:
    """What the gateway gets wrong on purpose (tests only)."""

    lose_next_disconnects: int = 0
    _lost: set[str] = field(default_factory=set)
    _kills: dict[str, FanOutKill] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lose_disconnect(self, connection_id: str) -> None:
        """Never call the ``$disconnect`` of ``connection_id``."""
        with self._lock:
            self._lost.add(connection_id)

    def kill_disconnect_fan_out(self, connection_id: str, deliver: int = 1) -> None:
        """Kill the ``$disconnect`` of ``connection_id`` after ``deliver`` delivered posts."""
        with self._lock:
            self._kills[connection_id] = FanOutKill(connection_id, deliver)

    def loses(self, connection_id: str) -> bool:
        """Whether the ``$disconnect`` of this connection is lost (a lost one is used up)."""
        with self._lock:
            if connection_id in self._lost:
                self._lost.discard(connection_id)
                return True
            if self.lose_next_disconnects > 0:
                self.lose_next_disconnects -= 1
                return True
            return False

    def kill_for(self, connection_id: str) -> FanOutKill | None:
        with self._lock:
            return self._kills.pop(connection_id, None)
