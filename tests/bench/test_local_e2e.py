"""The load generator at a tiny level against the local environment (real sockets, handlers)."""

from __future__ import annotations

import asyncio

import pytest

from bench import report
from bench.counting import ManagementLogCounter, MotoRecorder, RequestCounter
from bench.generator import LoadPlan, run_level
from bench.local_bench import LocalTokens, local_environment

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def environment():
    with local_environment() as env:
        yield env


def test_tiny_load_completes_every_operation_and_counts_requests_per_phase(environment, tmp_path):
    plan = LoadPlan(
        sessions=1,
        listeners_per_session=3,
        heartbeats=1,
        heartbeat_interval_s=6.5,  # the local config's minimum (10 per minute) and a margin
        refresh_share=1.0,
        early_leave_share=0.34,  # one of the three listeners leaves before the speaker
        concurrency=4,
        op_timeout_s=30,
        deadline_s=120,
    )
    recorder = MotoRecorder(environment.moto_endpoint)
    management = ManagementLogCounter()
    counter = RequestCounter(recorder, management, quiet_s=2.0)
    tokens = LocalTokens(environment, "e2e")
    tokens(0)  # sign the speaker in before counting starts
    recorder.start()
    management.install()
    try:
        result = asyncio.run(run_level(environment.endpoint, plan, tokens, observer=counter))
    finally:
        management.uninstall()
        recorder.stop()

    ops = result.recorder.summary()
    assert not result.deadline_hit
    assert {op: s["errors"] for op, s in ops.items() if s["errors"]} == {}
    assert ops["create"]["ok"] == 1
    assert ops["join"]["ok"] == 3
    assert ops["heartbeat"]["ok"] == 4 * 2
    assert ops["refresh"]["ok"] == 1
    assert ops["sessionEnded"]["ok"] == 2

    phases = counter.phases
    assert set(phases["join"]["handlers"]) >= {"authorizer", "connection", "heartbeat"}
    assert phases["heartbeat"]["handlers"]["heartbeat"]["dynamodbRequests"] == 4
    # the speaker's $disconnect tells each of the two remaining listeners: two posts
    assert phases["speakerLeave"]["managementApi"]["requests"] == 2

    results = {
        "title": "e2e",
        "command": "pytest",
        "createdAt": "now",
        "machine": {
            "cpuModel": "-",
            "cores": 0,
            "memoryGiB": 0,
            "os": "-",
            "python": "-",
            "packages": {},
        },
        "levels": [result.to_dict()],
        "requests": {"level": plan.label, "phases": phases},
    }
    report.write_json(results, tmp_path / "results.json")
    report.write_markdown(results, tmp_path / "results.md")
    report.write_plot(results, tmp_path / "latency.png")
    assert "| speakerLeave | 1 |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "latency.png").stat().st_size > 0
