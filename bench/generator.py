"""The load generator: speakers create sessions, listeners join, everyone heartbeats, a share of
speakers refresh, then everyone leaves.

It runs against any endpoint (the local gateway or a deployed stage) given a URL and a token
provider, in phases that every session passes together, so the requests the server makes in a
phase can be attributed to that phase's operation (:class:`PhaseObserver`). Every wait is bounded
(``LoadPlan.op_timeout_s``) and the whole level is bounded (``LoadPlan.deadline_s``): it stops by
itself, closing whatever it opened.

What each operation's latency is, measured on the client:

- ``create``: handshake start -> ``sessionCreated`` (the welcome rides on the first heartbeat);
- ``join``: handshake start -> ``sessionJoined``;
- ``heartbeat``: ``{"action":"heartbeat"}`` sent -> ``heartbeatAck`` (the first one included);
- ``refresh``: new socket's handshake start -> ``connectionRefreshComplete`` (the old socket is
  then closed, as the protocol says);
- ``disconnect``: the client's close handshake (``$disconnect`` runs after the socket is closed,
  so its work shows in ``sessionEnded``);
- ``sessionEnded``: speaker's close started -> each remaining listener receives ``sessionEnded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench import protocol
from bench.stats import FAN_OUT, HEARTBEAT, RATE_LIMIT_PROBE, Recorder

TokenProvider = Callable[[int], str]
"""speaker index -> a Cognito ID token for the user that speaker acts as (may block)."""

DEFAULT_LANGUAGES = ("es", "fr", "de", "ja", "pt", "zh")
# A speaker heartbeats this often while its listeners join (docs/protocol.md: every 30 s).
KEEPALIVE_S = 30.0


@dataclass(frozen=True)
class LoadPlan:
    """One load level: its shape and its bounds."""

    sessions: int
    listeners_per_session: int
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    source_language: str = "en"
    quality_tier: str = protocol.STANDARD_TIER
    heartbeats: int = 2  # heartbeats per connection after the first one sent at connect
    heartbeat_interval_s: float = 1.0
    # the first extra heartbeat of each connection comes at a random offset within this many
    # seconds, so the offered heartbeat rate is about connections / spread (None: the interval)
    heartbeat_spread_s: float | None = None
    refresh_share: float = 0.2  # share of speakers that refresh their connection
    early_leave_share: float = 0.25  # share of listeners that leave before their speaker
    concurrency: int = 200  # handshakes in flight at once
    op_timeout_s: float = 20.0
    deadline_s: float = 300.0
    rate_limit_probe: int = 0  # joins attempted after the limit is reached, expecting 429

    def __post_init__(self) -> None:
        if self.sessions < 1 or self.listeners_per_session < 0:
            raise ValueError("a load level needs at least 1 session and 0 or more listeners")
        if not self.languages:
            raise ValueError("a load level needs at least one target language")
        for share in (self.refresh_share, self.early_leave_share):
            if not 0 <= share <= 1:
                raise ValueError(f"shares are within 0..1, got {share}")

    @property
    def label(self) -> str:
        return f"{self.sessions}x{self.listeners_per_session}"

    @property
    def connections(self) -> int:
        return self.sessions * (1 + self.listeners_per_session)

    @property
    def refreshing_speakers(self) -> int:
        return round(self.sessions * self.refresh_share)

    def expected_operations(self) -> int:
        """Operations a complete run performs (for the progress bar)."""
        listeners = self.sessions * self.listeners_per_session
        heartbeats = self.connections * (1 + self.heartbeats)
        disconnects = self.connections + self.refreshing_speakers
        fan_out = listeners - self._early_leavers_total()
        return (
            self.connections
            + heartbeats
            + self.refreshing_speakers
            + disconnects
            + fan_out
            + self.rate_limit_probe
        )

    def early_leavers(self) -> int:
        """Listeners per session that leave before their speaker."""
        return round(self.listeners_per_session * self.early_leave_share)

    def _early_leavers_total(self) -> int:
        return self.early_leavers() * self.sessions


class PhaseObserver(Protocol):
    """Told when a phase starts and ends (e.g. to count the server's requests per phase)."""

    async def begin(self, phase: str) -> None: ...

    async def end(self, phase: str, operations: int) -> None: ...


class _NoObserver:
    async def begin(self, phase: str) -> None:
        return None

    async def end(self, phase: str, operations: int) -> None:
        return None


class ServerError(Exception):
    """The server answered with an ``error`` message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def classify(exc: BaseException) -> str:
    """The error code an exception is reported under."""
    if isinstance(exc, ServerError):
        return exc.code
    if isinstance(exc, InvalidStatus):
        return protocol.code_for_status(exc.response.status_code)
    if isinstance(exc, TimeoutError):
        return "TIMEOUT"
    if isinstance(exc, ConnectionClosed):
        return "CONNECTION_CLOSED"
    if isinstance(exc, InvalidHandshake):
        cause = exc.__cause__ or exc.__context__
        detail = f"{type(exc).__name__}:{type(cause).__name__}" if cause else type(exc).__name__
        return f"HANDSHAKE_FAILED({detail})"
    if isinstance(exc, OSError):
        return "CONNECT_FAILED"
    return type(exc).__name__


class Conn:
    """One client socket and the messages it received but nobody asked for yet."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._stash: list[dict[str, Any]] = []
        self.last_heartbeat = 0.0  # perf_counter of the last heartbeat sent

    async def send(self, message: dict[str, str]) -> None:
        await self.ws.send(json.dumps(message))

    async def expect(self, wanted: str, timeout: float) -> dict[str, Any]:
        """The next message of type ``wanted``; raises :class:`ServerError` on an ``error``."""
        for index, message in enumerate(self._stash):
            if message.get("type") in (wanted, protocol.ERROR):
                return self._checked(self._stash.pop(index))
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message.get("type") in (wanted, protocol.ERROR):
                    return self._checked(message)
                self._stash.append(message)

    @staticmethod
    def _checked(message: dict[str, Any]) -> dict[str, Any]:
        if message.get("type") == protocol.ERROR:
            raise ServerError(str(message.get("code", "UNKNOWN_ERROR")))
        return message

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class _Speaker:
    index: int
    token: str
    conn: Conn | None = None
    session_id: str | None = None


@dataclass
class _Listener:
    speaker: _Speaker
    language: str
    early: bool
    conn: Conn | None = None


@dataclass
class LevelResult:
    """What one load level did and observed."""

    plan: LoadPlan
    recorder: Recorder
    elapsed_s: float
    deadline_hit: bool
    phases_s: dict[str, float] = field(default_factory=dict)
    drained_s: dict[str, float] = field(default_factory=dict)  # waits before phases (local)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.plan.label,
            "sessions": self.plan.sessions,
            "listenersPerSession": self.plan.listeners_per_session,
            "connections": self.plan.connections,
            "elapsedSeconds": round(self.elapsed_s, 2),
            "deadlineHit": self.deadline_hit,
            "connectionsPerSecond": self.recorder.connections_per_second(),
            "phasesSeconds": {k: round(v, 3) for k, v in self.phases_s.items()},
            "drainedSeconds": self.drained_s,
            "operations": self.recorder.summary(),
        }


