"""``session-management-cfn-execution``: what CloudFormation may do when it deploys the stack.

``cdk bootstrap`` gives the CloudFormation execution role (``cdk-hnb659fds-cfn-exec-role-…``)
AdministratorAccess unless told otherwise, so whoever may start a deploy may, through
CloudFormation, do anything in the account. This managed policy allows what the
``SessionManagement-{env}`` stacks of the account create, on their names, and nothing else::

    cdk bootstrap aws://ACCOUNT/REGION --cloudformation-execution-policies \\
      arn:aws:iam::ACCOUNT:policy/session-management-cfn-execution

The policy lives in the OIDC stack of the account (deployed once by an administrator); running
the bootstrap again with the option replaces AdministratorAccess on the execution role.
:data:`SERVICE_OF_RESOURCE_TYPE` maps each resource type the stack creates to the IAM service
prefix whose actions this policy grants; a test checks that it covers the synthesized template.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Aws, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.github_oidc.config import BOOTSTRAP_QUALIFIER
from session_service import constants, specs

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig

POLICY_NAME = "session-management-cfn-execution"
# Resource type of the SessionManagement stack -> the service prefix of the actions it needs.
SERVICE_OF_RESOURCE_TYPE: dict[str, str] = {
    "AWS::ApiGateway::Account": "apigateway",
    "AWS::ApiGatewayV2::Api": "apigateway",
    "AWS::ApiGatewayV2::ApiMapping": "apigateway",
    "AWS::ApiGatewayV2::Authorizer": "apigateway",
    "AWS::ApiGatewayV2::DomainName": "apigateway",
    "AWS::ApiGatewayV2::Integration": "apigateway",
    "AWS::ApiGatewayV2::Route": "apigateway",
    "AWS::ApiGatewayV2::Stage": "apigateway",
    "AWS::CloudWatch::Alarm": "cloudwatch",
    "AWS::CloudWatch::CompositeAlarm": "cloudwatch",
    "AWS::CloudWatch::Dashboard": "cloudwatch",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::Events::Rule": "events",
    "AWS::IAM::Policy": "iam",
    "AWS::IAM::Role": "iam",
    "AWS::Lambda::EventInvokeConfig": "lambda",
    "AWS::Lambda::Function": "lambda",
    "AWS::Lambda::Permission": "lambda",
    "AWS::Logs::LogGroup": "logs",
    "AWS::Route53::RecordSet": "route53",
    "AWS::SNS::Subscription": "sns",
    "AWS::SNS::Topic": "sns",
    "AWS::SNS::TopicPolicy": "sns",
}
# Handled by CloudFormation itself: no service call, no permission.
NO_PERMISSION_TYPES = frozenset({"AWS::CDK::Metadata"})
# The services the stack's roles are passed to: Lambda (function roles), API Gateway (logging).
PASSED_TO_SERVICES = ("lambda.amazonaws.com", "apigateway.amazonaws.com")
# AWS-managed policies the stack attaches to its roles (API Gateway's logging role).
ATTACHABLE_MANAGED_POLICIES = ("service-role/AmazonAPIGatewayPushToCloudWatchLogs",)

_WILDCARD_REASON = (
    "CloudFormation execution policy: each service's actions are scoped to the resources the "
    "SessionManagement stacks name (tables, functions, roles {stack}-*, log groups, alarms, "
    "topic, dashboard, schedules); API Gateway ids and subscription ids are generated; "
    "Describe/List actions without resource-level permissions need *. Replaces "
    "AdministratorAccess."
)


class CfnExecutionPolicy(Construct):
    """The managed policy ``session-management-cfn-execution`` for the account's stacks."""

    def __init__(
        self, scope: Construct, construct_id: str, *, environments: tuple[EnvironmentConfig, ...]
    ) -> None:
        super().__init__(scope, construct_id)
        statements = _statements(environments)
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=POLICY_NAME,
            description=(
                "CloudFormation execution policy of the SessionManagement stacks "
                "(cdk bootstrap --cloudformation-execution-policies)"
            ),
            statements=statements,
        )
        _acknowledge(self.policy, statements)


