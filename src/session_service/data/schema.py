"""``constants.TABLES`` as DynamoDB ``create_table`` arguments.

The CDK construct builds the tables from ``constants.TABLES``; the tests and the local
environment create the same tables in moto from it through :func:`create_table_requests`.
"""

from __future__ import annotations

from typing import Any

from session_service import constants as c


def table_name(key: str, env: str) -> str:
    """The name of table ``key`` (``sessions``, ``connections``, ``rate_limits``) in ``env``."""
    return str(c.TABLES[key]["name"]).format(env=env)


def create_table_request(key: str, env: str) -> dict[str, Any]:
    """Keyword arguments of ``create_table`` for table ``key`` (on-demand billing)."""
    shape = c.TABLES[key]
    attributes = {str(shape["partition_key"]): "S"}
    indexes: list[dict[str, Any]] = []
    for index in shape["indexes"]:  # type: ignore[attr-defined]
        schema = [{"AttributeName": index["partition_key"], "KeyType": "HASH"}]
        attributes[index["partition_key"]] = "S"
        if index.get("sort_key"):
            schema.append({"AttributeName": index["sort_key"], "KeyType": "RANGE"})
            attributes[index["sort_key"]] = index.get("sort_key_type", "S")
        projection: dict[str, Any] = {"ProjectionType": index.get("projection", "ALL")}
        if index.get("include"):
            projection["NonKeyAttributes"] = list(index["include"])
        indexes.append({"IndexName": index["name"], "KeySchema": schema, "Projection": projection})
    request: dict[str, Any] = {
        "TableName": table_name(key, env),
        "KeySchema": [{"AttributeName": shape["partition_key"], "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in sorted(attributes.items())
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    return request


def time_to_live_request(key: str, env: str) -> dict[str, Any]:
    """Keyword arguments of ``update_time_to_live`` for table ``key``."""
    return {
        "TableName": table_name(key, env),
        "TimeToLiveSpecification": {
            "Enabled": True,
            "AttributeName": str(c.TABLES[key]["ttl_attribute"]),
        },
    }


def create_tables(client: Any, env: str) -> dict[str, str]:
    """Create every table of ``env`` with its TTL through ``client``; returns key -> name."""
    names = {}
    for key in c.TABLES:
        client.create_table(**create_table_request(key, env))
        client.update_time_to_live(**time_to_live_request(key, env))
        names[key] = table_name(key, env)
    return names
