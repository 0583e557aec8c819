"""The refreshConnection route: confirm a refresh on the new connection.

The state change happened at `$connect` (action=refreshConnection); this route reads the new
connection (one GetItem) and answers ``connectionRefreshComplete``. Repeating it repeats the
answer and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from session_service import messages
from session_service.config import RefreshSettings
from session_service.exceptions import InvalidAction
from session_service.logic.ports import ConnectionReader, Messenger
from session_service.logic.refusals import not_connected, not_the_speaker
from session_service.models import Caller, Role
from session_service.observability import Telemetry


@dataclass
class RefreshService:
    settings: RefreshSettings
    sessions: ConnectionReader
    notifier: Messenger
    telemetry: Telemetry
    clock: Callable[[], float]

    def handle(self, caller: Caller) -> None:
        """Answer ``connectionRefreshComplete`` on a connection that `$connect` refreshed."""
        now = self.clock()
        conn = self.sessions.get_connection(caller.connection_id, int(now))
        if conn is None:
            raise not_connected()
        if not conn.is_refresh:
            raise InvalidAction(
                "refreshConnection is only valid on a connection opened with "
                "action=refreshConnection"
            )
        # The identity that $connect established rides on every message of the connection.
        if conn.role is Role.SPEAKER and conn.user_id != caller.user_id:
            raise not_the_speaker()
        done = messages.connection_refresh_complete(conn, int(now * 1000))
        self.notifier.post(caller.connection_id, done)
