"""``--endpoint-from-stack``: outputs read from the stack, targets checked, exit status, summary."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest
from bench_fake_server import FakeServer

from bench import cli, stack


class StubCloudFormation:
    def __init__(self, outputs):
        self.outputs = outputs

    def describe_stacks(self, StackName):
        assert StackName == "SessionManagement-staging"
        return {
            "Stacks": [
                {"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}
            ]
        }


def test_endpoint_and_pool_come_from_the_stack_outputs():
    outputs = {
        "WebSocketUrl": "wss://abc.execute-api.us-east-1.amazonaws.com/prod",
        "UserPoolId": "us-east-1_abc",
        "AppClientId": "client",
        "SessionsTableName": "Sessions-staging",
    }
    target = stack.from_stack("staging", "us-east-1", StubCloudFormation(outputs))
    assert target.endpoint == outputs["WebSocketUrl"]
    assert target.user_pool_id == "us-east-1_abc"
    assert target.app_client_id == "client"


def test_a_missing_output_is_named():
    with pytest.raises(stack.StackError, match="no output AppClientId"):
        stack.from_stack(
            "staging", "us-east-1", StubCloudFormation({"WebSocketUrl": "x", "UserPoolId": "y"})
        )


class _ServerThread:
    """The fake server on its own event loop, as a deployed stage would be."""

    def __init__(self, join_limit: int) -> None:
        self.join_limit = join_limit
        self.ready = threading.Event()
        self.stop = None
        self.endpoint = ""

    def __enter__(self):
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)
        return self

    async def _main(self):
        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        async with FakeServer(join_limit=self.join_limit) as server:
            self.endpoint = server.endpoint
            self.ready.set()
            await self.stop.wait()

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def _run_stack_mode(monkeypatch, tmp_path, join_limit):
    real_config = cli._config

    def fast_config(env):
        config = real_config(env)
        # the staging limits, but heartbeats allowed every 0.1 s so the test is quick
        return replace(config, limits=replace(config.limits, heartbeat_limit_per_minute=600))

    monkeypatch.setattr(cli, "_config", fast_config)
    monkeypatch.setenv("BENCH_SPEAKER_TOKEN", "a-token")
    summary = tmp_path / "summary.md"
    with _ServerThread(join_limit) as server:
        target = stack.StackTarget("staging", "us-east-1", server.endpoint, "p", "c")
        monkeypatch.setattr(stack, "from_stack", lambda env, region: target)
        status = cli.main(
            [
                "--endpoint-from-stack",
                "--env",
                "staging",
                "--rounds",
                "1",
                "--heartbeats",
                "1",
                "--no-progress",
                "--out",
                str(tmp_path / "out"),
                "--summary",
                str(summary),
            ]
        )
    return status, summary.read_text(), tmp_path / "out"


def test_staging_run_passes_when_only_the_provoked_joins_are_refused(monkeypatch, tmp_path):
    # the staging round makes 8 joins; the fake refuses the 11th, during the probe
    status, summary, out = _run_stack_mode(monkeypatch, tmp_path, join_limit=10)
    assert status == 0, summary
    assert "**PASSED**" in summary
    assert (out / "results.json").is_file()
    assert (out / "results.md").is_file()
    assert (out / "latency.png").is_file()


def test_staging_run_fails_when_the_rate_limit_never_bites(monkeypatch, tmp_path):
    status, summary, _out = _run_stack_mode(monkeypatch, tmp_path, join_limit=10_000)
    assert status == 1
    assert "**FAILED**" in summary
    assert "| joins beyond the per-IP limit are refused with 429 |" in summary
