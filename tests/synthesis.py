"""The CDK app synthesized in-process, for every test suite that needs a real template.

One definition of "synthesize an environment" serves the template tests (``infrastructure/``)
and the verification tests (``ci/``), and the session fixture in ``tests/conftest.py`` makes
each environment once per test session whichever suite asks first: synthesis is the slowest
step of the suite.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from infra.app import build_app
from infra.config import ConfigWarning, EnvironmentConfig


@dataclass(frozen=True)
class Synthesized:
    """One environment's cloud assembly: its stack's template, name and configuration."""

    env: str
    config: EnvironmentConfig
    stack_name: str
    raw: dict[str, Any]
    assembly_dir: Path

    @cached_property
    def template(self) -> Template:
        """The template for ``aws_cdk.assertions``."""
        return Template.from_json(self.raw)

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


def synthesize(
    env: str,
    outdir: Path,
    config_dir: Path | None = None,
    context: dict[str, Any] | None = None,
) -> Synthesized:
    """``cdk synth`` of ``env`` in-process (cdk.json's feature flags; cdk-nag included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        app, stack = build_app(env, config_dir=config_dir, context=context, outdir=str(outdir))
        assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    raw = json.loads(Path(assembly.directory, artifact.template_file).read_text())
    return Synthesized(
        env=env,
        config=stack.config,
        stack_name=stack.stack_name,
        raw=raw,
        assembly_dir=Path(assembly.directory),
    )
