"""``cdk bootstrap`` in moto: the ``CDKToolkit`` stack as the CDK CLI's bootstrap leaves it.

What the deployment and the verification read of a bootstrapped account: the ``CDKToolkit``
stack in a ``*_COMPLETE`` state with its ``BucketName`` and ``BootstrapVersion`` outputs, the
version parameter ``/cdk-bootstrap/hnb659fds/version`` (the templates' ``BootstrapVersion``
parameter and ``CheckBootstrapVersion`` rule read it), the staging bucket the assets are
published to, and the roles the CDK CLI assumes (deploy, lookup, file publishing, CloudFormation
execution), each trusting the account. moto's CloudFormation creates all of it from the template
below: the real bootstrap template's ECR repository, KMS key and policies are left out, since
nothing here reads them (the stack has no Docker assets).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from local.deploy import CDK_BOOTSTRAP_VERSION, CDK_BOOTSTRAP_VERSION_PARAMETER, Clients

TOOLKIT_STACK = "CDKToolkit"
QUALIFIER = "hnb659fds"
_ROLES = {
    "DeploymentActionRole": "deploy-role",
    "LookupRole": "lookup-role",
    "FilePublishingRole": "file-publishing-role",
    "ImagePublishingRole": "image-publishing-role",
    "CloudFormationExecutionRole": "cfn-exec-role",
}


def staging_bucket(account: str, region: str) -> str:
    return f"cdk-{QUALIFIER}-assets-{account}-{region}"


def toolkit_template(account: str, region: str) -> dict[str, Any]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    resources: dict[str, Any] = {
        "StagingBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": staging_bucket(account, region)},
        },
        "CdkBootstrapVersion": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": CDK_BOOTSTRAP_VERSION_PARAMETER,
                "Type": "String",
                "Value": CDK_BOOTSTRAP_VERSION,
            },
        },
    }
    for logical_id, suffix in _ROLES.items():
        resources[logical_id] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"cdk-{QUALIFIER}-{suffix}-{account}-{region}",
                "AssumeRolePolicyDocument": trust,
            },
        }
    return {
        "Description": "This stack includes resources needed to deploy AWS CDK apps into this "
        "environment (the local emulation of `cdk bootstrap`)",
        "Resources": resources,
        "Outputs": {
            "BucketName": {"Value": {"Ref": "StagingBucket"}},
            "BucketDomainName": {"Value": f"{staging_bucket(account, region)}.s3.amazonaws.com"},
            "BootstrapVersion": {"Value": CDK_BOOTSTRAP_VERSION},
        },
    }


def bootstrap_toolkit(clients: Clients) -> str:
    """Create the ``CDKToolkit`` stack in the clients' account unless it exists; its status."""
    cloudformation = clients("cloudformation")
    try:
        [stack] = cloudformation.describe_stacks(StackName=TOOLKIT_STACK)["Stacks"]
        return str(stack["StackStatus"])
    except ClientError:
        pass
    account = clients("sts").get_caller_identity()["Account"]
    cloudformation.create_stack(
        StackName=TOOLKIT_STACK,
        TemplateBody=json.dumps(toolkit_template(account, clients.region)),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    [stack] = cloudformation.describe_stacks(StackName=TOOLKIT_STACK)["Stacks"]
    return str(stack["StackStatus"])
