"""What the logic needs of the data layer: small interfaces, one per use.

Each flow names only the calls it makes, so its tests can run on an in-memory fake
(``tests/unit/fakes.py``) while the moto tests prove the real adapters
(:class:`~session_service.data.sessions.SessionStore`,
:class:`~session_service.data.rate_limits.RateLimitStore`). The adapters satisfy these by shape;
nothing here imports them.

The contract besides the signatures (the adapters' docstrings say it in full): reads treat an
item whose TTL has passed as absent; ``create_session`` returns False when the id is taken;
``add_listener`` and ``move_speaker`` raise ``ConnectionTaken`` or ``SessionRefused``
(:mod:`session_service.data.errors`); any other failure is a ``DataError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from session_service.auth.jwt_verifier import Identity
    from session_service.messages import Message
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
    from session_service.protocol import EndReason


class RateLimits(Protocol):
    """Fixed-window counters (one conditional write per event)."""

    def consume(
        self, operation: str, kind: str, subject: str, limit: int, window_s: int, now_s: int
    ) -> RateDecision: ...


class SessionSlots(Protocol):
    """The service-wide count of active sessions."""

    def acquire_session_slot(self, max_active: int) -> int | None: ...

    def release_session_slot(self) -> None: ...


class ConnectLimits(RateLimits, SessionSlots, Protocol):
    """What `$connect` counts: its rate limits and the active sessions."""


class SessionReader(Protocol):
    def get_session(self, session_id: str, now_s: int) -> Session | None: ...


class ConnectionReader(Protocol):
    def get_connection(self, connection_id: str, now_s: int) -> Connection | None: ...


class ConnectSessions(SessionReader, Protocol):
    """What `$connect` reads and writes: new sessions, listeners, a speaker's move."""

    def create_session(self, session: Session, speaker: Connection) -> bool: ...

    def add_listener(
        self,
        conn: Connection,
        capacity: int,
        now_s: int,
        speaker_connection_id: str,
        heard_after_ms: int,
    ) -> None: ...

    def move_speaker(self, conn: Connection, new_expires_at: int, now_s: int) -> None: ...


class Liveness(Protocol):
    """What the heartbeat route writes: the heartbeat, and each notice once."""

    def record_heartbeat(
        self, connection_id: str, now_ms: int, min_interval_ms: int
    ) -> HeartbeatOutcome: ...

    def mark_once(self, connection_id: str, flag: str) -> bool: ...


class ListenerRemoval(Protocol):
    """What telling an ended session's listeners needs: its listeners, and removing them."""

    def listener_pages(self, session_id: str) -> Iterator[list[Connection]]: ...

    def delete_connections(self, connection_ids: list[str]) -> None: ...


class Endings(ListenerRemoval, Protocol):
    """Ending a session (``heard_before_ms``: only if its speaker is silent since then)."""

    def end_session(
        self,
        speaker: Connection | Heard,
        now_ms: int,
        reason: EndReason = ...,
        heard_before_ms: int | None = None,
    ) -> EndOutcome: ...


class Departures(ConnectionReader, Endings, Protocol):
    """What `$disconnect` changes: a listener leaving, a session ending, its listeners."""

    def remove_listener(self, conn: Connection) -> bool: ...


class Reaping(Endings, Protocol):
    """What the janitor changes: silent listeners, sessions of silent speakers, unfinished
    ends."""

    def remove_listener_item(
        self, connection_id: str, session_id: str, heard_before_ms: int | None = None
    ) -> bool: ...

    def finish_end(self, session_id: str) -> bool: ...

    def get_session(self, session_id: str, now_s: int) -> Session | None: ...


class LivenessIndex(Protocol):
    """What the janitor reads (:class:`~session_service.data.liveness.LivenessStore`)."""

    def heard(
        self, role: Role, shard: int, before_ms: int | None = None
    ) -> Iterator[list[Heard]]: ...

    def unswept(self, ended_before_ms: int) -> Iterator[list[Unswept]]: ...

    def active_sessions_figure(self) -> ActiveSessionsFigure: ...

    def observe_drift(self, drift: int) -> None: ...

    def forget_drift(self) -> None: ...

    def correct_count(self, found: int, true_count: int) -> bool: ...


class Messenger(Protocol):
    """Messages to connections (:class:`~session_service.logic.notifier.Notifier`)."""

    def post(self, connection_id: str, message: Message) -> bool: ...

    def post_all(self, connection_ids: Iterable[str], message: Message) -> dict[str, bool]: ...

    def close(self, connection_id: str) -> bool: ...


class Verifier(Protocol):
    """Checks a Cognito token; raises ``Unauthorized`` (or ``JwksUnavailable``) when it fails."""

    def verify(self, token: str) -> Identity: ...
