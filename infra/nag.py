"""cdk-nag acknowledgements: every one names its rule (or finding) and carries its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``AwsSolutions-IAM5[Resource::...]``) on ``construct``."""
    if not reason.strip():
        raise ValueError(f"{rule}: an acknowledgement needs its reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
