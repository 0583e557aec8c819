"""DynamoDB transactions in moto's server that cost what their items cost, atomic as DynamoDB's.

moto 5.2.5's ``DynamoDBBackend.transact_write_items`` deep-copies every table a transaction
touches before it starts ("Create a backup in case any of the transactions fail"), on every
call. Every listener join and leave is a transaction, so under load each one costs time
proportional to the whole table, and a thread writing the table meanwhile makes the copy fail
(``dictionary changed size during iteration``), which moto's server answers as an internal error.

:func:`install` changes two things in this process's moto, for the local environment's server:

- every DynamoDB request runs under one lock, so a transaction is atomic against every other
  request, as DynamoDB isolates a transaction from every other write to its items (moto's
  threaded server otherwise runs requests side by side on the same dictionaries);
- ``transact_write_items`` backs up only the items it touches and, when it is cancelled,
  restores only those; what it writes, the checks it makes and the errors it raises (the
  ``TransactionCanceledException`` with one cancellation reason per action, the item for
  ``ReturnValuesOnConditionCheckFailure``) are moto's.

``tests/local_env/test_moto_transactions.py`` pins moto's version and proves the copy is still
there: drop this module when moto stops copying tables.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

# One DynamoDB request at a time: moto's work is Python under the GIL either way.
_REQUESTS = threading.RLock()
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
_MAX_ACTIONS = 100
# Errors after which moto undoes the transaction and raises them as they are.
_RAISED = (MultipleTransactionsException, MockValidationException)

Key = dict[str, Any]


class _ConditionFailed(ConditionalCheckFailed):
    """moto's condition failure, keeping the item it returns (``ALL_OLD``) for the reason."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__(item=item)
        self.item = item


Backup = tuple[str, Key, dict[str, Any] | None]  # table, key, the item's attributes (or none)


def _item_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> Key:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attributes = op["Item"]
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: Key) -> None:
    """Check the action's condition, then do its write (as moto's transaction does)."""
    table_name = op["TableName"]
    condition = op.get("ConditionExpression")
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    current = backend.get_item(table_name, key)
    if condition is not None and not get_filter_expression(condition, names, values).expr(current):
        returned = None
        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
            returned = current.to_json()["Attributes"]
        raise _ConditionFailed(returned)
    checks: dict[str, Any] = {
        "condition_expression": condition,
        "expression_attribute_names": names,
        "expression_attribute_values": values,
    }
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **checks)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **checks)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **checks)


def _restore(backend: DynamoDBBackend, backups: list[Backup]) -> None:
    """Put every touched item back as it was before the transaction, last touched first."""
    for table_name, key, attributes in reversed(backups):
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's ``transact_write_items``, with a backup of the touched items instead of tables."""
    if len(transact_items) > _MAX_ACTIONS:
        raise TooManyTransactionsException()
    backups: list[Backup] = []
    touched: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    try:
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            returned: dict[str, Any] | None = None
            try:
                if op_type not in _ACTIONS:
                    raise ValueError("Unsupported transaction operation")
                key = _item_key(self, op_type, op)
                identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
                if identity in touched:
                    raise MultipleTransactionsException()
                touched.add(identity)
                current = self.get_item(op["TableName"], key)
                backups.append(
                    (
                        op["TableName"],
                        key,
                        None if current is None else current.to_json()["Attributes"],
                    )
                )
                _apply(self, op_type, op, key)
                errors.append((None, None, None))
            except _RAISED:
                raise
            except ConditionalCheckFailed as failed:
                returned = failed.item if isinstance(failed, _ConditionFailed) else None
                errors.append(("ConditionalCheckFailed", str(failed.message), returned))
            except Exception as failed:  # moto reports any other error as the action's reason
                errors.append((type(failed).__name__, str(failed), returned))
    except BaseException:
        _restore(self, backups)
        raise
    if any(code is not None for code, _, _ in errors):
        _restore(self, backups)
        raise TransactionCanceledException(errors)


def _locked_call_action(self: DynamoHandler) -> Any:
    with _REQUESTS:
        return _original_call_action(self)


_original_call_action = DynamoHandler.call_action
_original_transact_write_items = DynamoDBBackend.transact_write_items


def install() -> None:
    """Use the item-level transactions and the request lock in this process (idempotent)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoHandler.call_action = _locked_call_action  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it ships (the tests compare the two)."""
    DynamoDBBackend.transact_write_items = _original_transact_write_items  # type: ignore[method-assign]
    DynamoHandler.call_action = _original_call_action  # type: ignore[method-assign]
