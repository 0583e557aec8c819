"""One Lambda function built from its spec: log group, least-privilege role and policy, the
cdk-nag acknowledgements that role needs, and the function.

Logical ids are fixed, from the spec's ``construct_id``: ``<id>LogGroup``, ``<id>Role``,
``<id>Policy``, ``<id>Function`` (e.g. ``HeartbeatHandlerFunction``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra import permissions
from infra.log_retention import retention_days
from infra.nag import acknowledge
from infra.websocket_api import API_LOGICAL_ID
from session_service import constants

if TYPE_CHECKING:
    from collections.abc import Mapping

    from infra.config import EnvironmentConfig
    from infra.tables import SessionTables
    from infra.websocket_api import SessionWebSocketApi
    from session_service.specs import FunctionSpec

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
WILDCARD_REASON = (
    "The connection id is known at run time only: the grant is "
    "@connections/* of this API's own stage, for the methods it uses."
)


class SessionFunction(Construct):
    """The function of one :class:`FunctionSpec`, with its own role and log group."""

    def __init__(
        self,
        scope: Construct,
        *,
        spec: FunctionSpec,
        config: EnvironmentConfig,
        code: lambda_.Code,
        environment: Mapping[str, str],
        tables: SessionTables,
        api: SessionWebSocketApi,
    ) -> None:
        super().__init__(scope, spec.construct_id)
        self.spec = spec
        self.function_name = spec.function_name(config.env)
        self.log_group = self._log_group(config)
        self.role = self._role(config, tables, api)
        self.function = lambda_.Function(
            self,
            f"{spec.construct_id}Function",
            function_name=self.function_name,
            description=f"{constants.SERVICE_NAME}: {spec.key} ({config.env})",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.entry_point,
            code=code,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            role=self.role,
            log_group=self.log_group,
            environment={variable: environment[variable] for variable in spec.environment},
            # A scheduled run is not retried: the next run does its work (infra/schedules.py).
            retry_attempts=0 if spec.schedule_rate_setting else None,
        )
        _override_id(self.function, f"{spec.construct_id}Function")
        invoke_config = self.function.node.try_find_child("EventInvokeConfig")
        if invoke_config is not None:
            _override_id(invoke_config, f"{spec.construct_id}EventInvokeConfig")
        # The function must wait for its role's policy; the role itself is already implied by
        # the GetAtt of its ARN (cfn-lint W3005 flags the redundant DependsOn CDK renders).
        self.function.node.default_child.add_override(  # type: ignore[union-attr]
            "DependsOn", [f"{spec.construct_id}Policy"]
        )

    def _log_group(self, config: EnvironmentConfig) -> logs.LogGroup:
        logical_id = f"{self.spec.construct_id}LogGroup"
        log_group = logs.LogGroup(
            self,
            logical_id,
            log_group_name=f"/aws/lambda/{self.function_name}",
            retention=retention_days(config.log_retention_days),
            removal_policy=(
                RemovalPolicy.RETAIN
                if config.production.deletion_protection
                else RemovalPolicy.DESTROY
            ),
        )
        _override_id(log_group, logical_id)
        return log_group

    def _role(
        self, config: EnvironmentConfig, tables: SessionTables, api: SessionWebSocketApi
    ) -> iam.Role:
        """The function's own role: its log group, then exactly the spec's grants."""
        name = self.spec.construct_id
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.function_name}: only what this handler uses",
        )
        _override_id(role, f"{name}Role")
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}"],
            )
        )
        for statement in permissions.statements(self.spec, tables, api):
            role.add_to_policy(statement)
        for finding in permissions.wildcard_findings(
            self.spec, config, _nag_arn_environment(self), API_LOGICAL_ID
        ):
            acknowledge(role, finding, WILDCARD_REASON)
        _override_id(role.node.find_child("DefaultPolicy"), f"{name}Policy")
        return role


def _nag_arn_environment(scope: Construct) -> tuple[str, str, str]:
    """How cdk-nag spells the partition, region and account in a finding: each the literal, or
    the pseudo parameter (a portable stack names no account or region: ``infra/app.py``)."""
    stack = Stack.of(scope)
    partition, region, account = (
        f"<{pseudo}>" if Token.is_unresolved(value) else value
        for value, pseudo in (
            (stack.partition, "AWS::Partition"),
            (stack.region, "AWS::Region"),
            (stack.account, "AWS::AccountId"),
        )
    )
    return partition, region, account


def _override_id(construct: IConstruct, logical_id: str) -> None:
    construct.node.default_child.override_logical_id(logical_id)  # type: ignore[union-attr]
