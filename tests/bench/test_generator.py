"""The load generator against an in-memory protocol stand-in (no local environment needed)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace

from bench_fake_server import FakeServer

from bench import generator
from bench.generator import LoadPlan, run_level


class RecordingObserver:
    def __init__(self) -> None:
        self.phases: list[tuple[str, int]] = []

    async def begin(self, phase: str) -> None:
        return None

    async def end(self, phase: str, operations: int) -> None:
        self.phases.append((phase, operations))


def _run(plan: LoadPlan, join_limit: int = 10_000, observer=None):
    async def go():
        async with FakeServer(join_limit=join_limit) as server:
            result = await run_level(
                server.endpoint, plan, lambda i: f"token-{i}", observer=observer
            )
            return result, server.state

    return asyncio.run(go())


def _plan(**overrides) -> LoadPlan:
    values = {
        "sessions": 3,
        "listeners_per_session": 4,
        "heartbeats": 2,
        "heartbeat_interval_s": 0.05,
        "refresh_share": 1 / 3,
        "early_leave_share": 0.25,
        "op_timeout_s": 5,
        "deadline_s": 30,
    }
    values.update(overrides)
    return LoadPlan(**values)


def test_every_operation_is_counted_once_per_connection():
    observer = RecordingObserver()
    result, state = _run(_plan(), observer=observer)
    ops = result.recorder.summary()
    assert not result.deadline_hit
    assert ops["create"]["count"] == ops["create"]["ok"] == 3
    assert ops["join"]["count"] == ops["join"]["ok"] == 12
    # one heartbeat at connect and two more, on each of the 15 connections
    assert ops["heartbeat"]["ok"] == 15 * 3 == state.heartbeats
    assert ops["refresh"]["ok"] == 1
    # 15 connections close, plus the speaker socket replaced by the refresh
    assert ops["disconnect"]["ok"] == 16
    # one of four listeners per session leaves early; the other three hear sessionEnded
    assert ops["sessionEnded"]["count"] == ops["sessionEnded"]["ok"] == 9
    assert all(not s["errors"] for s in ops.values())
    assert result.recorder.connections_opened == 3 + 12 + 1
    assert [p for p, _ in observer.phases] == [
        "create",
        "join",
        "heartbeat",
        "refresh",
        "listenerLeave",
        "speakerLeave",
    ]
    assert dict(observer.phases)["join"] == 12


def test_refused_joins_are_reported_by_code_and_the_run_still_ends():
    result, _state = _run(
        _plan(sessions=1, listeners_per_session=6, early_leave_share=0), join_limit=4
    )
    join = result.recorder.summary()["join"]
    assert join["ok"] == 4
    assert join["errors"] == {"RATE_LIMIT_EXCEEDED": 2}
    assert result.recorder.summary()["sessionEnded"]["ok"] == 4


def test_rate_limit_probe_stops_at_the_first_refusal():
    result, _state = _run(
        _plan(sessions=1, listeners_per_session=2, rate_limit_probe=10), join_limit=5
    )
    probe = result.recorder.summary()["rateLimitProbe"]
    assert probe["ok"] == 3
    assert probe["errors"] == {"RATE_LIMIT_EXCEEDED": 1}


def test_missing_token_fails_create_with_unauthorized_and_nothing_else_runs():
    async def go():
        async with FakeServer() as server:
            return await run_level(server.endpoint, _plan(sessions=2), lambda i: "")

    result = asyncio.run(go())
    ops = result.recorder.summary()
    assert ops["create"]["errors"] == {"UNAUTHORIZED": 2}
    assert "join" not in ops


class LateHeartbeatPhase(RecordingObserver):
    """Holds the heartbeat phase back longer than the spread, as a long join phase does."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.began: float | None = None

    async def begin(self, phase: str) -> None:
        if phase == "heartbeat":
            await asyncio.sleep(self.delay)
            self.began = time.perf_counter()


def test_heartbeats_are_spread_from_the_phase_start_not_bunched_after_a_long_join_phase():
    spread = 1.0
    observer = LateHeartbeatPhase(delay=1.5 * spread)
    plan = _plan(heartbeats=1, heartbeat_spread_s=spread, refresh_share=0.0)
    result, state = _run(plan, observer=observer)
    assert observer.began is not None
    assert not result.deadline_hit
    phase = [t - observer.began for t in state.beat_times if t >= observer.began]
    assert len(phase) == 15  # one beat per connection in the phase
    early = [t for t in phase if t < 0.2 * spread]
    assert len(early) <= len(phase) // 2, f"{len(early)} of {len(phase)} beats in the first fifth"
    assert max(phase) <= spread + 0.5


def test_speakers_keep_their_cadence_from_the_join_phase_into_the_heartbeat_phase(monkeypatch):
    """A speaker beats every KEEPALIVE_S while the listeners join; its first beat of the
    heartbeat phase must not wait for a random offset into the spread, or a speaker could go
    silent past the staleness and have its session ended by the janitor."""
    keepalive, spread = 0.4, 3.0
    monkeypatch.setattr(generator, "KEEPALIVE_S", keepalive)

    class SlowJoins(RecordingObserver):
        async def begin(self, phase: str) -> None:
            if phase == "join":
                await asyncio.sleep(3 * keepalive)  # the speakers keep alive meanwhile

    plan = _plan(sessions=8, listeners_per_session=1, heartbeats=1, heartbeat_spread_s=spread)
    plan = replace(plan, refresh_share=0.0)
    result, state = _run(plan, observer=SlowJoins())
    assert not result.deadline_hit
    assert len(state.speaker_beats) == 8
    for beats in state.speaker_beats.values():
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        assert len(beats) >= 4  # the welcome's beat, the keep-alives, the phase's beat
        assert max(gaps) < keepalive + 0.3, gaps
