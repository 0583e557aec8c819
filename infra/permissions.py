"""A function's grants (``session_service.specs``) as IAM statements of its own role.

The grants themselves, one tuple per function spec, are the project's one table of what each
handler may do; this module only says how each kind of target becomes a statement:

- a table (``specs.SESSIONS``, ``CONNECTIONS``, ``RATE_LIMITS``): the actions on its ARN;
- an index (a key of ``specs.INDEXES``: the listeners', liveness and sweep indexes): the
  actions on ``<table arn>/index/<index name>``, never on the table's other indexes;
- ``specs.CONNECTIONS_API``: ``execute-api:ManageConnections`` on this API's stage, for the
  methods named. The connection id is known at run time only, so that resource ends in
  ``@connections/*``: :func:`wildcard_findings` names the cdk-nag findings this leaves, so the
  function construct acknowledges exactly them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam

from session_service import specs

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig
    from infra.tables import SessionTables
    from infra.websocket_api import SessionWebSocketApi

MANAGE_CONNECTIONS = "execute-api:ManageConnections"
MANAGE_CONNECTIONS_SID = "ManageConnections"


def table_resources(tables: SessionTables) -> dict[str, list[str]]:
    """Grant target -> the ARNs it stands for (the tables, then each index of specs.INDEXES)."""
    arns = {
        specs.SESSIONS: tables.sessions.table_arn,
        specs.CONNECTIONS: tables.connections.table_arn,
        specs.RATE_LIMITS: tables.rate_limits.table_arn,
    }
    resources = {target: [arn] for target, arn in arns.items()}
    for target, (table, index) in specs.INDEXES.items():
        resources[target] = [f"{arns[table]}/index/{index}"]
    return resources


def statements(
    function: specs.FunctionSpec, tables: SessionTables, api: SessionWebSocketApi
) -> list[iam.PolicyStatement]:
    """One statement per grant of ``function``, in the spec's order."""
    resources = table_resources(tables)
    result = []
    for grant in function.grants:
        if grant.target == specs.CONNECTIONS_API:
            result.append(
                iam.PolicyStatement(
                    sid=MANAGE_CONNECTIONS_SID,
                    actions=[MANAGE_CONNECTIONS],
                    resources=[api.connections_arn(method) for method in grant.actions],
                )
            )
        else:
            result.append(
                iam.PolicyStatement(
                    sid=_sid(grant.target),
                    actions=list(grant.actions),
                    resources=resources[grant.target],
                )
            )
    return result


def wildcard_findings(
    function: specs.FunctionSpec,
    config: EnvironmentConfig,
    arn_environment: tuple[str, str, str],
    api_logical_id: str,
) -> list[str]:
    """The ``AwsSolutions-IAM5`` findings of ``function``'s @connections grants, as cdk-nag
    spells them (``arn_environment``: partition, region, account, each the literal or the
    pseudo parameter, e.g. ``<AWS::Region>`` in a portable stack)."""
    partition, region, account = arn_environment
    return [
        f"AwsSolutions-IAM5[Resource::arn:{partition}:execute-api:{region}:"
        f"{account}:<{api_logical_id}>/{config.stage_name}/{method}/@connections/*]"
        for grant in function.grants
        if grant.target == specs.CONNECTIONS_API
        for method in grant.actions
    ]


def _sid(target: str) -> str:
    return "".join(part.capitalize() for part in target.split("_"))
