"""Small helpers over the low-level DynamoDB client: attribute values and SDK errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from session_service.data.errors import StoreError

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


@contextmanager
def sdk_errors(operation: str) -> Iterator[None]:
    """Turn any SDK failure inside the block into :class:`StoreError` (the SDK's as its cause).

    Expected conditions are handled inside the block, so what reaches here is unexpected.
    """
    try:
        yield
    except ClientError as exc:
        raise StoreError(f"DynamoDB {operation} failed: {error_code(exc) or exc}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"DynamoDB {operation} failed: {exc}") from exc


@dataclass(frozen=True)
class Cancelled:
    """A transaction that one or more of its items' conditions cancelled."""

    reasons: list[dict[str, Any]]

    def failed(self, index: int) -> bool:
        """True when item ``index`` failed its condition."""
        reasons = self.reasons
        return index < len(reasons) and reasons[index].get("Code") == REASON_CONDITION_FAILED

    def old_item(self, index: int) -> Item | None:
        """Item ``index`` as the refusal found it (``ReturnValuesOnConditionCheckFailure``)."""
        item = self.reasons[index].get("Item") if index < len(self.reasons) else None
        return item if isinstance(item, dict) and item else None


def transact(client: Any, items: list[dict[str, Any]]) -> Cancelled | None:
    """Run one TransactWriteItems; ``None`` when it committed, else which conditions failed.

    A transaction cancelled for any other reason (a conflict with another transaction,
    throttling) raises :class:`StoreError`: no caller has an answer for it but to fail.
    """
    with sdk_errors("TransactWriteItems"):
        try:
            client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != TRANSACTION_CANCELED:
                raise
            reasons = exc.response.get("CancellationReasons")
            cancelled = Cancelled(list(reasons) if isinstance(reasons, list) else [])
            if not any(cancelled.failed(i) for i in range(len(cancelled.reasons))):
                raise
            return cancelled
    return None
