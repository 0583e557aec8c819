"""The Lambda functions: one :class:`~infra.session_function.SessionFunction` per spec of
``session_service.specs.FUNCTIONS``, sharing one code asset per bundle.

Logical ids are fixed: ``<Name>Function``, ``<Name>Role``, ``<Name>Policy``, ``<Name>LogGroup``,
``<Name>Invoke<Route>`` (API Gateway's invoke permissions) with Name the spec's ``construct_id``
(Authorizer, ConnectionHandler, HeartbeatHandler, DisconnectHandler, RefreshHandler).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import handler_environment
from infra.bundling import AUTHORIZER_BUNDLE, HANDLER_BUNDLE, BundleSpec, bundle_dir
from infra.session_function import SessionFunction
from session_service import specs

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs

    from infra.config import EnvironmentConfig
    from infra.tables import SessionTables
    from infra.websocket_api import SessionWebSocketApi

# bundle name of a spec -> the package set it ships with
_BUNDLE_SPECS = {bundle.name: bundle for bundle in (AUTHORIZER_BUNDLE, HANDLER_BUNDLE)}
# handler -> the package set of its code
BUNDLES: dict[str, BundleSpec] = {
    key: _BUNDLE_SPECS[spec.bundle] for key, spec in specs.FUNCTIONS.items()
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
    """One function per spec, each with its own role and log group."""

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
        codes: dict[str, lambda_.Code] = {}
        self.built: dict[str, SessionFunction] = {}
        for key, spec in specs.FUNCTIONS.items():
            bundle = BUNDLES[key]
            if bundle.name not in codes:
                codes[bundle.name] = lambda_.Code.from_asset(str(code_dir(bundle)))
            self.built[key] = SessionFunction(
                self,
                spec=spec,
                config=config,
                code=codes[bundle.name],
                environment=values,
                tables=tables,
                api=api,
            )
        self.functions: dict[str, lambda_.Function] = {
            key: built.function for key, built in self.built.items()
        }
        self.roles: dict[str, iam.Role] = {key: built.role for key, built in self.built.items()}
        self.log_groups: dict[str, logs.LogGroup] = {
            key: built.log_group for key, built in self.built.items()
        }
