"""A minimal in-memory server speaking protocol v1, to test the load generator on its own.

It is not the service: no tables, no authorizer; just enough behaviour (welcome on the first
heartbeat, acks, refresh, sessionEnded fan-out, a per-run join limit answered with 429) for the
generator's bookkeeping to be checked against known answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response


@dataclass
class FakeState:
    join_limit: int = 10_000
    joins: int = 0
    sessions: dict[str, set[ServerConnection]] = field(default_factory=dict)
    speakers: dict[ServerConnection, str] = field(default_factory=dict)
    params: dict[int, dict[str, str]] = field(default_factory=dict)
    heartbeats: int = 0
    beat_times: list[float] = field(default_factory=list)  # time.perf_counter() of each
    speaker_beats: dict[int, list[float]] = field(default_factory=dict)  # id(ws) -> times
    counter: itertools.count = field(default_factory=lambda: itertools.count(100))


def _now() -> int:
    return int(time.time() * 1000)


class FakeServer:
    def __init__(self, join_limit: int = 10_000) -> None:
        self.state = FakeState(join_limit=join_limit)
        self._server = None
        self.endpoint = ""

    async def __aenter__(self) -> FakeServer:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.endpoint = f"ws://127.0.0.1:{port}/prod"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        action = query.get("action")
        state = self.state
        if action == "createSession" and not query.get("token"):
            return ws.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        if action == "joinSession":
            if query.get("sessionId") not in state.sessions:
                return ws.respond(HTTPStatus.NOT_FOUND, "not found\n")
            state.joins += 1
            if state.joins > state.join_limit:
                return ws.respond(HTTPStatus.TOO_MANY_REQUESTS, "rate limited\n")
        if action == "createSession":
            query["sessionId"] = f"faithful-shepherd-{next(state.counter)}"
            state.sessions[query["sessionId"]] = set()
        state.params[id(ws)] = query
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        query = self.state.params.pop(id(ws))
        session_id = query["sessionId"]
        welcomed = False
        if query["action"] == "createSession":
            self.state.speakers[ws] = session_id
        elif query.get("role") == "speaker":
            self.state.speakers[ws] = session_id
            welcomed = True
        else:
            self.state.sessions[session_id].add(ws)
        try:
            async for raw in ws:
                action = json.loads(raw).get("action")
                if action == "heartbeat":
                    self.state.heartbeats += 1
                    self.state.beat_times.append(time.perf_counter())
                    if ws in self.state.speakers:
                        beats = self.state.speaker_beats.setdefault(id(ws), [])
                        beats.append(time.perf_counter())
                    if not welcomed:
                        welcomed = True
                        created = query["action"] == "createSession"
                        kind = "sessionCreated" if created else "sessionJoined"
                        await ws.send(json.dumps({"type": kind, "sessionId": session_id}))
                    await ws.send(json.dumps({"type": "heartbeatAck", "timestamp": _now()}))
                elif action == "refreshConnection":
                    await ws.send(json.dumps({"type": "connectionRefreshComplete"}))
        finally:
            await self._gone(ws, session_id)

    async def _gone(self, ws: ServerConnection, session_id: str) -> None:
        listeners = self.state.sessions.get(session_id, set())
        listeners.discard(ws)
        if self.state.speakers.pop(ws, None) is None:
            return
        if any(s == session_id for s in self.state.speakers.values()):
            return  # an old socket after a refresh: the session goes on
        ended = json.dumps({"type": "sessionEnded", "sessionId": session_id, "reason": "x"})
        await asyncio.gather(*(c.send(ended) for c in list(listeners)), return_exceptions=True)
