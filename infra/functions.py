"""The five Lambda functions: code bundle, size, environment, log group and least-privilege role.

Logical ids are fixed: ``<Name>Function``, ``<Name>Role``, ``<Name>Policy``, ``<Name>LogGroup``,
``<Name>Invoke<Route>`` (API Gateway's invoke permissions) with Name one of
Authorizer, ConnectionHandler, HeartbeatHandler, DisconnectHandler, RefreshHandler.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import handler_environment, permissions
from infra.bundling import AUTHORIZER_BUNDLE, HANDLER_BUNDLE, BundleSpec, bundle_dir
from infra.log_retention import retention_days
from infra.nag import acknowledge
from infra.websocket_api import API_LOGICAL_ID
from session_service import constants

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig
    from infra.tables import SessionTables
    from infra.websocket_api import SessionWebSocketApi

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# handler -> readable part of its logical ids
FUNCTION_IDS: dict[str, str] = {
    "authorizer": "Authorizer",
    "connection": "ConnectionHandler",
    "heartbeat": "HeartbeatHandler",
    "disconnect": "DisconnectHandler",
    "refresh": "RefreshHandler",
}
BUNDLES: dict[str, BundleSpec] = {
    handler: AUTHORIZER_BUNDLE if handler == "authorizer" else HANDLER_BUNDLE
    for handler in constants.FUNCTIONS
}


def environment_values(
    config: EnvironmentConfig, tables: SessionTables, api: SessionWebSocketApi
) -> dict[str, str]:
    """The value of every environment variable a handler may read (constants.ENV_*)."""
    return handler_environment.environment_values(
        config,
        sessions_table=tables.sessions.table_name,
        connections_table=tables.connections.table_name,
        rate_limits_table=tables.rate_limits.table_name,
        callback_url=api.callback_url,
    )


class SessionFunctions(Construct):
    """One function per handler of ``constants.FUNCTIONS``, each with its own role and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        tables: SessionTables,
        api: SessionWebSocketApi,
        code_dir: Callable[[BundleSpec], Path] = bundle_dir,
    ) -> None:
        super().__init__(scope, construct_id)
        values = environment_values(config, tables, api)
        targets = {
            permissions.SESSIONS: lambda: [tables.sessions.table_arn],
            permissions.CONNECTIONS: lambda: [tables.connections.table_arn],
            permissions.RATE_LIMITS: lambda: [tables.rate_limits.table_arn],
            permissions.CONNECTIONS_GSI: lambda: [
                f"{tables.connections.table_arn}/index/{constants.CONNECTIONS_GSI_NAME}"
            ],
        }
        removal = (
            RemovalPolicy.RETAIN if config.production.deletion_protection else RemovalPolicy.DESTROY
        )
        # how cdk-nag spells the partition, region and account in a finding: the literal, or the
        # pseudo parameter (a portable stack names no account or region)
        stack = Stack.of(self)
        partition, region, account = (
            f"<{pseudo}>" if Token.is_unresolved(value) else value
            for value, pseudo in (
                (stack.partition, "AWS::Partition"),
                (stack.region, "AWS::Region"),
                (stack.account, "AWS::AccountId"),
            )
        )
        codes: dict[str, lambda_.Code] = {}
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}

        for handler, (name_template, entry_point) in constants.FUNCTIONS.items():
            name = FUNCTION_IDS[handler]
            function_name = name_template.format(env=config.env)
            memory_mb, timeout_s = constants.FUNCTION_SIZES[handler]
            spec = BUNDLES[handler]
            if spec.name not in codes:
                codes[spec.name] = lambda_.Code.from_asset(str(code_dir(spec)))

            log_group = logs.LogGroup(
                self,
                f"{name}LogGroup",
                log_group_name=f"/aws/lambda/{function_name}",
                retention=retention_days(config.log_retention_days),
                removal_policy=removal,
            )
            _override_id(log_group, f"{name}LogGroup")

            role = iam.Role(
                self,
                f"{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{function_name}: only what this handler uses",
            )
            _override_id(role, f"{name}Role")
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{log_group.log_group_arn}"],
                )
            )
            wildcard_findings: list[str] = []
            for grant in permissions.HANDLER_PERMISSIONS[handler]:
                if grant.target == permissions.CONNECTIONS_API:
                    resources = [api.connections_arn(method) for method in grant.actions]
                    role.add_to_policy(
                        iam.PolicyStatement(
                            sid="ManageConnections",
                            actions=["execute-api:ManageConnections"],
                            resources=resources,
                        )
                    )
                    wildcard_findings += [
                        f"Resource::arn:{partition}:execute-api:{region}:"
                        f"{account}:<{API_LOGICAL_ID}>/{config.stage_name}/"
                        f"{method}/@connections/*"
                        for method in grant.actions
                    ]
                else:
                    role.add_to_policy(
                        iam.PolicyStatement(
                            sid=_sid(grant.target),
                            actions=list(grant.actions),
                            resources=targets[grant.target](),
                        )
                    )
            for finding in wildcard_findings:
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[{finding}]",
                    (
                        "The connection id is known at run time only: the grant is "
                        "@connections/* of this API's own stage, for the methods it uses."
                    ),
                )
            self.roles[handler] = role
            _override_id(role.node.find_child("DefaultPolicy"), f"{name}Policy")

            function = lambda_.Function(
                self,
                f"{name}Function",
                function_name=function_name,
                description=f"{constants.SERVICE_NAME}: {handler} ({config.env})",
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=entry_point,
                code=codes[spec.name],
                memory_size=memory_mb,
                timeout=Duration.seconds(timeout_s),
                role=role,
                log_group=log_group,
                environment={
                    variable: values[variable]
                    for variable in constants.HANDLER_ENVIRONMENT[handler]
                },
            )
            _override_id(function, f"{name}Function")
            # The function must wait for its role's policy; the role itself is already implied by
            # the GetAtt of its ARN (cfn-lint W3005 flags the redundant DependsOn CDK renders).
            function.node.default_child.add_override(  # type: ignore[union-attr]
                "DependsOn", [f"{name}Policy"]
            )
            self.functions[handler] = function
            self.log_groups[handler] = log_group


def _override_id(construct: Construct, logical_id: str) -> None:
    construct.node.default_child.override_logical_id(logical_id)  # type: ignore[union-attr]


def _sid(target: str) -> str:
    return "".join(part.capitalize() for part in target.split("_"))
