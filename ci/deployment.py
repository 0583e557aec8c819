"""Finding the deployment: the environment's config, AWS clients and the stack's outputs.

Everything a check needs about the deployment comes from here, found the way a person would:
the stack ``SessionManagement-{env}`` and its outputs (fixed ids from
``session_service.constants``), read through the same boto3 calls against AWS or, with an
endpoint override, the local moto server.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ConfigError, ConfigWarning, EnvironmentConfig, load_config
from session_service import constants as C
from session_service import specs

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_ENV = "local"
WEBSOCKET_URL_VARIABLE = "SESSION_WEBSOCKET_URL"


class DeploymentNotFound(RuntimeError):
    """The stack is absent: every check that reads the deployment fails with this message."""


@dataclass
class Options:
    """What the command line says, in one place (``ci.verify`` builds it)."""

    env: str
    sections: tuple[str, ...] = ()
    endpoint_url: str | None = None
    websocket_url: str | None = None
    region: str | None = None
    report_dir: Path = field(default_factory=lambda: REPO_ROOT / "reports")
    deployed_by: str | None = None
    approved_by: str | None = None
    version: str | None = None
    commit: str | None = None
    junit: tuple[Path, ...] = ()
    repo_root: Path = REPO_ROOT
    handler_log: Path | None = None


class Clients:
    """boto3 clients made once per service, all with the same region and endpoint override."""

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._made: dict[str, Any] = {}
        self._config = BotoConfig(retries={"max_attempts": 3, "mode": "standard"})

    @cached_property
    def _session(self) -> boto3.session.Session:
        """Made on the first client: a named profile that does not exist raises here, inside
        the checks and the access probe, which report it, not while the deployment is set up."""
        return boto3.session.Session(region_name=self.region)

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            kwargs: dict[str, Any] = {"region_name": self.region, "config": self._config}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
                if self._session.get_credentials() is None:
                    # moto accepts any credentials; a local run should not need an AWS profile.
                    kwargs["aws_access_key_id"] = "testing"
                    kwargs["aws_secret_access_key"] = "testing"  # noqa: S105
            self._made[service] = self._session.client(service, **kwargs)
        return self._made[service]


class Deployment:
    """The environment under verification: config, clients, stack, outputs, and derived names."""

    def __init__(self, options: Options, clients: Clients | None = None) -> None:
        self.options = options
        self.env = options.env
        self.config_error: str | None = None
        self.config: EnvironmentConfig | None = None
        try:
            with warnings.catch_warnings():  # adjustments are reported by pre.config-complete
                warnings.simplefilter("ignore", ConfigWarning)
                self.config = load_config(options.env)
        except ConfigError as err:
            self.config_error = str(err)
        region = options.region or (self.config.region if self.config else None)
        region = region or os.environ.get("AWS_REGION") or "us-east-1"
        self.region = region
        self.clients = clients or Clients(region, options.endpoint_url)
        self.endpoint_url = options.endpoint_url
        self.stack_name = C.STACK_NAME_TEMPLATE.format(env=self.env)
        self.scratch: dict[str, Any] = {}

    # --- the stack ----------------------------------------------------------------------
    @cached_property
    def stack(self) -> dict[str, Any] | None:
        try:
            stacks = self.clients("cloudformation").describe_stacks(StackName=self.stack_name)
        except ClientError as err:
            if "does not exist" in str(err):
                return None
            raise
        return stacks["Stacks"][0] if stacks.get("Stacks") else None

    def require_stack(self) -> dict[str, Any]:
        stack = self.stack
        if stack is None:
            where = f" at {self.endpoint_url}" if self.endpoint_url else ""
            raise DeploymentNotFound(f"stack {self.stack_name} not found in {self.region}{where}")
        return stack

    @cached_property
    def outputs(self) -> dict[str, str]:
        stack = self.stack or {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def output(self, key: str) -> str:
        """An output the stack must have; a missing one is a deployment fault."""
        self.require_stack()
        value = self.outputs.get(key)
        if not value:
            raise DeploymentNotFound(f"stack {self.stack_name} has no output {key}")
        return value

    @property
    def account(self) -> str | None:
        stack = self.stack
        if stack and stack.get("StackId", "").startswith("arn:"):
            return stack["StackId"].split(":")[4]
        return None

    # --- names --------------------------------------------------------------------------
    def table_name(self, key: str) -> str:
        output = {
            "sessions": C.OUTPUT_SESSIONS_TABLE,
            "connections": C.OUTPUT_CONNECTIONS_TABLE,
            "rate_limits": C.OUTPUT_RATE_LIMITS_TABLE,
        }[key]
        return self.outputs.get(output) or str(C.TABLES[key]["name"]).format(env=self.env)

    def function_name(self, handler: str) -> str:
        spec = specs.FUNCTIONS[handler]
        return self.outputs.get(spec.output_id) or spec.function_name(self.env)

    @property
    def stage_name(self) -> str:
        return self.outputs.get(C.OUTPUT_STAGE_NAME) or (
            self.config.stage_name if self.config else "prod"
        )

    @property
    def user_pool_id(self) -> str | None:
        return self.outputs.get(C.OUTPUT_USER_POOL_ID) or (
            self.config.cognito.user_pool_id if self.config else None
        )

    @property
    def app_client_id(self) -> str | None:
        return self.outputs.get(C.OUTPUT_APP_CLIENT_ID) or (
            self.config.cognito.app_client_id if self.config else None
        )

    @property
    def websocket_url(self) -> str | None:
        """What the smoke tests connect to: ``--websocket-url``, else ``SESSION_WEBSOCKET_URL``
        (when the URL to test is not the stack's output: a local gateway in front of a local
        deployment, a custom domain), else the stack's ``WebSocketUrl`` output."""
        return (
            self.options.websocket_url
            or os.environ.get(WEBSOCKET_URL_VARIABLE)
            or self.outputs.get(C.OUTPUT_WEBSOCKET_URL)
        )

    @property
    def is_local(self) -> bool:
        return self.env == LOCAL_ENV

    def command_names(self) -> dict[str, str]:
        """Values for the ``{placeholders}`` of the checklist's commands."""
        names = {
            "env": self.env,
            "region": self.region,
            "stack": self.stack_name,
            "sessions_table": self.table_name("sessions"),
            "connections_table": self.table_name("connections"),
            "rate_limits_table": self.table_name("rate_limits"),
            "api_id": self.outputs.get(C.OUTPUT_API_ID, "$API_ID"),
            "stage": self.stage_name,
            "topic_arn": self.outputs.get(C.OUTPUT_ALARM_TOPIC_ARN, "$TOPIC_ARN"),
            "dashboard": self.outputs.get(C.OUTPUT_DASHBOARD_NAME)
            or C.DASHBOARD_NAME_TEMPLATE.format(env=self.env),
            "user_pool_id": self.user_pool_id or "$USER_POOL_ID",
            "app_client_id": self.app_client_id or "$APP_CLIENT_ID",
            "custom_domain": self.outputs.get(C.OUTPUT_CUSTOM_DOMAIN, "$DOMAIN"),
        }
        for handler in specs.FUNCTIONS:
            names[f"fn_{handler}"] = self.function_name(handler)
            names[f"role_{handler}"] = self.scratch.get(f"role:{handler}", "$ROLE_NAME")
        return names

    def render_command(self, template: str) -> str:
        if not template:
            return ""
        try:
            command = template.format(**self.command_names())
        except (KeyError, IndexError, BotoCoreError, ClientError):
            command = template
        if self.endpoint_url and command.startswith("aws "):
            command += f" --endpoint-url {self.endpoint_url}"
        return command
