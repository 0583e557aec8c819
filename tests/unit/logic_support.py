"""Logic services wired to the in-memory fakes, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from session_service.config import (
    AuthorizerSettings,
    ConnectSettings,
    DisconnectSettings,
    HeartbeatSettings,
    RefreshSettings,
    load_typed,
)
from session_service.logic.authorize import AuthorizerService
from session_service.logic.connect import ConnectService
from session_service.logic.disconnect import DisconnectService
from session_service.logic.heartbeat import HeartbeatService
from session_service.logic.refresh import RefreshService
from session_service.models import Caller

from .fakes import (
    InMemoryLimits,
    InMemorySessions,
    RecordingMessenger,
    RecordingTelemetry,
    TokenTable,
)

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _ids() -> Iterator[str]:
    for number in range(100, 1000):
        yield f"brave-otter-{number}"


@dataclass
class World:
    """One set of fakes shared by every flow, as the tables are shared by every function."""

    env: Mapping[str, str]
    clock: Clock = field(default_factory=Clock)
    limits: InMemoryLimits = field(default_factory=InMemoryLimits)
    messenger: RecordingMessenger = field(default_factory=RecordingMessenger)
    tokens: TokenTable = field(default_factory=lambda: TokenTable({"good": "user-1"}))

    def __post_init__(self) -> None:
        self.sessions = InMemorySessions(limits=self.limits)
        self.telemetry = telemetry = RecordingTelemetry()
        ids = _ids()
        self.connect = ConnectService(
            settings=load_typed("connection", self.env, ConnectSettings),
            sessions=self.sessions,
            limits=self.limits,
            telemetry=telemetry,
            clock=self.clock,
            new_session_id=lambda: next(ids),
        )
        self.heartbeat = HeartbeatService(
            settings=load_typed("heartbeat", self.env, HeartbeatSettings),
            sessions=self.sessions,
            notifier=self.messenger,
            telemetry=telemetry,
            clock=self.clock,
        )
        self.refresh = RefreshService(
            settings=load_typed("refresh", self.env, RefreshSettings),
            sessions=self.sessions,
            notifier=self.messenger,
            telemetry=telemetry,
            clock=self.clock,
        )
        self.disconnect = DisconnectService(
            settings=load_typed("disconnect", self.env, DisconnectSettings),
            sessions=self.sessions,
            notifier=self.messenger,
            telemetry=telemetry,
            clock=self.clock,
        )
        self.authorizer = AuthorizerService(
            settings=load_typed("authorizer", self.env, AuthorizerSettings),
            limits=self.limits,
            verifier=self.tokens,
            telemetry=telemetry,
            clock=self.clock,
        )

    def create(self, cid: str = "spk-1", user_id: str = "user-1") -> str:
        self.connect.connect(
            {"action": "createSession", "sourceLanguage": "en"}, Caller(cid, user_id, "192.0.2.1")
        )
        return self.sessions.connections[cid].session_id

    def join(self, cid: str, session_id: str, ip: str = "192.0.2.9") -> None:
        self.connect.connect(
            {"action": "joinSession", "sessionId": session_id, "targetLanguage": "es"},
            Caller(cid, "", ip),
        )
