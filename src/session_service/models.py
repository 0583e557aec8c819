"""Domain objects shared by the logic and the data layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# Role, QualityTier and EndReason are protocol words; the domain objects carry them.
from session_service.protocol import EndReason, QualityTier, Role

__all__ = [
    "ActiveSessionsFigure",
    "Caller",
    "Connection",
    "EndOutcome",
    "Heard",
    "HeartbeatOutcome",
    "QualityTier",
    "RateDecision",
    "Role",
    "Session",
    "Unswept",
]


@dataclass(frozen=True)
class Session:
    session_id: str
    speaker_connection_id: str
    speaker_user_id: str
    source_language: str
    quality_tier: str
    created_at_ms: int
    is_active: bool
    listener_count: int
    expires_at: int  # epoch seconds (TTL)

    def is_live(self, now_s: int) -> bool:
        return self.is_active and self.expires_at > now_s


@dataclass(frozen=True)
class Connection:
    connection_id: str
    session_id: str
    role: Role
    source_language: str
    connected_at_ms: int
    ttl: int  # epoch seconds (TTL)
    target_language: str | None = None  # listeners only, so the GSI holds listeners only
    user_id: str | None = None  # speakers only
    quality_tier: str | None = None  # speakers only, for the welcome
    is_refresh: bool = False  # opened with action=refreshConnection
    welcome_sent: bool = False
    refresh_notified: bool = False
    warning_notified: bool = False
    last_heartbeat_at_ms: int | None = None


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the connection, the authorizer's verdict and the client address."""

    connection_id: str
    user_id: str  # "" when anonymous
    source_ip: str
    rate_limited: bool = False
    retry_after: int = 0


class EndOutcome(Enum):
    """What a speaker's disconnect did to its session."""

    ENDED = "ended"  # this call ended the session
    SUPERSEDED = "superseded"  # a refresh moved the session to another connection, or it ended
    ALREADY_GONE = "already_gone"  # the connection item was already removed


@dataclass(frozen=True)
class HeartbeatOutcome:
    """What recording a heartbeat found."""

    previous: Connection | None  # the item before this heartbeat, when it was recorded
    retry_after_ms: int = 0  # > 0 when refused by the per-connection minimum interval


@dataclass(frozen=True)
class Heard:
    """A connection as the liveness index holds it: who, whose session, when last heard."""

    connection_id: str
    session_id: str
    role: Role
    heard_at_ms: int


@dataclass(frozen=True)
class Unswept:
    """An ended session whose listeners may not all have been told yet."""

    session_id: str
    reason: EndReason


@dataclass(frozen=True)
class ActiveSessionsFigure:
    """The active-sessions counter as read, and the drift the previous janitor run found."""

    count: int
    observed_drift: int | None
