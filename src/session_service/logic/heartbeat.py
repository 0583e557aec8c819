"""The heartbeat route: liveness, the welcome, and the refresh and warning notices.

Steady state is one DynamoDB request: an UpdateItem that records the heartbeat, enforces the
per-connection minimum interval in its condition, and returns the previous item (which says
whether the welcome is still due). Only the one heartbeat that crosses a notice time adds a
conditional write, so each notice goes out once per connection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from session_service import constants as c
from session_service import messages
from session_service.config import HeartbeatSettings
from session_service.constants import API_GATEWAY_CONNECTION_LIMIT_MINUTES
from session_service.exceptions import RateLimitExceeded
from session_service.logic.ports import Liveness, Messenger
from session_service.logic.refusals import not_connected
from session_service.models import Caller, Connection, Role
from session_service.observability import Telemetry


@dataclass
class HeartbeatService:
    settings: HeartbeatSettings
    sessions: Liveness
    notifier: Messenger
    telemetry: Telemetry
    clock: Callable[[], float]

    def handle(self, caller: Caller) -> None:
        """Record the heartbeat and send what is due: the welcome, the ack, the notices."""
        now_ms = int(self.clock() * 1000)
        s = self.settings
        outcome = self.sessions.record_heartbeat(
            caller.connection_id, now_ms, s.min_heartbeat_interval_ms
        )
        if outcome.retry_after_ms:
            self.telemetry.count(c.METRIC_RATE_LIMIT_EXCEEDED)
            raise RateLimitExceeded(
                f"at most {s.heartbeat_limit_per_minute} heartbeats per connection per minute",
                math.ceil(outcome.retry_after_ms / 1000),
                {"limit": "heartbeatsPerMinute"},
            )
        conn = outcome.previous
        if conn is None:
            raise not_connected()
        for message in self._messages(conn, now_ms):
            if not self.notifier.post(caller.connection_id, message):
                return  # gone: its $disconnect does the counted cleanup

    def _messages(self, conn: Connection, now_ms: int) -> list[messages.Message]:
        s = self.settings
        out: list[messages.Message] = []
        if not conn.welcome_sent:
            if conn.role is Role.SPEAKER:
                expires_at = conn.connected_at_ms // 1000 + s.session_duration_minutes * 60
                out.append(messages.session_created(conn, expires_at, now_ms))
            else:
                out.append(messages.session_joined(conn, now_ms))
        out.append(messages.heartbeat_ack(now_ms))
        age_minutes = (now_ms - conn.connected_at_ms) / 60_000
        if (
            age_minutes >= s.connection_refresh_minutes
            and not conn.refresh_notified
            and self.sessions.mark_once(conn.connection_id, "refreshNotified")
        ):
            out.append(messages.connection_refresh_required(conn, now_ms))
        if (
            age_minutes >= s.connection_warning_minutes
            and not conn.warning_notified
            and self.sessions.mark_once(conn.connection_id, "warningNotified")
        ):
            remaining = max(0, math.floor(API_GATEWAY_CONNECTION_LIMIT_MINUTES - age_minutes))
            out.append(messages.connection_warning(remaining, now_ms))
        return out
