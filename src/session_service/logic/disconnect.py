"""`$disconnect`: remove the connection; a speaker's own disconnect ends the session.

Request budget (DynamoDB): listener 2 (read the item, one transaction deleting it and
uncounting it); speaker 3 + ceil(N/25) (read, one transaction deleting the item, ending the
session and uncounting it, one GSI query per page of listeners, one BatchWriteItem per 25).
The end marks the session for the janitor's sweep, which finishes it if this invocation dies
before every listener is told (``logic/janitor.py``).
Duplicate and out-of-order events find the item gone or the condition false and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from session_service.config import DisconnectSettings
from session_service.logic.endings import tell_listeners
from session_service.logic.ports import Departures, Messenger
from session_service.models import EndOutcome, Role
from session_service.observability import Telemetry, logger
from session_service.protocol import EndReason

SPEAKER_LEFT = EndReason.SPEAKER_DISCONNECTED


@dataclass
class DisconnectService:
    settings: DisconnectSettings
    sessions: Departures
    notifier: Messenger
    telemetry: Telemetry
    clock: Callable[[], float]

    def disconnect(self, connection_id: str) -> None:
        now = self.clock()
        conn = self.sessions.get_connection(connection_id, int(now))
        if conn is None:
            logger.info("disconnect of an unknown or cleaned-up connection")
            return
        if conn.role is Role.LISTENER:
            removed = self.sessions.remove_listener(conn)
            logger.info("listener left", extra={"sessionId": conn.session_id, "removed": removed})
            return
        outcome = self.sessions.end_session(conn, int(now * 1000))
        logger.info(
            "speaker connection closed",
            extra={"sessionId": conn.session_id, "outcome": outcome.value},
        )
        if outcome is EndOutcome.ENDED:
            self._end_listeners(conn.session_id, now)

    def _end_listeners(self, session_id: str, now: float) -> None:
        told = tell_listeners(self.sessions, self.notifier, session_id, SPEAKER_LEFT, now)
        logger.info(
            "session ended",
            extra={
                "sessionId": session_id,
                "listeners": told.listeners,
                "undelivered": told.undelivered,
            },
        )
