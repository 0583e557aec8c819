"""The ``SessionManagement-{env}`` stack: composes tables, functions, API, monitoring, domain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Annotations, CfnOutput, Environment, Stack, Tags
from constructs import Construct

from infra.custom_domain import SessionCustomDomain
from infra.functions import SessionFunctions
from infra.monitoring import SessionMonitoring
from infra.schedules import SessionSchedules
from infra.tables import SessionTables
from infra.websocket_api import SessionWebSocketApi
from session_service import constants, specs

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig


class SessionManagementStack(Stack):
    """Everything one environment of the session service runs on."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        portable: bool = False,
        **kwargs: object,
    ) -> None:
        # A portable stack names no account or region: its ARNs and URLs take them from where it
        # deploys (taskcat deploys the staging template in a test account, in two regions).
        super().__init__(
            scope,
            config.stack_name,
            stack_name=config.stack_name,
            env=None if portable else Environment(account=config.account, region=config.region),
            description=f"{constants.SERVICE_NAME}: serverless WebSocket sessions ({config.env})",
            termination_protection=config.production.deletion_protection,
            **kwargs,  # type: ignore[arg-type]
        )
        self.config = config
        for notice in config.notices:
            Annotations.of(self).add_warning_v2("session-management:config", notice)
        Tags.of(self).add("service", constants.SERVICE_NAME)
        Tags.of(self).add("environment", config.env)

        self.tables = SessionTables(self, "Tables", config=config)
        self.api = SessionWebSocketApi(self, "WebSocket", config=config)
        self.functions = SessionFunctions(
            self, "Functions", config=config, tables=self.tables, api=self.api
        )
        self.api.connect_functions(self.functions.functions)
        self.schedules = SessionSchedules(
            self, "Schedules", config=config, functions=self.functions.functions
        )
        self.monitoring = SessionMonitoring(
            self, "Monitoring", config=config, functions=self.functions.functions
        )
        self.custom_domain = (
            SessionCustomDomain(self, "CustomDomain", domain=config.custom_domain, api=self.api)
            if config.custom_domain
            else None
        )
        self._outputs()

    def _output(self, output_id: str, value: str, description: str) -> None:
        output = CfnOutput(self, output_id, value=value, description=description)
        output.override_logical_id(output_id)

    def _outputs(self) -> None:
        c = constants
        self._output(c.OUTPUT_WEBSOCKET_URL, self.api.websocket_url, "WebSocket endpoint (wss)")
        self._output(c.OUTPUT_CALLBACK_URL, self.api.callback_url, "@connections callback URL")
        self._output(c.OUTPUT_API_ID, self.api.api_id, "WebSocket API id")
        self._output(c.OUTPUT_STAGE_NAME, self.api.stage.ref, "WebSocket API stage")  # type: ignore[union-attr]
        self._output(c.OUTPUT_SESSIONS_TABLE, self.tables.sessions.table_name, "Sessions table")
        self._output(
            c.OUTPUT_CONNECTIONS_TABLE, self.tables.connections.table_name, "Connections table"
        )
        self._output(
            c.OUTPUT_RATE_LIMITS_TABLE, self.tables.rate_limits.table_name, "RateLimits table"
        )
        for handler, spec in specs.FUNCTIONS.items():
            function = self.functions.functions[handler]
            self._output(spec.output_id, function.function_name, f"{handler} function")
        self._output(c.OUTPUT_ALARM_TOPIC_ARN, self.monitoring.topic.topic_arn, "Alarm topic")
        if self.monitoring.dashboard is not None:
            self._output(
                c.OUTPUT_DASHBOARD_NAME,
                self.monitoring.dashboard.dashboard_name,
                "CloudWatch dashboard",
            )
        self._output(c.OUTPUT_USER_POOL_ID, self.config.cognito.user_pool_id, "Cognito user pool")
        self._output(
            c.OUTPUT_APP_CLIENT_ID, self.config.cognito.app_client_id, "Cognito app client"
        )
        if self.custom_domain is not None:
            self._output(
                c.OUTPUT_CUSTOM_DOMAIN, self.custom_domain.domain_name, "Custom domain name"
            )
