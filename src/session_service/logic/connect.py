"""`$connect`: createSession, joinSession and refreshConnection.

Request budget (DynamoDB): createSession 3 (user rate limit, active-sessions counter, one
transaction writing the session and the speaker connection); joinSession 3 (IP rate limit,
session read for the welcome's sourceLanguage, one transaction adding the listener, counting it
and checking that the speaker was heard lately); refreshConnection 2 (session read, one
transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from session_service import constants as c
from session_service import validation as check
from session_service.config import ConnectSettings
from session_service.data.errors import ConnectionTaken, SessionRefused
from session_service.exceptions import (
    InternalError,
    InvalidAction,
    RateLimitExceeded,
    SessionFull,
    SessionNotFound,
    Unauthorized,
)
from session_service.logic.ports import ConnectLimits, ConnectSessions
from session_service.logic.refusals import full, not_found, not_the_speaker, taken
from session_service.models import Caller, Connection, QualityTier, Role, Session
from session_service.observability import Telemetry, hash_id, logger
from session_service.protocol import ACTION_FIELD, CONNECT_ACTIONS, CONNECT_ROUTE, Action
from session_service.session_ids import generate_session_id

_ID_ATTEMPTS = 5


def _refused(
    exc: SessionRefused, session_id: str, now_s: int, *, capacity: int = 0, owner: str = ""
) -> NoReturn:
    """Explain a write the session's state refused (between our read and our write, the session
    ended, filled up or moved to another owner), from the state the refusal found."""
    session = exc.session
    if session is None or not session.is_live(now_s):
        raise not_found(session_id) from None
    if owner and session.speaker_user_id != owner:
        raise not_the_speaker() from None
    if capacity and session.listener_count >= capacity:
        raise full(capacity) from None
    raise SessionNotFound("the session changed while joining; try again") from None


@dataclass
class ConnectService:
    settings: ConnectSettings
    sessions: ConnectSessions
    limits: ConnectLimits
    telemetry: Telemetry
    clock: Callable[[], float]
    new_session_id: Callable[[], str] = field(default=generate_session_id)

    def connect(self, params: Mapping[str, str], caller: Caller) -> None:
        """Accept the connection or raise the ServiceError that refuses it."""
        if caller.rate_limited:
            self.telemetry.count(c.METRIC_RATE_LIMIT_EXCEEDED)
            raise RateLimitExceeded(
                "too many connection attempts from this address",
                caller.retry_after,
                {"limit": "connectionAttemptsPerMinute"},
            )
        action = params.get(ACTION_FIELD, "")
        if action == Action.CREATE_SESSION:
            self.create_session(params, caller)
        elif action == Action.JOIN_SESSION:
            self.join_session(params, caller)
        elif action == Action.REFRESH_CONNECTION:
            self.refresh_connection(params, caller)
        else:
            wrong = (
                f"action {action[:40]!r} is not a {CONNECT_ROUTE} action"
                if action
                else "the request has no action"
            )
            raise InvalidAction(
                f"{wrong}; expected one of " + ", ".join(CONNECT_ACTIONS),
                {"expected": list(CONNECT_ACTIONS)},
            )

    # --- createSession ------------------------------------------------------------------------
    def create_session(self, params: Mapping[str, str], caller: Caller) -> None:
        started = self.clock()
        if not caller.user_id:
            raise Unauthorized(
                f"{Action.CREATE_SESSION} needs a valid Cognito token in the query string"
            )
        s = self.settings
        source = check.language(
            check.required(params, "sourceLanguage", "an ISO 639-1 code such as en"),
            s.supported_languages,
            "sourceLanguage",
        )
        tier = check.quality_tier(params.get("qualityTier") or QualityTier.STANDARD.value)
        now_s = int(started)
        decision = self.limits.consume(
            Action.CREATE_SESSION,
            "user",
            caller.user_id,
            s.session_create_limit_per_hour,
            3600,
            now_s,
        )
        if not decision.allowed:
            self.telemetry.count(c.METRIC_RATE_LIMIT_EXCEEDED)
            raise RateLimitExceeded(
                f"at most {s.session_create_limit_per_hour} sessions per user per hour",
                decision.retry_after,
                {"limit": "sessionCreationsPerHour"},
            )
        total = self.limits.acquire_session_slot(s.max_active_sessions)
        if total is None:
            raise SessionFull(
                "the service has reached its limit of active sessions; try again later",
                {"maxActiveSessions": s.max_active_sessions},
            )
        try:
            session = self._write_new_session(caller, source, tier, started)
        except BaseException:
            self.limits.release_session_slot()
            raise
        self.telemetry.gauge(c.METRIC_ACTIVE_SESSIONS, total)
        self.telemetry.latency(c.METRIC_SESSION_CREATION_LATENCY, (self.clock() - started) * 1000)
        logger.info(
            "session created",
            extra={"sessionId": session.session_id, "connection": hash_id(caller.connection_id)},
        )

    def _write_new_session(self, caller: Caller, source: str, tier: str, now: float) -> Session:
        s = self.settings
        now_s, now_ms = int(now), int(now * 1000)
        for _ in range(_ID_ATTEMPTS):
            session = Session(
                session_id=self.new_session_id(),
                speaker_connection_id=caller.connection_id,
                speaker_user_id=caller.user_id,
                source_language=source,
                quality_tier=tier,
                created_at_ms=now_ms,
                is_active=True,
                listener_count=0,
                expires_at=now_s + s.session_duration_minutes * 60,
            )
            speaker = Connection(
                connection_id=caller.connection_id,
                session_id=session.session_id,
                role=Role.SPEAKER,
                source_language=source,
                connected_at_ms=now_ms,
                ttl=now_s + s.connection_ttl_minutes * 60,
                user_id=caller.user_id,
                quality_tier=tier,
            )
            try:
                created = self.sessions.create_session(session, speaker)
            except ConnectionTaken:
                raise taken() from None
            if created:
                return session
            logger.info("session id taken, drawing another")
        raise InternalError("could not allocate a unique session id; try again")

    # --- joinSession --------------------------------------------------------------------------
    def join_session(self, params: Mapping[str, str], caller: Caller) -> None:
        started = self.clock()
        s = self.settings
        session_id = check.session_id(
            check.required(params, "sessionId", "a session id such as faithful-shepherd-427")
        )
        target = check.language(
            check.required(params, "targetLanguage", "an ISO 639-1 code such as es"),
            s.supported_languages,
            "targetLanguage",
        )
        now_s = int(started)
        decision = self.limits.consume(
            Action.JOIN_SESSION,
            "ip",
            hash_id(caller.source_ip),
            s.listener_join_limit_per_minute,
            60,
            now_s,
        )
        if not decision.allowed:
            self.telemetry.count(c.METRIC_RATE_LIMIT_EXCEEDED)
            raise RateLimitExceeded(
                f"at most {s.listener_join_limit_per_minute} joins per address per minute",
                decision.retry_after,
                {"limit": "listenerJoinsPerMinute"},
            )
        session = self._live_session(session_id, now_s)
        if session.listener_count >= s.max_listeners_per_session:
            raise full(s.max_listeners_per_session)
        listener = self._listener(caller, session, target, started, is_refresh=False)
        self._add_listener(listener, session, s.max_listeners_per_session, started)
        self.telemetry.gauge(c.METRIC_TOTAL_LISTENERS, session.listener_count + 1)
        self.telemetry.latency(c.METRIC_LISTENER_JOIN_LATENCY, (self.clock() - started) * 1000)
        logger.info(
            "listener joined",
            extra={"sessionId": session_id, "connection": hash_id(caller.connection_id)},
        )

    def _live_session(self, session_id: str, now_s: int) -> Session:
        session = self.sessions.get_session(session_id, now_s)
        if session is None or not session.is_live(now_s):
            raise not_found(session_id)
        return session

    def _add_listener(
        self, listener: Connection, session: Session, capacity: int, now: float
    ) -> None:
        """Add the listener to a session that is live, has room, and whose speaker was heard
        within the configured staleness (``speaker_staleness_seconds``): a session whose
        speaker's socket died without a `$disconnect` is not found, as an ended one."""
        now_s = int(now)
        heard_after_ms = int(now * 1000) - self.settings.speaker_staleness_seconds * 1000
        try:
            self.sessions.add_listener(
                listener, capacity, now_s, session.speaker_connection_id, heard_after_ms
            )
        except ConnectionTaken:
            raise taken() from None
        except SessionRefused as exc:
            _refused(exc, listener.session_id, now_s, capacity=capacity)

    def _listener(
        self, caller: Caller, session: Session, target: str, now: float, *, is_refresh: bool
    ) -> Connection:
        return Connection(
            connection_id=caller.connection_id,
            session_id=session.session_id,
            role=Role.LISTENER,
            source_language=session.source_language,
            connected_at_ms=int(now * 1000),
            ttl=int(now) + self.settings.connection_ttl_minutes * 60,
            target_language=target,
            is_refresh=is_refresh,
            welcome_sent=is_refresh,
        )

    # --- refreshConnection --------------------------------------------------------------------
    def refresh_connection(self, params: Mapping[str, str], caller: Caller) -> None:
        now = self.clock()
        s = self.settings
        session_id = check.session_id(
            check.required(params, "sessionId", "a session id such as faithful-shepherd-427")
        )
        role = check.role(check.required(params, "role", "speaker or listener"))
        target = None
        if role is Role.LISTENER:
            target = check.language(
                check.required(params, "targetLanguage", "an ISO 639-1 code such as es"),
                s.supported_languages,
                "targetLanguage",
            )
        elif not caller.user_id:
            raise Unauthorized("a speaker refresh needs a valid Cognito token in the query string")
        now_s = int(now)
        session = self._live_session(session_id, now_s)
        if role is Role.SPEAKER:
            if session.speaker_user_id != caller.user_id:
                raise not_the_speaker()
            speaker = Connection(
                connection_id=caller.connection_id,
                session_id=session_id,
                role=Role.SPEAKER,
                source_language=session.source_language,
                connected_at_ms=int(now * 1000),
                ttl=now_s + s.connection_ttl_minutes * 60,
                user_id=caller.user_id,
                quality_tier=session.quality_tier,
                is_refresh=True,
                welcome_sent=True,
            )
            try:
                self.sessions.move_speaker(speaker, now_s + s.session_duration_minutes * 60, now_s)
            except ConnectionTaken:
                raise taken() from None
            except SessionRefused as exc:
                _refused(exc, session_id, now_s, owner=caller.user_id)
        else:
            assert target is not None
            # Both sockets of a refreshing listener count until the old one closes, so a full
            # session admits refreshes up to twice its cap (every listener refreshing at once).
            listener = self._listener(caller, session, target, now, is_refresh=True)
            self._add_listener(listener, session, 2 * s.max_listeners_per_session, now)
        logger.info(
            "connection refreshed",
            extra={
                "sessionId": session_id,
                "role": role.value,
                "connection": hash_id(caller.connection_id),
            },
        )
