"""The protocol's error table, the errors' details and the messages' shapes."""

from __future__ import annotations

import json

from session_service import messages
from session_service.exceptions import ERROR_STATUS, InvalidParameters, RateLimitExceeded
from session_service.models import Connection, Role

SPEC_ERRORS = {
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "INVALID_PARAMETERS": 400,
    "INVALID_SESSION_ID": 400,
    "UNSUPPORTED_LANGUAGE": 400,
    "INVALID_ACTION": 400,
    "SESSION_NOT_FOUND": 404,
    "RATE_LIMIT_EXCEEDED": 429,
    "SESSION_FULL": 503,
    "INTERNAL_ERROR": 500,
}


def test_error_codes_and_statuses_are_exactly_the_specs() -> None:
    assert ERROR_STATUS == SPEC_ERRORS


def test_rate_limit_error_carries_retry_after_of_at_least_one_second() -> None:
    assert RateLimitExceeded("slow down", 0).details == {"retryAfter": 1}
    assert RateLimitExceeded("slow down", 42, {"limit": "x"}).details["retryAfter"] == 42


def test_messages_have_type_and_timestamp_and_spec_fields() -> None:
    listener = Connection("c1", "brave-otter-321", Role.LISTENER, "en", 1000, 2000, "es")
    joined = messages.session_joined(listener, 5)
    assert joined == {
        "type": "sessionJoined",
        "timestamp": 5,
        "sessionId": "brave-otter-321",
        "sourceLanguage": "en",
        "targetLanguage": "es",
        "connectionId": "c1",
    }
    error = messages.error(InvalidParameters("bad", {"parameter": "x"}), 7)
    assert json.loads(messages.encode(error)) == {
        "type": "error",
        "timestamp": 7,
        "code": "INVALID_PARAMETERS",
        "message": "bad",
        "details": {"parameter": "x"},
    }
