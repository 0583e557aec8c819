"""A property of the janitor, through the real handlers against moto (a fresh DynamoDB each
example): after any sequence of joins, leaves, refreshes, lost events, heartbeats, time and
janitor runs, the tables agree with a model the machine keeps of what the clients did.

The model (:class:`Model`) knows which sockets are open, which connections' ``$disconnect``
was lost, and when each connection was last heard (its opening, then each heartbeat the
per-connection limit accepts). It never asks the code under test what to expect.

Invariants, after every step:

- **Listener counts.** A session's ``listenerCount`` equals the number of listener items stored
  for it (every join, leave and removal changes both in one transaction, so this holds at every
  step), and equals the model's listeners of the session that still have an item: the open ones
  plus those whose ``$disconnect`` was lost and whom no janitor run has yet found silent past
  API Gateway's idle limit. The count equals the *open* listeners only up to that window: a lost
  listener is counted until the first janitor run after its 10 idle minutes, which is the only
  guarantee the service gives (it cannot tell a lost socket from a quiet one before then). An
  inactive session counts 0 and has no listener items.
- **Silent speakers.** The janitor runs every ``janitorRateMinutes`` (1); here a run is a step, so
  "silent for more than the staleness plus one period, with runs in that window" becomes exact:
  after a run at T, every session whose current speaker was last heard before T - staleness is
  inactive, and no session whose speaker was heard since is ended by a run.
- **Endings.** Every listener whose socket was open when its session ended received exactly one
  ``sessionEnded``, with the end's reason; no other listener received one.
- **The active-sessions figure** equals the number of active sessions.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from moto import mock_aws

from session_service.constants import API_GATEWAY_IDLE_TIMEOUT_SECONDS
from session_service.data.schema import create_tables

from .conftest import ENV, App, Clock, environment
from .servers import JwksServer, ManagementApiServer

STALENESS_MS = 105_000  # SPEAKER_STALENESS_SECONDS of the test environment
IDLE_MS = API_GATEWAY_IDLE_TIMEOUT_SECONDS * 1000
MIN_HEARTBEAT_MS = 60_000 // 10  # HEARTBEAT_LIMIT_PER_MINUTE of the test environment
CAPACITY = 5  # MAX_LISTENERS_PER_SESSION
PERIOD_S = 60  # janitorRateMinutes of every environment
MAX_SESSIONS = 3  # below MAX_ACTIVE_SESSIONS (10), so creation is never refused


@dataclass
class Conn:
    cid: str
    session: str  # the model's session key
    heard_ms: int  # opening or last accepted heartbeat
    last_heartbeat_ms: int | None = None
    open: bool = True  # the socket is open (it heartbeats and receives)
    has_item: bool = True  # the model's belief that its item is stored


@dataclass
class SessionModel:
    key: str
    session_id: str
    user_id: str
    speaker: Conn
    old_speakers: list[Conn] = field(default_factory=list)  # refreshed away, $disconnect lost
    listeners: list[Conn] = field(default_factory=list)
    active: bool = True
    reason: str | None = None
    told: set[str] = field(default_factory=set)  # listeners open at the end


class JanitorMachine(RuleBasedStateMachine):
    """Clients, API Gateway's lost events, the clock and the janitor's schedule as rules."""

    # set by the test before the machine is run
    clients: dict[str, Any]
    management: ManagementApiServer
    jwks: JwksServer

    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self._mock = mock_aws()
        self._mock.start()
        self.management.clear()
        self.management.gone.clear()
        dynamodb = self.clients["dynamodb"]
        create_tables(dynamodb, ENV)
        self.app = App(
            dynamodb=dynamodb,
            management=self.management,
            clock=Clock(),
            env=environment(self.management.url, self.jwks.url),
            counter=self.clients["counter"],
            management_client=self.clients["management"],
        )
        self.app.clock.now = 1_800_000_000.0  # the same for every example: reproducible
        self.model: dict[str, SessionModel] = {}
        self.ids = itertools.count(1)

    def teardown(self) -> None:
        self._mock.stop()

    # --- helpers -------------------------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.app.clock() * 1000)

    def close(self, conn: Conn) -> None:
        """The socket is gone: API Gateway answers 410 to a post, the client sends nothing."""
        conn.open = False
        self.app.management.gone.add(conn.cid)

    def end(self, s: SessionModel, reason: str) -> None:
        s.active, s.reason = False, reason
        s.told = {x.cid for x in s.listeners if x.open}
        for x in s.listeners:
            x.has_item = False
        s.speaker.has_item = False

    def after_end(self, s: SessionModel) -> None:
        """Told listeners close their sockets, and their `$disconnect`s arrive."""
        for x in s.listeners:
            if x.open:
                self.close(x)
                assert self.app.disconnect(x.cid) == {"statusCode": 200}

    def active(self) -> list[SessionModel]:
        return [s for s in self.model.values() if s.active]

    # --- rules ---------------------------------------------------------------------------
    @initialize(target=sessions)
    def first_session(self) -> str:
        return self.create_session()

    @precondition(lambda self: len(self.active()) < MAX_SESSIONS and len(self.model) < 8)
    @rule(target=sessions)
    def create_session(self) -> str:
        n = next(self.ids)
        cid, user = f"spk-{n}", f"user-{n}"
        session_id = self.app.create(cid, user_id=user)
        key = f"s{n}"
        self.model[key] = SessionModel(key, session_id, user, Conn(cid, key, self.now_ms()))
        return key

    @rule(key=sessions)
    def join(self, key: str) -> None:
        s = self.model[key]
        n = next(self.ids)
        cid = f"lis-{n}"
        stored = sum(1 for x in s.listeners if x.has_item)
        expected = (
            s.active and stored < CAPACITY and s.speaker.heard_ms > self.now_ms() - STALENESS_MS
        )
        response = self.app.join(cid, s.session_id, ip=f"10.0.{n // 250}.{n % 250 + 1}")
        assert (response == {"statusCode": 200}) is expected, (response, expected)
        if expected:
            s.listeners.append(Conn(cid, key, self.now_ms()))

    def _open_listener(self, key: str, index: int) -> Conn | None:
        s = self.model[key]
        candidates = [x for x in s.listeners if x.open]
        return candidates[index % len(candidates)] if candidates else None

    @rule(key=sessions, index=st.integers(0, CAPACITY), lost=st.booleans())
    def listener_goes(self, key: str, index: int, lost: bool) -> None:
        """A listener's socket closes; its `$disconnect` arrives, or is lost."""
        x = self._open_listener(key, index)
        if x is None:
            return
        self.close(x)
        if not lost:
            assert self.app.disconnect(x.cid) == {"statusCode": 200}
            x.has_item = False

    @rule(key=sessions, index=st.integers(-1, CAPACITY))
    def one_heartbeats(self, key: str, index: int) -> None:
        """The speaker (index -1) or a listener heartbeats."""
        conn = self.model[key].speaker if index < 0 else self._open_listener(key, index)
        if conn is not None and conn.open:
            self.heartbeat(conn)

    def heartbeat(self, conn: Conn) -> None:
        now = self.now_ms()
        accepted = conn.has_item and (
            conn.last_heartbeat_ms is None or conn.last_heartbeat_ms <= now - MIN_HEARTBEAT_MS
        )
        before = len(self.app.management.messages(conn.cid))
        assert self.app.heartbeat(conn.cid) == {"statusCode": 200}
        answers = [m["type"] for m in self.app.management.messages(conn.cid)[before:]]
        # refused (too soon, or no item) is an error message; the socket is open either way
        assert ("heartbeatAck" in answers) is accepted, (answers, conn)
        if accepted:
            conn.heard_ms = conn.last_heartbeat_ms = now

    @rule()
    def everyone_heartbeats(self) -> None:
        """The clients' 30-second cadence, all at once."""
        for s in self.model.values():
            for conn in [s.speaker, *s.listeners]:
                if conn.open:
                    self.heartbeat(conn)

    @rule(key=sessions, old_disconnect_lost=st.booleans())
    def speaker_refreshes(self, key: str, old_disconnect_lost: bool) -> None:
        """A new speaker socket (also a speaker reconnecting after its socket died), then the
        old socket closes, its `$disconnect` delivered or lost."""
        s = self.model[key]
        cid = f"spk-{next(self.ids)}"
        params = {"action": "refreshConnection", "sessionId": s.session_id, "role": "speaker"}
        response = self.app.connect(cid, params, user_id=s.user_id)
        assert (response == {"statusCode": 200}) is s.active, (response, s.active)
        if not s.active:
            return
        old, s.speaker = s.speaker, Conn(cid, key, self.now_ms())
        if old.open:
            self.close(old)
        if old_disconnect_lost or not old.has_item:
            if old.has_item:
                s.old_speakers.append(old)
        else:
            assert self.app.disconnect(old.cid) == {"statusCode": 200}
            old.has_item = False

    @rule(key=sessions, lost=st.booleans())
    def speaker_goes(self, key: str, lost: bool) -> None:
        """The speaker's socket closes; its `$disconnect` arrives (and ends the session), or is
        lost."""
        s = self.model[key]
        if not s.speaker.open:
            return
        self.close(s.speaker)
        if lost:
            return
        assert self.app.disconnect(s.speaker.cid) == {"statusCode": 200}
        if s.speaker.has_item:
            self.end(s, "speakerDisconnected")
            self.after_end(s)

    @rule(seconds=st.integers(1, 120), heartbeats=st.booleans())
    def time_passes(self, seconds: int, heartbeats: bool) -> None:
        """Time passes, the scheduled janitor running at each whole period on the way; with
        ``heartbeats`` every open socket heartbeats at its end (the clients' cadence)."""
        end = self.app.clock() + seconds
        while (boundary := (self.app.clock() // PERIOD_S + 1) * PERIOD_S) <= end:
            self.app.clock.now = boundary
            self.idle_limit()
            self.janitor_runs()
        self.app.clock.now = end
        self.idle_limit()
        if heartbeats:
            self.everyone_heartbeats()

    def idle_limit(self) -> None:
        """API Gateway closes a socket silent past its idle limit; assume the event lost."""
        now = self.now_ms()
        for s in self.model.values():
            for conn in [s.speaker, *s.listeners]:
                if conn.open and now - conn.heard_ms > IDLE_MS:
                    self.close(conn)

    @rule()
    def janitor_runs(self) -> None:
        """A run at any moment (a late or an extra invocation as well as the scheduled one)."""
        now = self.now_ms()
        self.app.janitor()
        for s in self.model.values():
            s.old_speakers = [o for o in s.old_speakers if o.heard_ms >= now - STALENESS_MS]
            for x in s.listeners:
                if x.has_item and x.heard_ms < now - IDLE_MS:
                    x.has_item = False
        for s in self.active():
            if s.speaker.heard_ms < now - STALENESS_MS:
                self.end(s, "speakerTimeout")
                if s.speaker.open:
                    self.close(s.speaker)  # the janitor closes it
                self.after_end(s)

    # --- invariants ----------------------------------------------------------------------
    def listener_items(self) -> dict[str, int]:
        items: dict[str, int] = {}
        for page in self.app.dynamodb.get_paginator("scan").paginate(
            TableName=self.app.env["CONNECTIONS_TABLE"]
        ):
            for item in page["Items"]:
                if item["role"]["S"] == "listener":
                    sid = item["sessionId"]["S"]
                    items[sid] = items.get(sid, 0) + 1
        return items

    @invariant()
    def tables_agree_with_the_model(self) -> None:
        items = self.listener_items()
        for s in self.model.values():
            stored = self.app.session(s.session_id)
            assert stored is not None
            count = int(stored["listenerCount"])
            expected = sum(1 for x in s.listeners if x.has_item) if s.active else 0
            assert count == items.get(s.session_id, 0), (s.key, count, items)
            assert count == expected, (s.key, count, expected)
            assert stored["isActive"] is s.active, (s.key, stored["isActive"], s.active)
            for x in s.listeners:
                ended = [
                    m["reason"]
                    for m in self.app.management.messages(x.cid)
                    if m["type"] == "sessionEnded"
                ]
                assert ended == ([s.reason] if x.cid in s.told else []), (x.cid, ended, s.reason)

    @invariant()
    def no_session_outlives_its_speaker_by_more_than_a_period(self) -> None:
        """The issue's property, from the clients' side alone: the janitor runs every period,
        so a session whose speaker has been unheard for longer than the staleness plus one
        period has been ended."""
        limit = self.now_ms() - STALENESS_MS - PERIOD_S * 1000
        for s in self.model.values():
            if s.speaker.heard_ms < limit:
                stored = self.app.session(s.session_id)
                assert stored is not None, s.key
                assert stored["isActive"] is False, s.key

    @invariant()
    def the_active_sessions_figure_is_right(self) -> None:
        assert self.app.active_sessions() == len(self.active())


def test_the_janitor_keeps_counts_and_ends_lost_sessions(
    request: pytest.FixtureRequest, management: ManagementApiServer, jwks_server: JwksServer
) -> None:
    JanitorMachine.clients = request.getfixturevalue("_clients")
    JanitorMachine.management = management
    JanitorMachine.jwks = jwks_server
    started = time.monotonic()
    run_state_machine_as_test(
        JanitorMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print(f"janitor property: {time.monotonic() - started:.1f} s")
