"""End to end: the local environment (moto, the deployed stack, the local gateway, the real
handlers), started once for the e2e tests, driven over real WebSockets.

Each test speaks from its own loopback address (127.0.0.x), so the per-IP limits of one test
never count against another, as distinct clients on the internet.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # ``local`` is a top-level package at the repository root
    sys.path.insert(0, _ROOT)

from local.environment import LocalEnvironment  # noqa: E402

# Test-only overrides of the handlers' settings (see LocalEnvironment): a small session cap so
# that "full" is reachable, the refresh notice after 12 s instead of 100 minutes and the warning
# after 15 s instead of 105 minutes, and heartbeats allowed 0.1 s apart instead of 6 s so that
# tests need not wait between them. The notices come late enough that the other tests' sockets
# (a few seconds old at most) never see one.
MAX_LISTENERS = 4
REFRESH_NOTICE_S = 12
WARNING_NOTICE_S = 15
HANDLER_OVERRIDES = {
    "MAX_LISTENERS_PER_SESSION": str(MAX_LISTENERS),
    "CONNECTION_REFRESH_MINUTES": f"{REFRESH_NOTICE_S / 60:g}",
    "CONNECTION_WARNING_MINUTES": f"{WARNING_NOTICE_S / 60:g}",
    "HEARTBEAT_LIMIT_PER_MINUTE": "600",
}
_addresses = itertools.count(2)


@pytest.fixture(scope="package")
def local_env() -> Iterator[LocalEnvironment]:
    env = LocalEnvironment(handler_env_overrides=HANDLER_OVERRIDES)
    env.start()
    yield env
    env.stop()


@pytest.fixture
def ip() -> str:
    """A loopback address of this test's own (API Gateway sees it as identity.sourceIp)."""
    n = next(_addresses)
    return f"127.0.{n // 250}.{n % 250 + 2}"
