"""The local environment's DynamoDB transactions (local/moto_transactions.py), via moto's server.

All or nothing, DynamoDB's cancellation reasons, no copy of whole tables, atomic against other
requests from many threads; and moto's version pinned, with the copy it still makes, so the patch
is dropped when moto stops making it.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Iterator

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from local import moto_transactions
from local.moto_server import MotoServer

TABLE = "Transactions"


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    moto_server = MotoServer()
    moto_server.start()
    yield moto_server
    moto_server.shutdown()


@pytest.fixture
def dynamodb(server: MotoServer):
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName=TABLE)


def _count(item_id: str, by: int = 1) -> dict:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"id": {"S": item_id}},
            "UpdateExpression": "ADD #c :one",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":one": {"N": str(by)}},
        }
    }


def _item(client, item_id: str) -> dict | None:
    return client.get_item(TableName=TABLE, Key={"id": {"S": item_id}}, ConsistentRead=True).get(
        "Item"
    )


def test_moto_is_the_version_whose_transactions_copy_whole_tables():
    assert moto.__version__ == "5.2.5", (
        "moto changed: check whether DynamoDBBackend.transact_write_items still deep-copies "
        "tables; if not, drop local/moto_transactions.py"
    )
    source = inspect.getsource(moto_transactions._original_transact_write_items)
    assert "copy.deepcopy(" in source


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "count": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "d"}, "keep": {"S": "yes"}})
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                _count("a"),
                {"Put": {"TableName": TABLE, "Item": {"id": {"S": "b"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"id": {"S": "d"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"id": {"S": "c"}},
                        "ConditionExpression": "attribute_exists(id)",
                    }
                },
            ]
        )
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == [
        "None",
        "None",
        "None",
        "ConditionalCheckFailed",
    ]
    assert _item(dynamodb, "a") == {"id": {"S": "a"}, "count": {"N": "1"}}
    assert _item(dynamodb, "b") is None
    assert _item(dynamodb, "d") == {"id": {"S": "d"}, "keep": {"S": "yes"}}


def test_a_failed_condition_returns_the_item_when_asked(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "full"}, "count": {"N": "5"}})
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"id": {"S": "full"}},
                        "UpdateExpression": "ADD #c :one",
                        "ConditionExpression": "#c < :max",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": "5"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        )
    [reason] = cancelled.value.response["CancellationReasons"]
    assert reason["Code"] == "ConditionalCheckFailed"
    assert reason["Item"] == {"id": {"S": "full"}, "count": {"N": "5"}}


def test_two_actions_on_one_item_are_refused_and_change_nothing(dynamodb):
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[_count("twice"), _count("twice")])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _item(dynamodb, "twice") is None


def test_a_transaction_copies_no_table(dynamodb, monkeypatch):
    for n in range(200):
        dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"filler-{n}"}})
    copied: list[type] = []
    real_deepcopy = copy.deepcopy

    def counting_deepcopy(value, *args, **kwargs):
        copied.append(type(value))
        return real_deepcopy(value, *args, **kwargs)

    monkeypatch.setattr(copy, "deepcopy", counting_deepcopy)
    dynamodb.transact_write_items(TransactItems=[_count("x"), _count("y")])
    assert Table not in copied
    # moto as it ships does copy it: the spy sees the copy when the patch is off.
    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", moto_transactions._original_transact_write_items
    )
    dynamodb.transact_write_items(TransactItems=[_count("x"), _count("y")])
    assert Table in copied


def test_transactions_from_many_threads_beside_plain_writes_lose_nothing(dynamodb):
    threads, per_thread = 6, 30
    errors: list[BaseException] = []

    def transact() -> None:
        try:
            for _ in range(per_thread):
                dynamodb.transact_write_items(TransactItems=[_count("left"), _count("right")])
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    def write(prefix: str) -> None:
        try:
            for n in range(per_thread * 2):
                dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"{prefix}-{n}"}})
        except BaseException as err:
            errors.append(err)

    torn: list[tuple[dict, dict]] = []
    done = threading.Event()

    def read() -> None:
        keys = [{"Get": {"TableName": TABLE, "Key": {"id": {"S": k}}}} for k in ("left", "right")]
        while not done.is_set():
            left, right = (
                r.get("Item", {}).get("count")
                for r in dynamodb.transact_get_items(TransactItems=keys)["Responses"]
            )
            if left != right:  # a read between a transaction's two updates
                torn.append((left, right))

    workers = [threading.Thread(target=transact) for _ in range(threads)]
    workers += [threading.Thread(target=write, args=(f"plain{n}",)) for n in range(2)]
    reader = threading.Thread(target=read)
    reader.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    done.set()
    reader.join(timeout=30)
    assert errors == []
    assert torn == []
    expected = str(threads * per_thread)
    assert _item(dynamodb, "left")["count"] == {"N": expected}
    assert _item(dynamodb, "right")["count"] == {"N": expected}
