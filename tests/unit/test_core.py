"""Pure logic: validation, session ids, messages, errors, privacy helpers, table shapes."""

from __future__ import annotations

import json
import re

import pytest

from session_service import constants as c
from session_service import messages, validation
from session_service.data.schema import create_table_request, time_to_live_request
from session_service.exceptions import (
    ERROR_STATUS,
    InvalidParameters,
    InvalidSessionId,
    RateLimitExceeded,
    UnsupportedLanguage,
)
from session_service.handlers._runtime import caller, message_body
from session_service.models import Connection, Role
from session_service.observability import hash_id, truncate_ip
from session_service.session_ids import (
    ADJECTIVES,
    BLOCKED_PAIRS,
    NOUNS,
    generate_session_id,
    is_blocked,
)

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


def test_word_lists_have_over_a_hundred_distinct_lowercase_words() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(set(words)) == len(words) >= 100
        assert all(re.fullmatch(r"[a-z]{2,20}", w) for w in words)


def test_generated_ids_have_the_protocol_shape_and_avoid_the_blocklist() -> None:
    for _ in range(2000):
        session_id = generate_session_id()
        assert validation.SESSION_ID_RE.match(session_id)
        adjective, noun, number = session_id.split("-")
        assert adjective in ADJECTIVES
        assert noun in NOUNS
        assert 100 <= int(number) <= 999
        assert not is_blocked(session_id)


def test_blocked_pairs_use_listed_words_and_are_blocked_with_any_number() -> None:
    for adjective, noun in BLOCKED_PAIRS:
        assert adjective in ADJECTIVES
        assert noun in NOUNS
        assert is_blocked(f"{adjective}-{noun}-123")
    assert is_blocked("brave-otter-666")
    assert not is_blocked("brave-otter-667")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "brave-otter",
        "brave-otter-99",
        "Brave-otter-123",
        "brave-otter-1000",
        "brave_otter_123",
        "a-b-123",
    ],
)
def test_malformed_session_ids_are_refused(value: str) -> None:
    with pytest.raises(InvalidSessionId):
        validation.session_id(value)


def test_language_outside_the_supported_list_is_refused_with_the_list() -> None:
    assert validation.language("es", {"en", "es"}, "targetLanguage") == "es"
    with pytest.raises(UnsupportedLanguage) as raised:
        validation.language("EN", {"en", "es"}, "targetLanguage")
    assert raised.value.details["supported"] == ["en", "es"]


def test_missing_or_oversized_parameter_is_refused_naming_it() -> None:
    with pytest.raises(InvalidParameters, match="sessionId"):
        validation.required({}, "sessionId", "an id")
    with pytest.raises(InvalidParameters, match="too long"):
        validation.required({"sessionId": "x" * 1000}, "sessionId", "an id")


def test_ip_addresses_are_truncated_to_their_network() -> None:
    assert truncate_ip("203.0.113.77") == "203.0.113.0/24"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert truncate_ip("not an ip") == "invalid"


def test_connection_ids_are_hashed_stably_and_irreversibly() -> None:
    assert hash_id("abc=") == hash_id("abc=") != hash_id("abd=")
    assert "abc" not in hash_id("abc=")
    assert len(hash_id("abc=")) == 16


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


def test_table_requests_follow_constants_tables() -> None:
    request = create_table_request("connections", "dev")
    assert request["TableName"] == "Connections-dev"
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = request["GlobalSecondaryIndexes"]
    assert index["IndexName"] == c.CONNECTIONS_GSI_NAME
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["sessionId", "targetLanguage"]
    ttl = time_to_live_request("rate_limits", "dev")["TimeToLiveSpecification"]
    assert ttl == {"Enabled": True, "AttributeName": "expiresAt"}