class LoadGenerator:
    """Runs one :class:`LoadPlan` against ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        plan: LoadPlan,
        tokens: TokenProvider,
        *,
        observer: PhaseObserver | None = None,
        on_progress: Callable[[int], None] | None = None,
        seed: int = 7,
    ) -> None:
        self.endpoint = endpoint
        self.plan = plan
        self.tokens = tokens
        self.observer = observer or _NoObserver()
        self.on_progress = on_progress or (lambda _n: None)
        self.recorder = Recorder()
        self._random = random.Random(seed)
        self._open: set[Conn] = set()
        self._slots = asyncio.Semaphore(plan.concurrency)
        self._phases: dict[str, float] = {}
        host = urlsplit(endpoint).hostname or ""
        # Only a deployed endpoint may go through a proxy; loopback never does.
        # websockets' proxy argument: None for loopback, True to use the environment's proxy.
        self._proxy: Literal[True] | None = (
            None if host in ("127.0.0.1", "localhost", "::1") else True
        )

    # --- the run ------------------------------------------------------------------------
    async def run(self) -> LevelResult:
        started = time.perf_counter()
        deadline_hit = False
        try:
            async with asyncio.timeout(self.plan.deadline_s):
                await self._run_phases()
        except TimeoutError:
            deadline_hit = True
        finally:
            await self._close_all()
        return LevelResult(
            plan=self.plan,
            recorder=self.recorder,
            elapsed_s=time.perf_counter() - started,
            deadline_hit=deadline_hit,
            phases_s=dict(self._phases),
        )

    async def _run_phases(self) -> None:
        tokens = await asyncio.gather(
            *(asyncio.to_thread(self.tokens, i) for i in range(self.plan.sessions))
        )
        speakers = [_Speaker(index=i, token=t) for i, t in enumerate(tokens)]
        await self._phase("create", len(speakers), self._create_all(speakers))
        live = [s for s in speakers if s.conn is not None]
        listeners = self._listeners_for(live)
        async with self._speakers_kept_alive(live):
            await self._phase("join", len(listeners), self._gather(self._join, listeners))
        joined = [x for x in listeners if x.conn is not None]
        conns = [s.conn for s in live if s.conn] + [x.conn for x in joined if x.conn]
        beats = self._heartbeats_from_phase_start()
        await self._phase(HEARTBEAT, len(conns) * self.plan.heartbeats, self._gather(beats, conns))
        if self.plan.rate_limit_probe and live:
            await self._phase(RATE_LIMIT_PROBE, self.plan.rate_limit_probe, self._probe(live[0]))
        refreshing = live[: self.plan.refreshing_speakers]
        await self._phase("refresh", len(refreshing), self._gather(self._refresh, refreshing))
        early = [x for x in joined if x.early]
        await self._phase("listenerLeave", len(early), self._gather(self._leave_early, early))
        await self._phase("speakerLeave", len(live), self._speakers_leave(live, joined))

    @contextlib.asynccontextmanager
    async def _speakers_kept_alive(self, speakers: list[_Speaker]) -> AsyncIterator[None]:
        """Speakers heartbeat every ``KEEPALIVE_S`` while the listeners join.

        A speaker unheard for the staleness (``limits.speakerStalenessSeconds``, 45 s locally)
        is taken as lost: joiners are refused and the janitor ends the session. The join phase
        of a large level outlasts that, and nothing else reads a speaker's socket meanwhile.
        Its acks' posts are counted in the join phase (counting.py), one per speaker and 30 s.
        """
        stop = asyncio.Event()
        tasks = [asyncio.create_task(self._keep_alive(s.conn, stop)) for s in speakers if s.conn]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_alive(self, conn: Conn, stop: asyncio.Event) -> None:
        while True:
            wait = conn.last_heartbeat + KEEPALIVE_S - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, wait))
            if stop.is_set():
                return
            conn.last_heartbeat = time.perf_counter()
            await conn.send(protocol.HEARTBEAT)
            await conn.expect(protocol.HEARTBEAT_ACK, self.plan.op_timeout_s)
            conn.last_heartbeat = time.perf_counter()

    async def _phase(self, name: str, operations: int, work: Awaitable[object]) -> None:
        await self.observer.begin(name)
        started = time.perf_counter()
        await work
        self._phases[name] = time.perf_counter() - started
        await self.observer.end(name, operations)

    async def _gather(self, fn: Callable[[Any], Awaitable[None]], items: list[Any]) -> None:
        await asyncio.gather(*(fn(item) for item in items))

    def _listeners_for(self, speakers: list[_Speaker]) -> list[_Listener]:
        languages = self.plan.languages
        early = self.plan.early_leavers()
        return [
            _Listener(speaker=s, language=languages[j % len(languages)], early=j < early)
            for s in speakers
            for j in range(self.plan.listeners_per_session)
        ]

    # --- operations ---------------------------------------------------------------------
    async def _open_socket(self, url: str) -> tuple[Conn, float]:
        """Opens a socket (bounded by the concurrency slots); returns it and its start time."""
        async with self._slots:
            started = time.perf_counter()
            ws = await connect(
                url,
                open_timeout=self.plan.op_timeout_s,
                ping_interval=None,
                compression=None,
                proxy=self._proxy,
                close_timeout=self.plan.op_timeout_s,
            )
            self.recorder.connection_opened(started, time.perf_counter())
        conn = Conn(ws)
        self._open.add(conn)
        return conn, started

    async def _create_all(self, speakers: list[_Speaker]) -> None:
        await self._gather(self._create, speakers)

    async def _create(self, speaker: _Speaker) -> None:
        plan = self.plan
        url = protocol.create_url(
            self.endpoint, speaker.token, plan.source_language, plan.quality_tier
        )
        conn = await self._welcomed("create", url, protocol.SESSION_CREATED)
        if conn is not None:
            speaker.conn, message = conn
            speaker.session_id = str(message["sessionId"])

    async def _join(self, listener: _Listener) -> None:
        assert listener.speaker.session_id is not None
        url = protocol.join_url(self.endpoint, listener.speaker.session_id, listener.language)
        opened = await self._welcomed("join", url, protocol.SESSION_JOINED)
        if opened is not None:
            listener.conn = opened[0]

    async def _welcomed(
        self, op: str, url: str, welcome: str
    ) -> tuple[Conn, dict[str, Any]] | None:
        """Connect, send the first heartbeat, wait for the welcome and the ack."""
        stats = self.recorder.op(op)
        conn: Conn | None = None
        try:
            conn, started = await self._open_socket(url)
            sent = conn.last_heartbeat = time.perf_counter()
            await conn.send(protocol.HEARTBEAT)
            message = await conn.expect(welcome, self.plan.op_timeout_s)
            stats.ok(time.perf_counter() - started)
        except Exception as exc:  # every failure is a result to report, not a crash
            stats.error(classify(exc))
            self.on_progress(1 + (1 + self.plan.heartbeats))
            if conn is not None:
                await self._close(conn)
            return None
        self.on_progress(1)
        await self._ack(conn, sent)
        return conn, message

    async def _ack(self, conn: Conn, sent: float) -> bool:
        stats = self.recorder.op(HEARTBEAT)
        try:
            await conn.expect(protocol.HEARTBEAT_ACK, self.plan.op_timeout_s)
        except Exception as exc:
            stats.error(classify(exc))
            return False
        else:
            # The server recorded this heartbeat before acking it: spacing the next one from
            # the ack keeps the server-side interval at least heartbeat_interval_s.
            conn.last_heartbeat = time.perf_counter()
            stats.ok(conn.last_heartbeat - sent)
            return True
        finally:
            self.on_progress(1)

    def _heartbeats_from_phase_start(self) -> Callable[[Conn], Awaitable[None]]:
        """``plan.heartbeats`` more heartbeats per connection, the first at a random offset into
        the spread from the phase's start (each at least ``heartbeat_interval_s`` after the
        previous one on its connection: the server enforces a minimum interval).

        Offsets are taken from the phase's start, not from each connection's last heartbeat:
        a large level's join phase outlasts the spread, so offsets from the last heartbeat
        would put every early joiner's beat in the phase's first instant, a burst that real
        clients (each beating every 30 s from its own connect) never make. From the phase's
        start the offered rate is connections / spread per second, as the notes say. A
        connection that kept beating up to the phase (the speakers) beats no later than
        ``KEEPALIVE_S`` after its last beat, as a real client does."""

        phase_start: list[float] = []  # when the first connection's beats begin

        async def beats(conn: Conn) -> None:
            if not phase_start:
                phase_start.append(time.perf_counter())
            interval = self.plan.heartbeat_interval_s
            spread = self.plan.heartbeat_spread_s or interval
            offset = phase_start[0] + self._random.uniform(0, spread)
            kept_alive = conn.last_heartbeat + KEEPALIVE_S
            if kept_alive > phase_start[0]:
                # a connection that has kept its cadence (a speaker through the join phase)
                # keeps it: a speaker silent past the staleness would have its session ended
                offset = min(offset, kept_alive)
            for n in range(self.plan.heartbeats):
                due = conn.last_heartbeat + interval
                wait = (max(due, offset) if n == 0 else due) - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                sent = conn.last_heartbeat = time.perf_counter()
                try:
                    await conn.send(protocol.HEARTBEAT)
                except Exception as exc:
                    self.recorder.op(HEARTBEAT).error(classify(exc))
                    self.on_progress(1)
                    continue
                await self._ack(conn, sent)

        return beats

    async def _probe(self, speaker: _Speaker) -> None:
        """Joins one after the other until the server refuses one with RATE_LIMIT_EXCEEDED."""
        stats = self.recorder.op(RATE_LIMIT_PROBE)
        assert speaker.session_id is not None
        for attempt in range(self.plan.rate_limit_probe):
            url = protocol.join_url(self.endpoint, speaker.session_id, self.plan.languages[0])
            try:
                conn, started = await self._open_socket(url)
            except Exception as exc:
                stats.error(classify(exc))
                if classify(exc) == protocol.RATE_LIMITED:
                    self.on_progress(self.plan.rate_limit_probe - attempt)
                    return
            else:
                stats.ok(time.perf_counter() - started)
                await self._close(conn)
            self.on_progress(1)

    async def _refresh(self, speaker: _Speaker) -> None:
        stats = self.recorder.op("refresh")
        assert speaker.session_id is not None
        assert speaker.conn is not None
        url = protocol.refresh_url(
            self.endpoint, speaker.session_id, protocol.SPEAKER, token=speaker.token
        )
        conn: Conn | None = None
        try:
            conn, started = await self._open_socket(url)
            await conn.send(protocol.REFRESH)
            await conn.expect(protocol.REFRESH_COMPLETE, self.plan.op_timeout_s)
            stats.ok(time.perf_counter() - started)
        except Exception as exc:
            stats.error(classify(exc))
            if conn is not None:
                await self._close(conn)
            self.on_progress(2)
            return
        self.on_progress(1)
        old, speaker.conn = speaker.conn, conn
        await self._disconnect(old)

    async def _leave_early(self, listener: _Listener) -> None:
        if listener.conn is not None:
            await self._disconnect(listener.conn)
            listener.conn = None

    async def _speakers_leave(self, speakers: list[_Speaker], listeners: list[_Listener]) -> None:
        staying: dict[int, list[_Listener]] = {}
        for listener in listeners:
            if listener.conn is not None:
                staying.setdefault(listener.speaker.index, []).append(listener)
        await asyncio.gather(*(self._end_session(s, staying.get(s.index, [])) for s in speakers))

    async def _end_session(self, speaker: _Speaker, listeners: list[_Listener]) -> None:
        """The speaker leaves; each remaining listener must get ``sessionEnded``, then leaves."""
        assert speaker.conn is not None
        waits = [
            asyncio.ensure_future(x.conn.expect(protocol.SESSION_ENDED, self.plan.op_timeout_s))
            for x in listeners
            if x.conn is not None
        ]
        closed_at = time.perf_counter()
        await self._disconnect(speaker.conn)
        speaker.conn = None
        stats = self.recorder.op(FAN_OUT)
        for wait in asyncio.as_completed(waits):
            try:
                await wait
            except Exception as exc:
                stats.error(classify(exc))
            else:
                stats.ok(time.perf_counter() - closed_at)
            self.on_progress(1)
        await self._gather(self._leave_early, listeners)

    async def _disconnect(self, conn: Conn) -> None:
        stats = self.recorder.op("disconnect")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.plan.op_timeout_s):
                await conn.close()
        except Exception as exc:
            stats.error(classify(exc))
        else:
            stats.ok(time.perf_counter() - started)
        finally:
            self._open.discard(conn)
            self.on_progress(1)

    async def _close(self, conn: Conn) -> None:
        self._open.discard(conn)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.plan.op_timeout_s):
                await conn.close()

    async def _close_all(self) -> None:
        """Closes whatever is still open (after a deadline or an error), bounded in time."""
        if self._open:
            await asyncio.gather(*(self._close(c) for c in list(self._open)))


async def run_level(
    endpoint: str,
    plan: LoadPlan,
    tokens: TokenProvider,
    *,
    observer: PhaseObserver | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LevelResult:
    """Runs one load level against ``endpoint`` and returns what it observed."""
    generator = LoadGenerator(endpoint, plan, tokens, observer=observer, on_progress=on_progress)
    return await generator.run()