def _statements(environments: tuple[EnvironmentConfig, ...]) -> list[iam.PolicyStatement]:
    """One statement per service, listing the ARNs of every environment of the account."""
    arns: dict[str, list[str]] = {}
    for env in environments:
        for sid, resources in _resources(env).items():
            arns.setdefault(sid, []).extend(r for r in resources if r not in arns.get(sid, []))
    partition = f"arn:{Aws.PARTITION}"
    policy_arns = [f"{partition}:iam::aws:policy/{name}" for name in ATTACHABLE_MANAGED_POLICIES]
    statements = [
        iam.PolicyStatement(sid="Tables", actions=["dynamodb:*"], resources=arns["Tables"]),
        iam.PolicyStatement(sid="Functions", actions=["lambda:*"], resources=arns["Functions"]),
        iam.PolicyStatement(
            sid="FunctionCode", actions=["s3:GetObject"], resources=arns["FunctionCode"]
        ),
        iam.PolicyStatement(
            sid="RolesOfTheStack",
            actions=[
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListRoleTags",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            resources=arns["Roles"],
        ),
        iam.PolicyStatement(
            sid="AttachOnlyTheManagedPoliciesTheStackUses",
            actions=["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            resources=arns["Roles"],
            conditions={"ArnEquals": {"iam:PolicyARN": policy_arns}},
        ),
        iam.PolicyStatement(
            sid="PassTheStackRolesToLambdaAndApiGateway",
            actions=["iam:PassRole"],
            resources=arns["Roles"],
            conditions={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        iam.PolicyStatement(
            sid="WebSocketApiAndAccountSettings",
            actions=[
                "apigateway:DELETE",
                "apigateway:GET",
                "apigateway:PATCH",
                "apigateway:POST",
                "apigateway:PUT",
            ],
            resources=arns["Api"],
        ),
        iam.PolicyStatement(
            sid="Schedules",
            actions=[
                "events:DeleteRule",
                "events:DescribeRule",
                "events:DisableRule",
                "events:EnableRule",
                "events:ListTagsForResource",
                "events:ListTargetsByRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:TagResource",
                "events:UntagResource",
            ],
            resources=arns["Schedules"],
        ),
        iam.PolicyStatement(sid="LogGroups", actions=["logs:*"], resources=arns["LogGroups"]),
        iam.PolicyStatement(
            sid="Alarms",
            actions=[
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutCompositeAlarm",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            resources=arns["Alarms"],
        ),
        iam.PolicyStatement(
            sid="Dashboards",
            actions=[
                "cloudwatch:DeleteDashboards",
                "cloudwatch:GetDashboard",
                "cloudwatch:PutDashboard",
            ],
            resources=arns["Dashboards"],
        ),
        iam.PolicyStatement(sid="AlarmTopic", actions=["sns:*"], resources=arns["Topics"]),
        iam.PolicyStatement(
            sid="ReadBootstrapVersion",
            actions=["ssm:GetParameter", "ssm:GetParameters"],
            resources=arns["BootstrapVersion"],
        ),
        iam.PolicyStatement(
            sid="DescribeWithoutResourceLevelPermissions",
            actions=[
                "cloudwatch:DescribeAlarms",
                "dynamodb:ListTables",
                "logs:DescribeLogGroups",
                "sns:ListTopics",
            ],
            resources=["*"],
        ),
    ]
    if arns.get("HostedZones"):
        statements.append(
            iam.PolicyStatement(
                sid="CustomDomainRecords",
                actions=[
                    "route53:ChangeResourceRecordSets",
                    "route53:GetHostedZone",
                    "route53:ListResourceRecordSets",
                ],
                resources=arns["HostedZones"],
            )
        )
        statements.append(
            iam.PolicyStatement(
                sid="CustomDomainChanges",
                actions=["route53:GetChange"],
                resources=[f"{partition}:route53:::change/*"],
            )
        )
    return statements


def _resources(env: EnvironmentConfig) -> dict[str, list[str]]:
    """The ARNs the stack of ``env`` creates, by statement."""
    arn = f"arn:{Aws.PARTITION}"
    region, account, name = env.region, env.account, env.env
    stack = constants.STACK_NAME_TEMPLATE.format(env=name)
    functions = [spec.function_name(name) for spec in specs.FUNCTIONS.values()]
    tables = [str(spec["name"]).format(env=name) for spec in constants.TABLES.values()]
    api_log_group = f"/aws/apigateway/{constants.API_NAME_TEMPLATE.format(env=name)}/access"
    log_groups = [f"/aws/lambda/{function}" for function in functions] + [api_log_group]
    topic = constants.ALARM_TOPIC_TEMPLATE.format(env=name)
    assets = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
    resources = {
        "Tables": [f"{arn}:dynamodb:{region}:{account}:table/{table}" for table in tables]
        + [f"{arn}:dynamodb:{region}:{account}:table/{table}/*" for table in tables],
        # a function, and its qualified forms ($LATEST: its event-invoke config)
        "Functions": [f"{arn}:lambda:{region}:{account}:function:{fn}" for fn in functions]
        + [f"{arn}:lambda:{region}:{account}:function:{fn}:*" for fn in functions],
        "Schedules": [
            f"{arn}:events:{region}:{account}:rule/{rule}"
            for spec in specs.FUNCTIONS.values()
            if (rule := spec.schedule_name(name)) is not None
        ],
        "FunctionCode": [f"{arn}:s3:::{assets}/*"],
        "Roles": [f"{arn}:iam::{account}:role/{stack}-*"],
        "Api": [
            f"{arn}:apigateway:{region}::/account",
            f"{arn}:apigateway:{region}::/apis",
            f"{arn}:apigateway:{region}::/apis/*",
            f"{arn}:apigateway:{region}::/tags/*",
        ],
        "LogGroups": [f"{arn}:logs:{region}:{account}:log-group:{group}" for group in log_groups]
        + [f"{arn}:logs:{region}:{account}:log-group:{group}:*" for group in log_groups],
        "Alarms": [
            f"{arn}:cloudwatch:{region}:{account}:alarm:"
            + constants.ALARM_NAME_TEMPLATE.format(env=name, alarm="*")
        ],
        "Dashboards": [
            f"{arn}:cloudwatch::{account}:dashboard/"
            + constants.DASHBOARD_NAME_TEMPLATE.format(env=name)
        ],
        "BootstrapVersion": [
            f"{arn}:ssm:{region}:{account}:parameter/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
        ],
        "Topics": [
            f"{arn}:sns:{region}:{account}:{topic}",
            f"{arn}:sns:{region}:{account}:{topic}:*",
        ],
    }
    if env.custom_domain is not None:
        resources["Api"] += [
            f"{arn}:apigateway:{region}::/domainnames",
            f"{arn}:apigateway:{region}::/domainnames/*",
        ]
        resources["HostedZones"] = [
            f"{arn}:route53:::hostedzone/{env.custom_domain.hosted_zone_id}"
        ]
    return resources


def _acknowledge(policy: iam.ManagedPolicy, statements: list[iam.PolicyStatement]) -> None:
    """Acknowledge cdk-nag's AwsSolutions-IAM5 per wildcard action and resource, one by one."""
    seen: set[str] = set()
    for statement in statements:
        shown = statement.to_statement_json()
        for key, kind in (("Action", "Action"), ("Resource", "Resource")):
            values = shown.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                if "*" not in value:
                    continue
                value = value.replace(Aws.PARTITION, "<AWS::Partition>")
                finding = f"AwsSolutions::AwsSolutions-IAM5[{kind}::{value}]"
                if finding not in seen:
                    seen.add(finding)
                    Validations.of(policy).acknowledge(
                        Acknowledgment(id=finding, reason=_WILDCARD_REASON)
                    )
