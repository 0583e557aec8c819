"""Where a pipeline job of an environment deploys and which roles it assumes (make deploy-target).

The workflows build the role ARNs from ``infra/config/{env}.json`` (account, region) and the role
names of the OIDC stack instead of reading them from secrets: an account id is no secret (it is
committed), and a secret that a called workflow was not handed resolves to "" without a word.
What protects a role is its trust policy, which admits exactly one GitHub environment.

    python -m infra.github_oidc.targets --env prod
    account=333333333333
    region=us-east-1
    deploy-role=arn:aws:iam::333333333333:role/session-management-deploy-prod
    verify-role=arn:aws:iam::333333333333:role/session-management-verify-prod
    change-set-role=arn:aws:iam::333333333333:role/session-management-change-set-prod
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from infra.config import ConfigError, ConfigWarning, load_config
from infra.github_oidc.config import ROLE_NAME_TEMPLATES


def partition_of(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def targets(env: str) -> dict[str, str]:
    """Account, region and the role ARNs of ``env``; ConfigError on a bad config."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)  # the service's adjustments are not ours
        config = load_config(env)
    partition = partition_of(config.region)
    values = {"account": config.account, "region": config.region}
    for kind, template in ROLE_NAME_TEMPLATES.items():
        name = template.format(env=env)
        values[f"{kind}-role"] = f"arn:{partition}:iam::{config.account}:role/{name}"
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment: dev, staging, prod")
    args = parser.parse_args(argv)
    try:
        values = targets(args.env)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for key, value in values.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
