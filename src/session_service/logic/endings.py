"""Telling an ended session's listeners, and removing their items: one way, for `$disconnect`
and the janitor alike.

Each page of listeners (one GSI query) is told ``sessionEnded`` in parallel, then its items go
in batches of 25. A listener whose socket is gone (410) is removed like the others. Telling a
listener twice is harmless (a second ``sessionEnded`` for an ended session); never telling one
is the defect the janitor's sweep exists for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from session_service import messages

if TYPE_CHECKING:
    from session_service.logic.ports import ListenerRemoval, Messenger
    from session_service.protocol import EndReason


@dataclass(frozen=True)
class Told:
    """What one fan-out did: listener items removed, and how many were no longer there."""

    listeners: int
    undelivered: int


def tell_listeners(
    sessions: ListenerRemoval,
    notifier: Messenger,
    session_id: str,
    reason: EndReason,
    now: float,
) -> Told:
    """Send ``sessionEnded`` (``reason``) to every listener of the session and remove them."""
    notice = messages.session_ended(session_id, reason, int(now * 1000))
    total = gone = 0
    for page in sessions.listener_pages(session_id):
        live = [listener.connection_id for listener in page if listener.ttl > int(now)]
        delivered = notifier.post_all(live, notice)
        gone += sum(1 for ok in delivered.values() if not ok)
        sessions.delete_connections([listener.connection_id for listener in page])
        total += len(page)
    return Told(listeners=total, undelivered=gone)
