"""Task 13.1: the three DynamoDB tables, read through describe_table / describe_time_to_live.

The shapes come from ``session_service.constants.TABLES``, the same definition the CDK construct
builds from, so a table that drifts from the code's expectations fails here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ci.checks import check
from ci.model import Outcome, failed
from ci.model import check as verdict
from session_service import constants as C

if TYPE_CHECKING:
    from ci.deployment import Deployment

_KEYS = {"sessions": "sessions", "connections": "connections", "rate-limits": "rate_limits"}


def describe(dep: Deployment, key: str) -> dict[str, Any]:
    cache = dep.scratch.setdefault("tables", {})
    if key not in cache:
        dep.require_stack()
        name = dep.table_name(key)
        cache[key] = dep.clients("dynamodb").describe_table(TableName=name)["Table"]
    return cache[key]


def _deployed(dep: Deployment, key: str) -> Outcome:
    table = describe(dep, key)
    hash_key = next(
        (k["AttributeName"] for k in table["KeySchema"] if k["KeyType"] == "HASH"), None
    )
    expected_key = C.TABLES[key]["partition_key"]
    status = table.get("TableStatus")
    evidence = f"{table['TableName']}: status {status}, partition key {hash_key}"
    return verdict(
        status == "ACTIVE" and hash_key == expected_key,
        evidence,
        f"status ACTIVE, partition key {expected_key}",
    )


def _ttl(dep: Deployment, key: str) -> Outcome:
    name = dep.table_name(key)
    dep.require_stack()
    ttl = dep.clients("dynamodb").describe_time_to_live(TableName=name)
    desc = ttl.get("TimeToLiveDescription", {})
    status, attribute = desc.get("TimeToLiveStatus", "DISABLED"), desc.get("AttributeName")
    expected_attr = C.TABLES[key]["ttl_attribute"]
    return verdict(
        status in ("ENABLED", "ENABLING") and attribute == expected_attr,
        f"{name}: TTL {status} on {attribute or '(no attribute)'}",
        f"TTL ENABLED on {expected_attr}",
    )


def _billing(dep: Deployment, key: str) -> Outcome:
    table = describe(dep, key)
    mode = table.get("BillingModeSummary", {}).get("BillingMode")
    if mode is None:
        # Tables created without a billing summary are provisioned (DynamoDB omits the summary).
        mode = "PROVISIONED"
    return verdict(
        mode == "PAY_PER_REQUEST",
        f"{table['TableName']}: billing mode {mode}",
        "billing mode PAY_PER_REQUEST (on-demand)",
    )


def _gsi(dep: Deployment) -> Outcome:
    table = describe(dep, "connections")
    indexes_spec: tuple[dict[str, str], ...] = C.TABLES["connections"]["indexes"]  # type: ignore[assignment]
    # The checklist's line is about the listeners' index; the janitor's indexes are not its.
    (spec,) = [i for i in indexes_spec if i["name"] == C.CONNECTIONS_GSI_NAME]
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    index = indexes.get(spec["name"])
    expected = (
        f"index {spec['name']} ACTIVE with keys {spec['partition_key']} (HASH), "
        f"{spec['sort_key']} (RANGE), projection {spec['projection']}"
    )
    if index is None:
        return failed(f"{table['TableName']}: indexes {sorted(indexes) or 'none'}", expected)
    keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
    projection = index.get("Projection", {}).get("ProjectionType")
    status = index.get("IndexStatus", "ACTIVE")
    evidence = (
        f"{spec['name']}: {status}, keys {keys.get('HASH')} (HASH), {keys.get('RANGE')} (RANGE), "
        f"projection {projection}"
    )
    ok = (
        keys.get("HASH") == spec["partition_key"]
        and keys.get("RANGE") == spec["sort_key"]
        and projection == spec["projection"]
        and status == "ACTIVE"
    )
    return verdict(ok, evidence, expected)


def _register(label: str, key: str) -> None:
    check(f"tables.{label}.deployed")(lambda dep: _deployed(dep, key))
    check(f"tables.{label}.ttl")(lambda dep: _ttl(dep, key))
    check(f"tables.{label}.billing")(lambda dep: _billing(dep, key))


for _label, _key in _KEYS.items():
    _register(_label, _key)
check("tables.connections.gsi")(_gsi)
