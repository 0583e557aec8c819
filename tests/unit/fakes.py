"""In-memory stand-ins for the data layer, honouring its contract (``logic/ports.py``).

They refuse what the real adapters refuse, with the same data-layer exceptions, so a logic test
on them proves what the moto tests prove about the flow, without DynamoDB:
- expired items (TTL passed) read as absent;
- a connection id registers once (:class:`ConnectionTaken`);
- a write conditioned on the session raises :class:`SessionRefused` with the session as found
  (with none when the join finds the speaker silent);
- a heartbeat closer than the minimum interval is refused with the time left.
``tests/integration/test_store_contract.py`` runs the same scenarios on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from session_service.data.errors import ConnectionTaken, SessionRefused
from session_service.data.sessions import liveness_key
from session_service.exceptions import Unauthorized
from session_service.models import (
    ActiveSessionsFigure,
    Connection,
    EndOutcome,
    Heard,
    HeartbeatOutcome,
    RateDecision,
    Role,
    Session,
    Unswept,
)
from session_service.observability import Telemetry
from session_service.protocol import EndReason


def heard_at(conn: Connection) -> int:
    """When a connection was last heard from (the liveness index's sort key)."""
    return conn.last_heartbeat_at_ms or conn.connected_at_ms


# mark_once's flag -> the Connection field it sets
_FLAGS = {"refreshNotified": "refresh_notified", "warningNotified": "warning_notified"}


@dataclass
class InMemorySessions:
    """Sessions, connections and the active-sessions count, as SessionStore keeps them."""

    sessions: dict[str, Session] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    limits: InMemoryLimits | None = None  # the store that counts active sessions, if any
    page_size: int = 25
    unswept: dict[str, tuple[int, EndReason]] = field(default_factory=dict)  # the sweep index

    # --- reads ---------------------------------------------------------------------------------
    def get_session(self, session_id: str, now_s: int) -> Session | None:
        session = self.sessions.get(session_id)
        return session if session is not None and session.expires_at > now_s else None

    def get_connection(self, connection_id: str, now_s: int) -> Connection | None:
        conn = self.connections.get(connection_id)
        return conn if conn is not None and conn.ttl > now_s else None

    def listener_pages(self, session_id: str) -> Iterator[list[Connection]]:
        listeners = [
            conn
            for conn in self.connections.values()
            if conn.session_id == session_id and conn.role is Role.LISTENER
        ]
        for start in range(0, len(listeners), self.page_size):
            yield listeners[start : start + self.page_size]
        if not listeners:
            yield []  # the GSI answers one empty page

    # --- creation ------------------------------------------------------------------------------
    def _register(self, conn: Connection) -> None:
        if conn.connection_id in self.connections:
            raise ConnectionTaken(conn.connection_id)

    def create_session(self, session: Session, speaker: Connection) -> bool:
        if session.session_id in self.sessions:
            if speaker.connection_id in self.connections:
                raise ConnectionTaken(speaker.connection_id)
            return False
        self._register(speaker)
        self.sessions[session.session_id] = session
        self.connections[speaker.connection_id] = speaker
        return True

    def add_listener(
        self,
        conn: Connection,
        capacity: int,
        now_s: int,
        speaker_connection_id: str,
        heard_after_ms: int,
    ) -> None:
        self._register(conn)
        session = self.sessions.get(conn.session_id)
        if session is None or not session.is_live(now_s) or session.listener_count >= capacity:
            raise SessionRefused(session)
        speaker = self.connections.get(speaker_connection_id)
        if speaker is None or (
            (speaker.last_heartbeat_at_ms or 0) <= heard_after_ms
            and speaker.connected_at_ms <= heard_after_ms
        ):
            raise SessionRefused(None)
        self.sessions[session.session_id] = replace(
            session, listener_count=session.listener_count + 1
        )
        self.connections[conn.connection_id] = conn

    def move_speaker(self, conn: Connection, new_expires_at: int, now_s: int) -> None:
        self._register(conn)
        session = self.sessions.get(conn.session_id)
        if (
            session is None
            or not session.is_live(now_s)
            or session.speaker_user_id != (conn.user_id or "")
        ):
            raise SessionRefused(session)
        self.sessions[session.session_id] = replace(
            session, speaker_connection_id=conn.connection_id, expires_at=new_expires_at
        )
        self.connections[conn.connection_id] = conn

    # --- liveness ------------------------------------------------------------------------------
    def record_heartbeat(
        self, connection_id: str, now_ms: int, min_interval_ms: int
    ) -> HeartbeatOutcome:
        conn = self.connections.get(connection_id)
        if conn is None or conn.ttl <= now_ms // 1000:
            return HeartbeatOutcome(previous=None)
        last = conn.last_heartbeat_at_ms
        if last is not None and last > now_ms - min_interval_ms:
            return HeartbeatOutcome(
                previous=conn, retry_after_ms=max(1, last + min_interval_ms - now_ms)
            )
        self.connections[connection_id] = replace(
            conn, last_heartbeat_at_ms=now_ms, welcome_sent=True
        )
        return HeartbeatOutcome(previous=conn)

    def mark_once(self, connection_id: str, flag: str) -> bool:
        conn = self.connections.get(connection_id)
        attribute = _FLAGS[flag]
        if conn is None or getattr(conn, attribute):
            return False
        self.connections[connection_id] = replace(conn, **{attribute: True})
        return True

    # --- removal -------------------------------------------------------------------------------
    def remove_listener(self, conn: Connection, heard_before_ms: int | None = None) -> bool:
        return self.remove_listener_item(conn.connection_id, conn.session_id, heard_before_ms)

    def remove_listener_item(
        self, connection_id: str, session_id: str, heard_before_ms: int | None = None
    ) -> bool:
        if not self._take(connection_id, heard_before_ms):
            return False
        session = self.sessions.get(session_id)
        if session is not None and session.listener_count > 0:
            self.sessions[session.session_id] = replace(
                session, listener_count=session.listener_count - 1
            )
        return True

    def _take(self, connection_id: str, heard_before_ms: int | None) -> bool:
        """Remove an item (if silent since ``heard_before_ms``, when given)."""
        conn = self.connections.get(connection_id)
        if conn is None:
            return False
        if heard_before_ms is not None and heard_at(conn) >= heard_before_ms:
            return False
        del self.connections[connection_id]
        return True

    def end_session(
        self,
        speaker: Connection | Heard,
        now_ms: int,
        reason: EndReason = EndReason.SPEAKER_DISCONNECTED,
        heard_before_ms: int | None = None,
    ) -> EndOutcome:
        if not self._take(speaker.connection_id, heard_before_ms):
            return EndOutcome.ALREADY_GONE
        session = self.sessions.get(speaker.session_id)
        if (
            session is None
            or not session.is_active
            or session.speaker_connection_id != speaker.connection_id
        ):
            return EndOutcome.SUPERSEDED
        self.sessions[session.session_id] = replace(session, is_active=False, listener_count=0)
        self.unswept[session.session_id] = (now_ms, reason)
        if self.limits is not None:
            self.limits.release_session_slot()
        return EndOutcome.ENDED

    def finish_end(self, session_id: str) -> bool:
        return self.unswept.pop(session_id, None) is not None

    def delete_connections(self, connection_ids: list[str]) -> None:
        for connection_id in connection_ids:
            self.connections.pop(connection_id, None)


@dataclass
class InMemoryLimits:
    """Fixed-window counters and the active-sessions count, as RateLimitStore keeps them."""

    counts: dict[str, int] = field(default_factory=dict)
    active_sessions: int = 0

    def consume(
        self, operation: str, kind: str, subject: str, limit: int, window_s: int, now_s: int
    ) -> RateDecision:
        window_start = now_s - now_s % window_s
        key = f"{operation}:{kind}:{subject}:{window_start}"
        if self.counts.get(key, 0) >= limit:
            return RateDecision(allowed=False, retry_after=max(1, window_start + window_s - now_s))
        self.counts[key] = self.counts.get(key, 0) + 1
        return RateDecision(allowed=True)

    def acquire_session_slot(self, max_active: int) -> int | None:
        if self.active_sessions >= max_active:
            return None
        self.active_sessions += 1
        return self.active_sessions

    def release_session_slot(self) -> None:
        self.active_sessions = max(0, self.active_sessions - 1)


@dataclass
class InMemoryLiveness:
    """The liveness and sweep indexes over an :class:`InMemorySessions`, and the counter's
    correction over its :class:`InMemoryLimits`, as LivenessStore reads and writes them."""

    store: InMemorySessions
    limits: InMemoryLimits
    observed_drift: int | None = None

    def heard(self, role: Role, shard: int, before_ms: int | None = None) -> Iterator[list[Heard]]:
        key = f"{role.value}#{shard}"
        found = sorted(
            (
                Heard(conn.connection_id, conn.session_id, role, heard_at(conn))
                for conn in self.store.connections.values()
                if liveness_key(conn.role, conn.connection_id) == key
                and (before_ms is None or heard_at(conn) < before_ms)
            ),
            key=lambda heard: heard.heard_at_ms,
        )
        for start in range(0, len(found), self.store.page_size):
            yield found[start : start + self.store.page_size]
        if not found:
            yield []

    def unswept(self, ended_before_ms: int) -> Iterator[list[Unswept]]:
        yield [
            Unswept(session_id, reason)
            for session_id, (ended_at, reason) in sorted(self.store.unswept.items())
            if ended_at < ended_before_ms
        ]

    def active_sessions_figure(self) -> ActiveSessionsFigure:
        return ActiveSessionsFigure(self.limits.active_sessions, self.observed_drift)

    def observe_drift(self, drift: int) -> None:
        self.observed_drift = drift

    def forget_drift(self) -> None:
        self.observed_drift = None

    def correct_count(self, found: int, true_count: int) -> bool:
        if self.limits.active_sessions != found:
            return False
        self.limits.active_sessions = true_count
        self.observed_drift = None
        return True


@dataclass
class RecordingMessenger:
    """Records every message; connections in ``gone`` have gone away (410)."""

    gone: set[str] = field(default_factory=set)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def close(self, connection_id: str) -> bool:
        self.closed.append(connection_id)
        return connection_id not in self.gone

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        if connection_id in self.gone:
            return False
        self.sent.append((connection_id, message))
        return True

    def post_all(self, connection_ids: Iterable[str], message: dict[str, Any]) -> dict[str, bool]:
        return {cid: self.post(cid, message) for cid in connection_ids}

    def types(self, connection_id: str) -> list[str]:
        return [m["type"] for cid, m in self.sent if cid == connection_id]


@dataclass(frozen=True)
class Identity:
    user_id: str


@dataclass
class TokenTable:
    """A verifier that knows a fixed set of tokens (token -> user id); any other is refused."""

    users: dict[str, str] = field(default_factory=dict)
    verified: list[str] = field(default_factory=list)

    def verify(self, token: str) -> Any:
        self.verified.append(token)
        if token not in self.users:
            raise Unauthorized("the token is not valid")
        return Identity(self.users[token])


class RecordingTelemetry(Telemetry):
    """Metrics kept in a list: Powertools' metric set is shared by every ``Metrics`` instance of
    the process, so a real one here would leak unit-test metrics into later tests' output."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, float]] = []
        self._pending = False

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        self.recorded.append((name, value))

    def flush(self) -> None:
        self._pending = False
