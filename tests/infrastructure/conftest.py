"""Synthesized templates of every environment, each synthesized once per test session.

``template(env)`` is the CloudFormation template of ``SessionManagement-{env}`` as ``cdk synth``
writes it (cdk-nag included: a synth with an unacknowledged finding raises). The custom-domain
variant is prod's configuration with a ``customDomain`` added, in a temporary config directory.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

# ``infra`` is a top-level package at the repository root (run as ``python -m infra.app``).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from infra.app import build_app  # noqa: E402
from infra.config import CONFIG_DIR, ConfigWarning, EnvironmentConfig, load_config  # noqa: E402

ENVS = ("dev", "staging", "prod")
CUSTOM_DOMAIN = {
    "domainName": "sessions.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "zoneName": "example.com",
    "certificateArn": (
        "arn:aws:acm:us-east-1:333333333333:certificate/12345678-1234-1234-1234-123456789012"
    ),
}


@dataclass(frozen=True)
class Synthesized:
    env: str
    config: EnvironmentConfig
    template: Template
    raw: dict[str, Any]
    assembly_dir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.raw["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.raw["Resources"][logical_id]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.raw["Resources"][logical_id]["Properties"]


def synthesize(env: str, outdir: Path, config_dir: Path | None = None) -> Synthesized:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        app, stack = build_app(env, config_dir=config_dir, outdir=str(outdir))
        assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    raw = json.loads(Path(assembly.directory, artifact.template_file).read_text())
    return Synthesized(
        env=env,
        config=stack.config,
        template=Template.from_json(raw),
        raw=raw,
        assembly_dir=Path(assembly.directory),
    )


@pytest.fixture(scope="session")
def synthesized_envs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Synthesized]:
    """env -> its synthesized stack; each environment is synthesized at most once."""
    cache: dict[str, Synthesized] = {}

    def get(env: str) -> Synthesized:
        if env not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConfigWarning)
                cache[env] = synthesize(env, tmp_path_factory.mktemp(f"cdk-{env}"))
        return cache[env]

    return get


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
