"""Reading API Gateway events: the message body, its action, the authorizer's context."""

from __future__ import annotations

import pytest

from session_service.handlers._runtime import caller, message_body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "INVALID_PARAMETERS"),
        ("nope", "INVALID_PARAMETERS"),
        ("[1]", "INVALID_PARAMETERS"),
        ("{}", "INVALID_ACTION"),
        ('{"action":"ping"}', "INVALID_ACTION"),
        ('{"action":7}', "INVALID_ACTION"),
    ],
)
def test_message_body_is_checked_for_json_object_and_route_action(body, code) -> None:
    from session_service.exceptions import ServiceError

    with pytest.raises(ServiceError) as raised:
        message_body({"body": body}, "heartbeat")
    assert raised.value.code == code


def test_base64_message_body_is_decoded() -> None:
    event = {"body": "eyJhY3Rpb24iOiJoZWFydGJlYXQifQ==", "isBase64Encoded": True}
    assert message_body(event, "heartbeat") == {"action": "heartbeat"}


def test_authorizer_context_is_read_whether_values_arrive_typed_or_as_strings() -> None:
    typed = {
        "requestContext": {
            "connectionId": "c",
            "authorizer": {"userId": "u", "rateLimited": True, "retryAfter": 9},
        }
    }
    strings = {
        "requestContext": {
            "connectionId": "c",
            "authorizer": {"userId": "u", "rateLimited": "true", "retryAfter": "9"},
        }
    }
    assert caller(typed) == caller(strings)
    assert caller(typed).rate_limited
    assert caller(typed).retry_after == 9
