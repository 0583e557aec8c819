"""End to end, the janitor: one local environment whose scheduler runs the janitor every
``PERIOD`` seconds, with handlers that take a speaker unheard for ``STALENESS`` seconds as lost
($connect and the janitor alike), driven over real WebSockets with the gateway's faults.

The killed fan-out's end is finished by the janitor only once the longest function timeout
(60 s) has passed since it (``logic/janitor.py``, SWEEP_AFTER_MS): that scenario starts first,
in a thread of its own, and its test runs last, while the other tests run meanwhile.
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

from local import profiles  # noqa: E402
from local.environment import LocalEnvironment  # noqa: E402

from .killed_fan_out import KilledFanOut  # noqa: E402

PERIOD = 2.0
STALENESS = 6
HANDLER_OVERRIDES = {
    **profiles.speaker_staleness(STALENESS),
    "HEARTBEAT_LIMIT_PER_MINUTE": "600",  # heartbeats 0.1 s apart (e2e_support's spacing)
}
_KILLED_FAN_OUT_TESTS = "test_killed_fan_out.py"
_addresses = itertools.count(2)


def _address() -> str:
    n = next(_addresses)
    return f"127.1.{n // 250}.{n % 250 + 2}"


@pytest.fixture(scope="package")
def local_env() -> Iterator[LocalEnvironment]:
    env = LocalEnvironment(handler_env_overrides=HANDLER_OVERRIDES, schedule_period=PERIOD)
    env.start()
    yield env
    env.stop()


@pytest.fixture
def ip() -> str:
    """A loopback address of this test's own (the per-address limits never mix tests)."""
    return _address()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The killed fan-out's test last of this directory's (it waits for the scenario started
    before the others); the other directories' tests keep their places."""
    here = Path(__file__).parent
    places = [i for i, item in enumerate(items) if item.path.parent == here]
    mine = sorted((items[i] for i in places), key=lambda i: i.path.name == _KILLED_FAN_OUT_TESTS)
    for place, item in zip(places, mine, strict=True):
        items[place] = item


@pytest.fixture(scope="package")
def killed_fan_out(local_env: LocalEnvironment) -> Iterator[KilledFanOut]:
    scenario = KilledFanOut(local_env, _address(), period=PERIOD).start()
    yield scenario
    scenario.join()


@pytest.fixture(scope="package", autouse=True)
def _killed_fan_out_first(request: pytest.FixtureRequest) -> None:
    """Start the killed fan-out before any other test, when its test is selected."""
    if any(item.path.name == _KILLED_FAN_OUT_TESTS for item in request.session.items):
        request.getfixturevalue("killed_fan_out")
