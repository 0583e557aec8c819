"""Stack outputs with fixed ids: what ci/ and the local environment find the deployment by."""

from __future__ import annotations

import pytest

from session_service import constants, specs

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def endpoint(synth: Synthesized, scheme: str) -> dict[str, object]:
    config = synth.config
    return {
        "Fn::Join": [
            "",
            [
                f"{scheme}://",
                {"Ref": "WebSocketApi"},
                f".execute-api.{config.region}.amazonaws.com/{config.stage_name}",
            ],
        ]
    }


def test_stack_outputs_have_the_fixed_ids(synth: Synthesized) -> None:
    c = constants
    expected = {
        c.OUTPUT_WEBSOCKET_URL,
        c.OUTPUT_CALLBACK_URL,
        c.OUTPUT_API_ID,
        c.OUTPUT_STAGE_NAME,
        c.OUTPUT_SESSIONS_TABLE,
        c.OUTPUT_CONNECTIONS_TABLE,
        c.OUTPUT_RATE_LIMITS_TABLE,
        *(spec.output_id for spec in specs.FUNCTIONS.values()),
        c.OUTPUT_ALARM_TOPIC_ARN,
        c.OUTPUT_DASHBOARD_NAME,
        c.OUTPUT_USER_POOL_ID,
        c.OUTPUT_APP_CLIENT_ID,
    }
    assert set(synth.raw["Outputs"]) == expected


def test_stack_outputs_locate_the_deployment(synth: Synthesized) -> None:
    c = constants
    outputs = {key: value["Value"] for key, value in synth.raw["Outputs"].items()}
    assert outputs[c.OUTPUT_WEBSOCKET_URL] == endpoint(synth, "wss")
    assert outputs[c.OUTPUT_CALLBACK_URL] == endpoint(synth, "https")
    assert outputs[c.OUTPUT_API_ID] == {"Ref": "WebSocketApi"}
    assert outputs[c.OUTPUT_STAGE_NAME] == {"Ref": "WebSocketStage"}
    assert outputs[c.OUTPUT_SESSIONS_TABLE] == {"Ref": "SessionsTable"}
    assert outputs[c.OUTPUT_CONNECTIONS_TABLE] == {"Ref": "ConnectionsTable"}
    assert outputs[c.OUTPUT_RATE_LIMITS_TABLE] == {"Ref": "RateLimitsTable"}
    for handler, output_id in ((k, s.output_id) for k, s in specs.FUNCTIONS.items()):
        function_id = outputs[output_id]["Ref"]
        name = synth.properties(function_id)["FunctionName"]
        assert name == specs.FUNCTIONS[handler].function_name(synth.env)
    assert outputs[c.OUTPUT_ALARM_TOPIC_ARN] == {"Ref": "AlarmTopic"}
    assert outputs[c.OUTPUT_USER_POOL_ID] == synth.config.cognito.user_pool_id
    assert outputs[c.OUTPUT_APP_CLIENT_ID] == synth.config.cognito.app_client_id
