"""Deploy a synthesized CloudFormation template into moto, resource by resource, from the template.

moto's CloudFormation creates most resource types; the rest it skips (ApiGatewayV2, CloudWatch
alarms, SNS subscriptions and topic policies, the API Gateway account) or creates incompletely
(it drops a table's TTL and point-in-time recovery, and a function's architecture, tags and
tracing). Those are created, or completed, here through their service APIs, with properties
taken from the same template and intrinsics resolved against what exists, so nothing is
described twice.

The deployment goes in waves, in dependency order: moto's CloudFormation creates (then updates
the stack with) every resource it supports whose references exist; then the service APIs create
every remaining resource whose references exist; and so on. Outputs join the stack as soon as
what they reference exists, with references to API-created resources replaced by their values,
so ``cloudformation.describe_stacks`` gives the real outputs, as in AWS.

Usable against moto's server (``endpoint_url``) and against in-process ``mock_aws``
(``endpoint_url=None``)::

    outputs = deploy_stack(template, stack_name="SessionManagement-local",
                           endpoint_url="http://127.0.0.1:5000", assets=cloud_assembly_dir)

Modules, by what they hold: :mod:`~local.deploy.clients` (the emulator's clients, the error),
:mod:`~local.deploy.assets` (code assets, the bootstrap bucket and version),
:mod:`~local.deploy.creators` (resources made through the service APIs),
:mod:`~local.deploy.waves` (the order of creation).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.deploy.assets import (
    ASSET_CACHE,
    CDK_BOOTSTRAP_VERSION,
    CDK_BOOTSTRAP_VERSION_PARAMETER,
    bootstrap,
    publish_assets,
)
from local.deploy.clients import Clients, DeployError, Values, make_session
from local.deploy.creators import API_CREATED_TYPES, CREATORS, GONE, delete_api_created
from local.deploy.waves import IGNORED_TYPES, Deployment


# --- the deployment -----------------------------------------------------------------------------
def deploy_stack(
    template: Mapping[str, Any],
    *,
    stack_name: str,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    session: boto3.Session | None = None,
    assets: Path | None = None,
    parameters: Mapping[str, str] | None = None,
    api_created: dict[str, Values] | None = None,
) -> dict[str, str]:
    """Deploy ``template`` as ``stack_name``; return the stack's outputs (key -> value).

    ``assets`` is the cloud assembly directory (``cdk.out/<env>``) whose asset manifest lists the
    code assets to publish (CDK's bootstrap bucket is created if missing, as ``cdk bootstrap``
    would). ``endpoint_url=None`` talks to in-process ``mock_aws``. ``api_created``, when given,
    receives what was created outside the stack (logical id -> ``Type``, ``Ref``, attributes):
    :func:`delete_stack` needs it, since deleting the stack in moto leaves those behind.
    """
    clients = Clients(session or make_session(region), endpoint_url, region)
    deployment = Deployment(copy.deepcopy(dict(template)), stack_name, clients, parameters or {})
    if assets is not None:
        publish_assets(clients, assets, stack_name, deployment.account_id)
    try:
        deployment.run()
    finally:
        if api_created is not None:
            api_created.update(
                {
                    k: {"Type": deployment.resources[k]["Type"], **v}
                    for k, v in deployment.values.items()
                }
            )
    return stack_outputs(clients("cloudformation"), stack_name)


def delete_stack(
    clients: Clients,
    stack_name: str,
    api_created: Mapping[str, Values],
    *,
    replacing: bool = False,
) -> None:
    """Delete what :func:`deploy_stack` created: the API-created resources, then the stack.

    moto's ``DeleteStack`` deletes what its CloudFormation created (tables, roles, log groups,
    the topic); what the deployer created through the service APIs is deleted here, so that the
    same template can be deployed again (its functions and tables have fixed names).
    ``replacing``: the delete stands in for an update of the stack (the local deployer cannot
    update in place), which on AWS keeps its tables: their deletion protection is lifted first,
    or DynamoDB would refuse the delete. A real delete keeps it (and is refused, as on AWS).
    """
    cloudformation = clients("cloudformation")
    if replacing:
        _lift_deletion_protection(clients, cloudformation, stack_name)
    for logical_id, values in api_created.items():
        try:
            delete_api_created(clients, values)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in GONE:
                raise DeployError(f"cannot delete {logical_id} ({values['Type']}): {err}") from err
    try:
        cloudformation.delete_stack(StackName=stack_name)
    except ClientError as err:
        raise DeployError(f"cannot delete stack {stack_name}: {err}") from err


def _lift_deletion_protection(clients: Clients, cloudformation: Any, stack_name: str) -> None:
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    dynamodb = clients("dynamodb")
    for page in pages:
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] != "AWS::DynamoDB::Table":
                continue
            name = resource["PhysicalResourceId"]
            try:
                table = dynamodb.describe_table(TableName=name)["Table"]
                if table.get("DeletionProtectionEnabled"):
                    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") not in GONE:
                    raise DeployError(f"cannot replace table {name}: {err}") from err


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


__all__ = [
    "API_CREATED_TYPES",
    "ASSET_CACHE",
    "CDK_BOOTSTRAP_VERSION",
    "CDK_BOOTSTRAP_VERSION_PARAMETER",
    "CREATORS",
    "IGNORED_TYPES",
    "Clients",
    "DeployError",
    "Values",
    "bootstrap",
    "delete_stack",
    "deploy_stack",
    "make_session",
    "publish_assets",
    "stack_outputs",
]
