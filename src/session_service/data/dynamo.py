"""Small helpers over the low-level DynamoDB client: attribute values and SDK errors."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

Item = dict[str, dict[str, Any]]

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
REASON_CONDITION_FAILED = "ConditionalCheckFailed"


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


def b(value: bool) -> dict[str, bool]:
    return {"BOOL": value}


def plain(item: Item | None) -> dict[str, Any]:
    """A DynamoDB item as plain Python values (our items hold S, N, BOOL only)."""
    result: dict[str, Any] = {}
    for name, attr in (item or {}).items():
        if "S" in attr:
            result[name] = attr["S"]
        elif "N" in attr:
            result[name] = int(float(attr["N"]))
        elif "BOOL" in attr:
            result[name] = bool(attr["BOOL"])
        elif "NULL" in attr:
            result[name] = None
    return result


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_condition_failure(exc: ClientError) -> bool:
    return error_code(exc) == CONDITION_FAILED


def failure_item(exc: ClientError) -> Item | None:
    """The item that ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` returned, if any."""
    item = exc.response.get("Item")
    return item if isinstance(item, dict) and item else None


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]] | None:
    """The per-item reasons of a cancelled transaction; ``None`` for any other error."""
    if error_code(exc) != TRANSACTION_CANCELED:
        return None
    reasons = exc.response.get("CancellationReasons")
    return list(reasons) if isinstance(reasons, list) else []


def failed(reasons: list[dict[str, Any]], index: int) -> bool:
    """True when item ``index`` of a cancelled transaction failed its condition."""
    return index < len(reasons) and reasons[index].get("Code") == REASON_CONDITION_FAILED
