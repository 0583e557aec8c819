"""The emulator's clients, and what every part of the deployer shares: its error, its values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

Values = dict[str, Any]  # a resource's Ref and attributes


class DeployError(RuntimeError):
    """The template cannot be deployed into the emulator (the message says what and why)."""


@dataclass
class Clients:
    """boto3 clients for one account and region of the emulator."""

    session: boto3.Session
    endpoint_url: str | None
    region: str
    _cache: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, region_name=self.region
            )
        return self._cache[service]


def make_session(region: str) -> boto3.Session:
    """A session with dummy credentials: the emulator never sees a real one."""
    return boto3.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the emulator's dummy credentials)
        region_name=region,
    )
