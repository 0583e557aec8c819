"""Fixtures for the ci/ tests: the real stack of an environment deployed into in-process moto.

Each environment is synthesized at most once per test session (``synthesized``); each test that
asks for ``aws(env)`` gets a fresh ``mock_aws`` with that synthesized stack deployed into it, as
the environment's account, so a test may break the deployment without touching another's.
moto's state is process-wide: one deployment per test, and no moto server in the same test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from real_stack import DeployedStack, deploy

from ci.deployment import Deployment, Options
from tests.synthesis import Synthesized


@pytest.fixture(scope="session")
def synthesized(synthesized_envs: Callable[[str], Synthesized]) -> Callable[[str], Synthesized]:
    """env -> its synthesized stack, shared with the template tests (tests/conftest.py)."""
    return synthesized_envs


@pytest.fixture
def aws(
    monkeypatch: pytest.MonkeyPatch, synthesized: Callable[[str], Synthesized]
) -> Iterator[Callable[[str], DeployedStack]]:
    """Start moto as the environment's account; return a function deploying an environment."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mocks: list[object] = []

    def start(env: str) -> DeployedStack:
        if mocks:
            raise RuntimeError("one deployment per test: moto's state is process-wide")
        stack = synthesized(env)  # before the mock starts: synthesis needs no AWS
        monkeypatch.setenv("MOTO_ACCOUNT_ID", stack.config.account)
        mock = mock_aws()
        mock.start()
        mocks.append(mock)
        return deploy(stack)

    yield start
    for mock in mocks:
        mock.stop()  # type: ignore[attr-defined]


@pytest.fixture
def deployment_of(tmp_path: Path) -> Callable[..., Deployment]:
    def make(env: str, **options: object) -> Deployment:
        return Deployment(Options(env=env, report_dir=tmp_path / "reports", **options))  # type: ignore[arg-type]

    return make
