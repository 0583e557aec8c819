"""The data layer turns SDK errors into its own: gone is an outcome, the rest its exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from session_service.data.dynamo import transact
from session_service.data.errors import DeliveryFailed, StoreError
from session_service.data.management_api import ManagementApi
from session_service.logic.notifier import Notifier


def client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError({**response, **extra}, "Operation")


class Raising:
    """A client whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise self.error

        return call


def test_a_gone_connection_is_an_outcome_not_an_error() -> None:
    assert ManagementApi(Raising(client_error("GoneException", 410))).post("c", b"{}") is False


@pytest.mark.parametrize(
    "error",
    [client_error("LimitExceededException", 429), EndpointConnectionError(endpoint_url="x")],
)
def test_any_other_post_failure_is_delivery_failed_with_the_sdk_error_as_cause(
    error: Exception,
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        ManagementApi(Raising(error)).post("c", b"{}")
    assert failed.value.__cause__ is error


def test_fan_out_counts_a_failing_connection_as_undelivered_and_goes_on() -> None:
    class Poster:
        def post(self, connection_id: str, data: bytes) -> bool:
            if connection_id == "bad":
                raise DeliveryFailed("boom")
            return connection_id != "gone"

    delivered = Notifier(Poster()).post_all(["a", "bad", "gone", "b"], {"type": "x"})
    assert delivered == {"a": True, "bad": False, "gone": False, "b": True}


def test_a_transaction_cancelled_by_a_condition_says_which_item_failed() -> None:
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": {"k": {"S": "v"}}}]
    error = client_error("TransactionCanceledException", CancellationReasons=reasons)
    cancelled = transact(Raising(error), [])
    assert cancelled is not None
    assert not cancelled.failed(0)
    assert cancelled.failed(1)
    assert cancelled.old_item(1) == {"k": {"S": "v"}}


@pytest.mark.parametrize(
    "error",
    [
        client_error(
            "TransactionCanceledException",
            CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}],
        ),
        client_error("ProvisionedThroughputExceededException"),
        EndpointConnectionError(endpoint_url="x"),
    ],
)
def test_a_transaction_failing_for_another_reason_is_a_store_error(error: Exception) -> None:
    with pytest.raises(StoreError) as failed:
        transact(Raising(error), [])
    assert failed.value.__cause__ is error
