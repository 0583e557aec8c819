"""Checklist "Task 13.3: Deploy API Gateway", on every environment's template."""

from __future__ import annotations

from typing import Any

import pytest

from session_service import constants, specs

from .conftest import Synthesized

pytestmark = pytest.mark.infra

ROUTE_FUNCTIONS = {
    "$connect": "ConnectionHandlerFunction",
    "$disconnect": "DisconnectHandlerFunction",
    "heartbeat": "HeartbeatHandlerFunction",
    "refreshConnection": "RefreshHandlerFunction",
    "$default": "HeartbeatHandlerFunction",
}


def invocation_uri(function_id: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/",
                {"Fn::GetAtt": [function_id, "Arn"]},
                "/invocations",
            ],
        ]
    }


def route(synth: Synthesized, route_key: str) -> dict[str, Any]:
    found = [
        resource["Properties"]
        for resource in synth.resources("AWS::ApiGatewayV2::Route").values()
        if resource["Properties"]["RouteKey"] == route_key
    ]
    assert len(found) == 1, f"expected one {route_key} route"
    return found[0]


def assert_route_invokes(synth: Synthesized, route_key: str) -> dict[str, Any]:
    """The route targets a Lambda proxy integration of the function that serves it."""
    properties = route(synth, route_key)
    assert properties["ApiId"] == {"Ref": "WebSocketApi"}
    target = properties["Target"]["Fn::Join"][1]
    assert target[0] == "integrations/"
    integration = synth.properties(target[1]["Ref"])
    assert integration["ApiId"] == {"Ref": "WebSocketApi"}
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationMethod"] == "POST"
    assert integration["IntegrationUri"] == invocation_uri(ROUTE_FUNCTIONS[route_key])
    handler = specs.ROUTES[route_key].function
    function = synth.properties(ROUTE_FUNCTIONS[route_key])
    assert function["FunctionName"] == specs.FUNCTIONS[handler].function_name(synth.env)
    return properties


def test_websocket_api_created(synth: Synthesized) -> None:
    apis = synth.resources("AWS::ApiGatewayV2::Api")
    assert list(apis) == ["WebSocketApi"]
    assert apis["WebSocketApi"]["Properties"]["Name"] == f"session-websocket-api-{synth.env}"
    assert apis["WebSocketApi"]["Properties"]["RouteSelectionExpression"] == "$request.body.action"


def test_api_has_protocol_type_websocket(synth: Synthesized) -> None:
    assert synth.properties("WebSocketApi")["ProtocolType"] == "WEBSOCKET"


def test_connect_route_configured(synth: Synthesized) -> None:
    assert_route_invokes(synth, "$connect")


def test_disconnect_route_configured(synth: Synthesized) -> None:
    assert_route_invokes(synth, "$disconnect")


def test_heartbeat_route_configured(synth: Synthesized) -> None:
    assert_route_invokes(synth, "heartbeat")


def test_refresh_connection_route_configured(synth: Synthesized) -> None:
    assert_route_invokes(synth, "refreshConnection")


