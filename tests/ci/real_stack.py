"""The real ``SessionManagement-{env}`` stack for the ci/ tests: synthesized by the CDK app in
``infra/`` and deployed into in-process moto by the local environment's deployer.

The checks are proved against what ``infra/`` deploys, not against an imitation of it: the
template and the code assets are the ones ``cdk deploy`` would use, and ``local.deploy`` creates
each resource from the template's own properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from local.deploy import deploy_stack
from tests.synthesis import Synthesized

# The sections whose every line a machine checks against the deployment (smoke needs a live
# WebSocket endpoint, so it is left to the end-to-end tests against the local environment).
AUTOMATIC_SECTIONS = ("tables", "functions", "api", "monitoring", "post-deployment", "production")


@dataclass
class DeployedStack:
    """What the deployer made in the active moto mock: the stack's outputs, and clients."""

    env: str
    region: str
    stack_name: str
    outputs: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)


def deploy(synthesized: Synthesized) -> DeployedStack:
    """Deploy the synthesized stack, code assets included, into the active ``mock_aws``."""
    region = synthesized.config.region
    outputs = deploy_stack(
        synthesized.raw,
        stack_name=synthesized.stack_name,
        region=region,
        assets=synthesized.assembly_dir,
    )
    return DeployedStack(
        env=synthesized.env, region=region, stack_name=synthesized.stack_name, outputs=outputs
    )
