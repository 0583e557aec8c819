"""Synthesized templates of every environment, each synthesized once per test session.

``template(env)`` is the CloudFormation template of ``SessionManagement-{env}`` as ``cdk synth``
writes it (cdk-nag included: a synth with an unacknowledged finding raises). The custom-domain
variant is prod's configuration with a ``customDomain`` added, in a temporary config directory.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable

import pytest

from infra.config import CONFIG_DIR, ConfigWarning, EnvironmentConfig, load_config
from tests.synthesis import Synthesized, synthesize

ENVS = ("dev", "staging", "prod")
CUSTOM_DOMAIN = {
    "domainName": "sessions.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "zoneName": "example.com",
    "certificateArn": (
        "arn:aws:acm:us-east-1:333333333333:certificate/12345678-1234-1234-1234-123456789012"
    ),
}


@pytest.fixture(scope="session", params=ENVS)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def synth(env: str, synthesized_envs: Callable[[str], Synthesized]) -> Synthesized:
    return synthesized_envs(env)


@pytest.fixture(scope="session")
def with_custom_domain(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """prod's configuration plus a custom domain, synthesized once."""
    config_dir = tmp_path_factory.mktemp("config-with-domain")
    for path in CONFIG_DIR.glob("*.json"):
        shutil.copy(path, config_dir / path.name)
    raw = json.loads((CONFIG_DIR / "prod.json").read_text())
    raw["customDomain"] = CUSTOM_DOMAIN
    (config_dir / "prod.json").write_text(json.dumps(raw))
    return synthesize("prod", tmp_path_factory.mktemp("cdk-domain"), config_dir=config_dir)


def config_of(env: str) -> EnvironmentConfig:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        return load_config(env)
