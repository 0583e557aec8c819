"""The three DynamoDB tables, built from ``constants.TABLES`` (names, keys, TTL, GSI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.nag import acknowledge
from session_service import constants

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig

_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}
_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
# construct id per table key of constants.TABLES
_CONSTRUCT_IDS = {"sessions": "Sessions", "connections": "Connections", "rate_limits": "RateLimits"}
# fixed logical ids: SessionsTable, ConnectionsTable, RateLimitsTable


class SessionTables(Construct):
    """Sessions, Connections (with its GSI) and RateLimits: on-demand, TTL, PITR per config."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        production = config.production
        removal = RemovalPolicy.RETAIN if production.deletion_protection else RemovalPolicy.DESTROY
        self.tables: dict[str, dynamodb.Table] = {}
        for key, shape in constants.TABLES.items():
            table = dynamodb.Table(
                self,
                _CONSTRUCT_IDS[key],
                table_name=str(shape["name"]).format(env=config.env),
                partition_key=dynamodb.Attribute(
                    name=str(shape["partition_key"]), type=dynamodb.AttributeType.STRING
                ),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                time_to_live_attribute=str(shape["ttl_attribute"]),
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=production.point_in_time_recovery
                ),
                deletion_protection=production.deletion_protection,
                removal_policy=removal,
            )
            for index in shape["indexes"]:  # type: ignore[attr-defined]
                table.add_global_secondary_index(
                    index_name=index["name"],
                    partition_key=dynamodb.Attribute(
                        name=index["partition_key"], type=dynamodb.AttributeType.STRING
                    ),
                    sort_key=dynamodb.Attribute(
                        name=index["sort_key"],
                        type=_ATTRIBUTE_TYPES[index.get("sort_key_type", "S")],
                    ),
                    projection_type=_PROJECTIONS[index["projection"]],
                    non_key_attributes=list(index["include"]) if index.get("include") else None,
                )
            if not production.point_in_time_recovery:
                acknowledge(
                    table,
                    "AwsSolutions-DDB3",
                    (
                        f"Point-in-time recovery is a production switch (off in {config.env}): "
                        "the items are short-lived (sessions 2 h, connections 3 h, rate windows "
                        "minutes) and a non-production environment can be rebuilt empty."
                    ),
                )
            table.node.default_child.override_logical_id(  # type: ignore[union-attr]
                f"{_CONSTRUCT_IDS[key]}Table"
            )
            self.tables[key] = table

    @property
    def sessions(self) -> dynamodb.Table:
        return self.tables["sessions"]

    @property
    def connections(self) -> dynamodb.Table:
        return self.tables["connections"]

    @property
    def rate_limits(self) -> dynamodb.Table:
        return self.tables["rate_limits"]
