"""Testing by hand from one machine: a refused handshake says why and for how long, and the
relaxed profile keeps the per-address limits out of the way (``make local PROFILE=relaxed``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from local.client import refusal_text
from local.environment import LocalEnvironment
from local.state import running_state

from .e2e_support import handshake_status, open_socket, run

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]

# infra/config/local.json: connectionAttemptLimitPerMinute.
ATTEMPTS_PER_MINUTE = 20
# An attempt every limit counts and the handler then refuses (a malformed session id): 400.
BAD_JOIN = {"action": "joinSession", "sessionId": "not-an-id", "targetLanguage": "es"}


@pytest.fixture
def explaining(local_env: LocalEnvironment) -> Iterator[LocalEnvironment]:
    """The package's environment answering refusals as ``make local`` does."""
    assert local_env.gateway is not None
    local_env.gateway.config.explain_refusals = True
    yield local_env
    local_env.gateway.config.explain_refusals = False


async def refused(env: LocalEnvironment, ip: str) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refusal:
        await open_socket(env, ip, **BAD_JOIN)
    return refusal.value


def test_attempt_over_the_per_address_limit_is_429_with_reason_and_retry_after(
    explaining: LocalEnvironment, ip: str
) -> None:
    async def scenario() -> InvalidStatus:
        for _ in range(ATTEMPTS_PER_MINUTE):
            status = await handshake_status(explaining, ip, **BAD_JOIN)
            if status == 429:  # the minute's window began before this test's
                break
            assert status == 400
        return await refused(explaining, ip)

    refusal = run(scenario())
    response = refusal.response
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60  # fixed minute windows
    error = json.loads(response.body)
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["details"] == {"limit": "connectionAttemptsPerMinute", "retryAfter": retry_after}
    assert "too many connection attempts" in refusal_text(refusal)
    assert f"retry after {retry_after} s" in refusal_text(refusal)


@pytest.fixture(scope="module")
def relaxed_make_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m local --profile relaxed`` (what ``make local PROFILE=relaxed`` runs), in its
    own process (one process holds one moto); yields its WebSocket endpoint, then stops it."""
    state_file = tmp_path_factory.mktemp("relaxed") / "state.json"
    env = {**os.environ, "LOCAL_STATE_FILE": str(state_file)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--profile", "relaxed", "-q"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while (state := running_state(state_file)) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"make local did not start: {process.stderr}")
            time.sleep(0.5)
        assert state.websocket_url is not None
        yield state.websocket_url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def status_of(endpoint: str) -> int:
    query = urllib.parse.urlencode(BAD_JOIN)
    with pytest.raises(InvalidStatus) as refusal:
        await connect(f"{endpoint}?{query}", local_addr=("127.0.0.1", 0))
    return int(refusal.value.response.status_code)


def test_relaxed_profile_lets_one_address_try_past_the_deployed_limits(
    relaxed_make_local: str,
) -> None:
    async def scenario() -> list[int]:
        return [await status_of(relaxed_make_local) for _ in range(ATTEMPTS_PER_MINUTE + 5)]

    assert set(run(scenario())) == {400}
