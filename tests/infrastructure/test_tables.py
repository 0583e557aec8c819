"""Checklist "Task 13.1: Deploy DynamoDB Tables", on every environment's template."""

from __future__ import annotations

from typing import Any

import pytest

from session_service import constants

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def table(synth: Synthesized, name_template: str) -> dict[str, Any]:
    name = name_template.format(env=synth.env)
    found = [
        resource["Properties"]
        for resource in synth.resources("AWS::DynamoDB::Table").values()
        if resource["Properties"]["TableName"] == name
    ]
    assert len(found) == 1, f"expected one table named {name}, found {len(found)}"
    return found[0]


def assert_ttl(properties: dict[str, Any], attribute: str) -> None:
    assert properties["TimeToLiveSpecification"] == {"AttributeName": attribute, "Enabled": True}


def assert_on_demand(properties: dict[str, Any]) -> None:
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties
    for index in properties.get("GlobalSecondaryIndexes", []):
        assert "ProvisionedThroughput" not in index


def test_sessions_table_deployed(synth: Synthesized) -> None:
    properties = table(synth, constants.SESSIONS_TABLE_TEMPLATE)
    assert properties["KeySchema"] == [{"AttributeName": "sessionId", "KeyType": "HASH"}]
    # sessionId, then the keys of the janitor's sweep index (test_table_shapes.py)
    types = {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]}
    assert types == {"sessionId": "S", "sweep": "S", "endedAt": "N"}


def test_sessions_table_has_ttl_enabled_on_expires_at(synth: Synthesized) -> None:
    assert_ttl(table(synth, constants.SESSIONS_TABLE_TEMPLATE), "expiresAt")


def test_sessions_table_uses_on_demand_billing(synth: Synthesized) -> None:
    assert_on_demand(table(synth, constants.SESSIONS_TABLE_TEMPLATE))


def test_connections_table_deployed(synth: Synthesized) -> None:
    properties = table(synth, constants.CONNECTIONS_TABLE_TEMPLATE)
    assert properties["KeySchema"] == [{"AttributeName": "connectionId", "KeyType": "HASH"}]


def test_connections_table_has_ttl_enabled_on_ttl(synth: Synthesized) -> None:
    assert_ttl(table(synth, constants.CONNECTIONS_TABLE_TEMPLATE), "ttl")


def test_connections_table_has_gsi_session_id_target_language_index(synth: Synthesized) -> None:
    properties = table(synth, constants.CONNECTIONS_TABLE_TEMPLATE)
    indexes = properties["GlobalSecondaryIndexes"]
    # the checklist's index, then the janitor's liveness index (test_table_shapes.py)
    assert [i["IndexName"] for i in indexes] == [
        "sessionId-targetLanguage-index",
        "liveness-heardAt-index",
    ]
    assert indexes[:1] == [
        {
            "IndexName": "sessionId-targetLanguage-index",
            "KeySchema": [
                {"AttributeName": "sessionId", "KeyType": "HASH"},
                {"AttributeName": "targetLanguage", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    types = {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]}
    assert types == {
        "connectionId": "S",
        "sessionId": "S",
        "targetLanguage": "S",
        "liveness": "S",
        "heardAt": "N",
    }


def test_connections_table_uses_on_demand_billing(synth: Synthesized) -> None:
    assert_on_demand(table(synth, constants.CONNECTIONS_TABLE_TEMPLATE))


def test_rate_limits_table_deployed(synth: Synthesized) -> None:
    properties = table(synth, constants.RATE_LIMITS_TABLE_TEMPLATE)
    assert properties["KeySchema"] == [{"AttributeName": "identifier", "KeyType": "HASH"}]


def test_rate_limits_table_has_ttl_enabled_on_expires_at(synth: Synthesized) -> None:
    assert_ttl(table(synth, constants.RATE_LIMITS_TABLE_TEMPLATE), "expiresAt")


def test_rate_limits_table_uses_on_demand_billing(synth: Synthesized) -> None:
    assert_on_demand(table(synth, constants.RATE_LIMITS_TABLE_TEMPLATE))


def test_tables_are_built_from_the_shared_table_shapes(synth: Synthesized) -> None:
    """Every shape of constants.TABLES is a table, and there is no other table."""
    names = {
        resource["Properties"]["TableName"]
        for resource in synth.resources("AWS::DynamoDB::Table").values()
    }
    assert names == {str(s["name"]).format(env=synth.env) for s in constants.TABLES.values()}


def test_tables_are_retained_and_protected_in_production_and_destroyable_elsewhere(
    synth: Synthesized,
) -> None:
    tables = synth.resources("AWS::DynamoDB::Table").values()
    production = synth.env == "prod"
    for resource in tables:
        assert resource["Properties"]["DeletionProtectionEnabled"] is production
        expected_policy = "Retain" if production else "Delete"
        assert resource["DeletionPolicy"] == expected_policy
        assert resource["UpdateReplacePolicy"] == expected_policy
