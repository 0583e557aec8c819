"""Arbitrary query strings, bodies and headers: every handler answers with a defined error code
or its normal answer, and never raises (the authorizer raises only ``Unauthorized``)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_service.exceptions import ERROR_STATUS
from session_service.handlers import authorizer, connect, disconnect, heartbeat, refresh

from .conftest import App

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(max_size=40)
values = st.one_of(
    text,
    st.sampled_from(
        [
            "createSession",
            "joinSession",
            "refreshConnection",
            "speaker",
            "listener",
            "en",
            "es",
            "premium",
            "brave-otter-321",
            "heartbeat",
        ]
    ),
)
queries = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(
            [
                "action",
                "sessionId",
                "sourceLanguage",
                "targetLanguage",
                "role",
                "qualityTier",
                "token",
            ]
        )
        | text,
        values,
        max_size=7,
    ),
    st.lists(text, max_size=3),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.none(),
    text,
    json_values.map(json.dumps),
    st.dictionaries(st.just("action") | text, json_values, max_size=3).map(json.dumps),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
headers = st.one_of(st.none(), st.dictionaries(text, text, max_size=3), text)
authorizer_contexts = st.one_of(
    st.none(),
    text,
    st.fixed_dictionaries(
        {},
        optional={
            "userId": st.one_of(text, st.integers()),
            "rateLimited": st.one_of(st.booleans(), text),
            "retryAfter": st.one_of(st.integers(), text, st.none()),
        },
    ),
)


def events(route: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "queryStringParameters": queries,
            "headers": headers,
            "body": bodies,
            "isBase64Encoded": st.booleans(),
            "requestContext": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {"routeKey": st.just(route)},
                    optional={
                        "connectionId": st.one_of(text, st.integers()),
                        "identity": st.one_of(
                            st.none(),
                            st.fixed_dictionaries({"sourceIp": st.one_of(text, st.integers())}),
                        ),
                        "authorizer": authorizer_contexts,
                    },
                ),
            ),
        }
    )


def assert_defined_answer(response: dict[str, Any]) -> None:
    assert response["statusCode"] in (200, *ERROR_STATUS.values())
    if response["statusCode"] != 200:
        error = json.loads(response["body"])
        assert error["type"] == "error"
        assert ERROR_STATUS[error["code"]] == response["statusCode"]


@FUZZ
@given(event=events("$connect"))
def test_connect_answers_every_input_with_a_defined_code(app: App, event: dict) -> None:
    assert_defined_answer(connect.handler(event, None, app.services["connection"]))


@FUZZ
@given(event=events("heartbeat"))
def test_heartbeat_answers_every_input_with_a_defined_code(app: App, event: dict) -> None:
    app.clock.advance(10)
    assert_defined_answer(heartbeat.handler(event, None, app.services["heartbeat"]))
    for _, message in app.management.posts:
        assert message["type"] in ("error", "heartbeatAck", "sessionCreated", "sessionJoined")
        if message["type"] == "error":
            assert message["code"] in ERROR_STATUS


@FUZZ
@given(event=events("refreshConnection"))
def test_refresh_answers_every_input_with_a_defined_code(app: App, event: dict) -> None:
    assert_defined_answer(refresh.handler(event, None, app.services["refresh"]))


@FUZZ
@given(event=events("$disconnect"))
def test_disconnect_never_fails_on_any_input(app: App, event: dict) -> None:
    assert disconnect.handler(event, None, app.services["disconnect"]) == {"statusCode": 200}


@FUZZ
@given(event=events("$connect"), arn=st.one_of(st.none(), text))
def test_authorizer_allows_or_raises_unauthorized_for_every_input(
    app: App, event: dict, arn: str | None
) -> None:
    event = {**event, "methodArn": arn}
    outcome: dict[str, Any] = {}
    try:
        outcome["result"] = authorizer.handler(event, None, app.services["authorizer"])
    except Exception as exc:  # the one exception the contract allows, checked below
        outcome["error"] = exc
    if "error" in outcome:
        assert type(outcome["error"]) is Exception
        assert str(outcome["error"]) == "Unauthorized"
        return
    result = outcome["result"]
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert set(result["context"]) == {"userId", "rateLimited", "retryAfter"}