def test_default_route_sends_unmatched_messages_to_the_heartbeat_function_unauthorized(
    synth: Synthesized,
) -> None:
    """Messages that match no route (not JSON, no or an unknown action) reach $default, whose
    function answers with the protocol's error message instead of API Gateway's "Forbidden".
    Like every route but $connect it carries no authorizer (API Gateway accepts none there)."""
    properties = assert_route_invokes(synth, "$default")
    assert properties["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in properties
    # its own integration, not the heartbeat route's: the routes stay independent
    assert properties["Target"] != route(synth, "heartbeat")["Target"]


def test_routes_are_exactly_the_shared_routes(synth: Synthesized) -> None:
    keys = {
        r["Properties"]["RouteKey"] for r in synth.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert keys == set(specs.ROUTES)


def test_lambda_authorizer_configured(synth: Synthesized) -> None:
    authorizers = synth.resources("AWS::ApiGatewayV2::Authorizer")
    assert list(authorizers) == ["WebSocketAuthorizer"]
    properties = authorizers["WebSocketAuthorizer"]["Properties"]
    assert properties["ApiId"] == {"Ref": "WebSocketApi"}
    assert properties["AuthorizerType"] == "REQUEST"
    assert properties["Name"] == constants.AUTHORIZER_NAME
    assert properties["AuthorizerUri"] == invocation_uri("AuthorizerFunction")
    # An identity source would make API Gateway refuse anonymous listeners with 401 unseen.
    assert "IdentitySource" not in properties


def test_authorizer_attached_to_connect_route(synth: Synthesized) -> None:
    properties = route(synth, "$connect")
    assert properties["AuthorizationType"] == "CUSTOM"
    assert properties["AuthorizerId"] == {"Ref": "WebSocketAuthorizer"}


def test_authorizer_attached_to_refresh_connection_route_by_connect_identity(
    synth: Synthesized,
) -> None:
    """API Gateway takes an authorizer on $connect only (a route authorizer fails to deploy).

    refreshConnection is protected by the identity $connect established: the route has no
    authorizer of its own, and the only way onto a connection is the authorized $connect.
    """
    refresh = route(synth, "refreshConnection")
    assert refresh["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in refresh
    for route_key in ("$disconnect", "heartbeat", "$default"):
        assert "AuthorizerId" not in route(synth, route_key)
    assert route(synth, "$connect")["AuthorizerId"] == {"Ref": "WebSocketAuthorizer"}


def test_production_stage_deployed(synth: Synthesized) -> None:
    stages = synth.resources("AWS::ApiGatewayV2::Stage")
    assert list(stages) == ["WebSocketStage"]
    stage = stages["WebSocketStage"]
    assert stage["Properties"]["StageName"] == synth.config.stage_name == "prod"
    assert stage["Properties"]["ApiId"] == {"Ref": "WebSocketApi"}
    assert stage["Properties"]["AutoDeploy"] is True
    # auto-deploy deploys what exists: the stage comes after every route
    route_ids = set(synth.resources("AWS::ApiGatewayV2::Route"))
    assert route_ids <= set(stage["DependsOn"])


def test_stage_has_throttling_configured(synth: Synthesized) -> None:
    settings = synth.properties("WebSocketStage")["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == synth.config.throttling.rate_limit
    assert settings["ThrottlingBurstLimit"] == synth.config.throttling.burst_limit
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0


def test_stage_writes_access_logs_to_its_own_log_group(synth: Synthesized) -> None:
    access = synth.properties("WebSocketStage")["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["WebSocketAccessLogs", "Arn"]}
    assert "$context.requestId" in access["Format"]
    for secret in ("sourceIp", "connectionId", "identity"):
        assert secret not in access["Format"]
    assert synth.properties("WebSocketAccessLogs")["LogGroupName"] == (
        f"/aws/apigateway/session-websocket-api-{synth.env}/access"
    )
    account = synth.properties("ApiGatewayAccountSettings")
    assert account["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}


def execute_api_arn(synth: Synthesized, suffix: list[Any]) -> dict[str, Any]:
    config = synth.config
    return {
        "Fn::Join": [
            "",
            [
                f"arn:aws:execute-api:{config.region}:{config.account}:",
                {"Ref": "WebSocketApi"},
                *suffix,
            ],
        ]
    }


def test_api_gateway_has_permissions_to_invoke_lambda_functions(synth: Synthesized) -> None:
    permissions = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    expected = [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": execute_api_arn(synth, [f"/{synth.config.stage_name}/{route_key}"]),
        }
        for route_key, function_id in ROUTE_FUNCTIONS.items()
    ]
    expected.append(
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": execute_api_arn(synth, ["/authorizers/", {"Ref": "WebSocketAuthorizer"}]),
        }
    )
    assert sorted(permissions, key=repr) == sorted(expected, key=repr)


def manage_connections_resources(synth: Synthesized, role_id: str) -> list[Any]:
    resources: list[Any] = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            if "execute-api:ManageConnections" in (
                actions if isinstance(actions, list) else [actions]
            ):
                found = statement["Resource"]
                resources += found if isinstance(found, list) else [found]
    return resources


def test_lambda_functions_have_permissions_for_api_gateway_management_api(
    synth: Synthesized,
) -> None:
    """Functions that post to clients may, on this API's stage only; the others may not."""
    stage = synth.config.stage_name
    expected = {
        "HeartbeatHandlerRole": ["POST"],
        "DisconnectHandlerRole": ["POST"],
        "RefreshHandlerRole": ["POST"],
        "ConnectionHandlerRole": [],
        "AuthorizerRole": [],
    }
    for role_id, methods in expected.items():
        expected_arns = [
            execute_api_arn(synth, [f"/{stage}/{method}/@connections/*"]) for method in methods
        ]
        actual = manage_connections_resources(synth, role_id)
        assert sorted(actual, key=repr) == sorted(expected_arns, key=repr), role_id
