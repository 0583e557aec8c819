"""The WebSocket API: routes, Lambda proxy integrations, the $connect authorizer, the stage.

Built from L1 resources with plain, explicit properties, because the local environment recreates
them through the API Gateway v2 API from the synthesized template (moto's CloudFormation skips
ApiGatewayV2). Logical ids are fixed and readable:

- ``WebSocketApi`` (AWS::ApiGatewayV2::Api)
- ``WebSocketAuthorizer`` (REQUEST, no identity source, on ``$connect``)
- ``Integration<Route>`` / ``Route<Route>`` for Connect, Disconnect, Heartbeat, RefreshConnection
  and Default (``$default``: messages that match no route get the service's ``error``)
- ``WebSocketStage`` (auto-deployed, throttled, access-logged to ``WebSocketAccessLogs``)

It is built in two steps, because the functions need the API's id for their callback URL and the
routes need the functions: the API first, then :meth:`SessionWebSocketApi.connect_functions`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from infra.log_retention import retention_days
from infra.nag import acknowledge
from session_service import constants, protocol, specs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from infra.config import EnvironmentConfig

INTEGRATION_TIMEOUT_MS = 29_000
API_LOGICAL_ID = "WebSocketApi"

# One JSON line per request. No source IP, no connection id, no token (SPEC: logs never carry
# them); the request id links a line to the handler's own logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTimeEpoch",
        "eventType": "$context.eventType",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "messageDirection": "$context.messageDirection",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "integrationError": "$context.integration.error",
        "authorizerStatus": "$context.authorizer.status",
        "authorizerError": "$context.authorizer.error",
        "errorMessage": "$context.error.message",
        "errorResponseType": "$context.error.responseType",
    },
    separators=(",", ":"),
)


def lambda_invocation_uri(function: lambda_.IFunction) -> str:
    """The ``arn:...:apigateway:...:lambda:path/.../invocations`` URI of a function."""
    stack = Stack.of(function)
    return (
        f"arn:{stack.partition}:apigateway:{stack.region}:lambda:path/2015-03-31/functions/"
        f"{function.function_arn}/invocations"
    )


class SessionWebSocketApi(Construct):
    """The API (first step); :meth:`connect_functions` adds routes, authorizer and stage."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.api = apigwv2.CfnApi(
            self,
            "Api",
            name=constants.API_NAME_TEMPLATE.format(env=config.env),
            protocol_type="WEBSOCKET",
            route_selection_expression=protocol.ROUTE_SELECTION_EXPRESSION,
            description=f"{constants.SERVICE_NAME} WebSocket API ({config.env})",
        )
        self.api.override_logical_id(API_LOGICAL_ID)
        self.stage_name = config.stage_name
        self.stage: apigwv2.CfnStage | None = None
        self.authorizer: apigwv2.CfnAuthorizer | None = None
        self.routes: dict[str, apigwv2.CfnRoute] = {}
        self.integrations: dict[str, apigwv2.CfnIntegration] = {}

    # --- addresses (tokens; no dependency on the stage resource) ------------------------------
    @property
    def api_id(self) -> str:
        return self.api.ref

    @property
    def endpoint_host(self) -> str:
        region = Stack.of(self).region
        return f"{self.api_id}.execute-api.{region}.{RegionInfo.get(region).domain_suffix}"

    @property
    def websocket_url(self) -> str:
        return f"wss://{self.endpoint_host}/{self.stage_name}"

    @property
    def callback_url(self) -> str:
        """``https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`` (the @connections API)."""
        return f"https://{self.endpoint_host}/{self.stage_name}"

    def connections_arn(self, method: str) -> str:
        """ARN for ``execute-api:ManageConnections`` with ``method`` on this API's stage."""
        return Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api_id,
            resource_name=f"{self.stage_name}/{method}/@connections/*",
        )

    def _execute_api_arn(self, resource_name: str) -> str:
        return Stack.of(self).format_arn(
            service="execute-api", resource=self.api_id, resource_name=resource_name
        )

    # --- second step ---------------------------------------------------------------------------
    def connect_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """Add the authorizer, one integration and route per route key, and the stage."""
        authorizer = specs.FUNCTIONS[specs.AUTHORIZER_FUNCTION]
        authorizer_function = functions[authorizer.key]
        self.authorizer = apigwv2.CfnAuthorizer(
            self,
            "Authorizer",
            api_id=self.api_id,
            name=constants.AUTHORIZER_NAME,
            authorizer_type="REQUEST",
            authorizer_uri=lambda_invocation_uri(authorizer_function),
            # No identity source: with one, API Gateway answers 401 without calling the
            # authorizer when it is absent, which would lock out anonymous listeners.
        )
        self.authorizer.override_logical_id("WebSocketAuthorizer")
        self._invoke_permission(
            f"{authorizer.construct_id}InvokeAuthorizer",
            authorizer_function,
            self._execute_api_arn(f"authorizers/{self.authorizer.ref}"),
        )

        for route_key, spec in specs.ROUTES.items():
            name = spec.construct_id
            function = functions[spec.function]
            integration = apigwv2.CfnIntegration(
                self,
                f"Integration{name}",
                api_id=self.api_id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=lambda_invocation_uri(function),
                timeout_in_millis=INTEGRATION_TIMEOUT_MS,
            )
            integration.override_logical_id(f"Integration{name}")
            authorized = spec.authorized
            route = apigwv2.CfnRoute(
                self,
                f"Route{name}",
                api_id=self.api_id,
                route_key=route_key,
                operation_name=name,
                target=f"integrations/{integration.ref}",
                authorization_type="CUSTOM" if authorized else "NONE",
                authorizer_id=self.authorizer.ref if authorized else None,
            )
            route.override_logical_id(f"Route{name}")
            if not authorized:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    (
                        "API Gateway WebSocket APIs accept an authorizer on $connect only; this "
                        "route runs on a connection that $connect authorized, and its handler "
                        "reads that identity from requestContext.authorizer."
                    ),
                )
            self._invoke_permission(
                f"{specs.FUNCTIONS[spec.function].construct_id}Invoke{name}",
                function,
                self._execute_api_arn(f"{self.stage_name}/{route_key}"),
            )
            self.integrations[route_key] = integration
            self.routes[route_key] = route

        self._add_stage()

    def _invoke_permission(
        self, logical_id: str, function: lambda_.IFunction, source_arn: str
    ) -> None:
        """Let API Gateway invoke ``function`` from ``source_arn`` (a route or the authorizer)."""
        permission = lambda_.CfnPermission(
            self,
            logical_id,
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="apigateway.amazonaws.com",
            source_arn=source_arn,
        )
        permission.override_logical_id(logical_id)

    def _add_stage(self) -> None:
        config = self._config
        removal = (
            RemovalPolicy.RETAIN if config.production.deletion_protection else RemovalPolicy.DESTROY
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=(
                f"/aws/apigateway/{constants.API_NAME_TEMPLATE.format(env=config.env)}/access"
            ),
            retention=retention_days(config.log_retention_days),
            removal_policy=removal,
        )
        self.access_logs.node.default_child.override_logical_id(  # type: ignore[union-attr]
            "WebSocketAccessLogs"
        )
        account_settings = self._account_logging_role()
        self.stage = apigwv2.CfnStage(
            self,
            "Stage",
            api_id=self.api_id,
            stage_name=self.stage_name,
            auto_deploy=True,
            description=f"{constants.SERVICE_NAME} {config.env}",
            default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=config.throttling.rate_limit,
                throttling_burst_limit=config.throttling.burst_limit,
                data_trace_enabled=False,
            ),
            access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=self.access_logs.log_group_arn,
                format=ACCESS_LOG_FORMAT,
            ),
        )
        self.stage.override_logical_id("WebSocketStage")
        # Auto-deploy deploys what exists when the stage is created: create the routes first.
        for route in self.routes.values():
            self.stage.add_resource_dependency(route)
        self.stage.add_resource_dependency(account_settings)

    def _account_logging_role(self) -> apigw.CfnAccount:
        """The account-level role API Gateway needs to write WebSocket access logs."""
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write access logs to CloudWatch Logs (account setting)",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        role.node.default_child.override_logical_id(  # type: ignore[union-attr]
            "ApiGatewayCloudWatchRole"
        )
        # Kept on delete: the account setting outlives the stack and other APIs may rely on it.
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            (
                "The AWS-maintained policy for API Gateway's account-level CloudWatch role; "
                "WebSocket access logging requires that role and AWS keeps its actions current."
            ),
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        account.override_logical_id("ApiGatewayAccountSettings")
        return account
