"""Fixtures for the ci/ tests: an in-process moto with a correct deployment of an environment."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from moto import mock_aws

# ``ci`` is a top-level package at the repository root (run as ``python -m ci.verify``).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ci_fakes import FakeDeployment, deploy  # noqa: E402

from ci.deployment import Deployment, Options  # noqa: E402
from infra.config import ConfigWarning, load_config  # noqa: E402


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], FakeDeployment]:
    """Start moto as the environment's account; return a function deploying an environment."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mocks: list[object] = []

    def start(env: str) -> FakeDeployment:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            account = load_config(env).account
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
        mock = mock_aws()
        mock.start()
        mocks.append(mock)
        return deploy(env)

    yield start  # type: ignore[misc]
    for mock in mocks:
        mock.stop()  # type: ignore[attr-defined]


@pytest.fixture
def deployment_of(tmp_path: Path) -> Callable[..., Deployment]:
    def make(env: str, **options: object) -> Deployment:
        return Deployment(Options(env=env, report_dir=tmp_path / "reports", **options))  # type: ignore[arg-type]

    return make
