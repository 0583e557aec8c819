"""Checklist "Task 13.2: Deploy Lambda Functions", on every environment's template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from session_service import constants, specs

from .conftest import Synthesized

pytestmark = pytest.mark.infra

LOGICAL_IDS = {
    "authorizer": "Authorizer",
    "connection": "ConnectionHandler",
    "heartbeat": "HeartbeatHandler",
    "disconnect": "DisconnectHandler",
    "refresh": "RefreshHandler",
    "janitor": "Janitor",
}
TABLE_IDS = {
    specs.SESSIONS: "SessionsTable",
    specs.CONNECTIONS: "ConnectionsTable",
    specs.RATE_LIMITS: "RateLimitsTable",
}

# index grant target -> (the table's logical id, the index), each index on its own ARN
INDEX_ARNS = {
    specs.CONNECTIONS_GSI: ("ConnectionsTable", "sessionId-targetLanguage-index"),
    specs.CONNECTIONS_LIVENESS: ("ConnectionsTable", "liveness-heardAt-index"),
    specs.SESSIONS_SWEEP: ("SessionsTable", "sweep-endedAt-index"),
}


def function(synth: Synthesized, handler: str) -> dict[str, Any]:
    name = specs.FUNCTIONS[handler].function_name(synth.env)
    found = [
        resource["Properties"]
        for resource in synth.resources("AWS::Lambda::Function").values()
        if resource["Properties"]["FunctionName"] == name
    ]
    assert len(found) == 1, f"expected one function named {name}"
    return found[0]


def assert_deployed(synth: Synthesized, handler: str, memory: int, timeout: int) -> None:
    properties = function(synth, handler)
    assert properties["MemorySize"] == memory
    assert properties["Timeout"] == timeout
    assert properties["Handler"] == specs.FUNCTIONS[handler].entry_point
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert set(properties["Code"]) == {"S3Bucket", "S3Key"}


def test_authorizer_function_deployed_128mb_10s_timeout(synth: Synthesized) -> None:
    assert_deployed(synth, "authorizer", 128, 10)


def test_connection_handler_deployed_256mb_30s_timeout(synth: Synthesized) -> None:
    assert_deployed(synth, "connection", 256, 30)


def test_heartbeat_handler_deployed_128mb_10s_timeout(synth: Synthesized) -> None:
    assert_deployed(synth, "heartbeat", 128, 10)


def test_disconnect_handler_deployed_256mb_30s_timeout(synth: Synthesized) -> None:
    assert_deployed(synth, "disconnect", 256, 30)


def test_refresh_handler_deployed_256mb_30s_timeout(synth: Synthesized) -> None:
    assert_deployed(synth, "refresh", 256, 30)


def test_janitor_function_deployed_256mb_60s_timeout(synth: Synthesized) -> None:
    """Beyond the checklist: a run pages through what can be stale within a minute."""
    assert_deployed(synth, "janitor", 256, 60)


def expected_environment(synth: Synthesized) -> dict[str, Any]:
    config, limits = synth.config, synth.config.limits
    c = constants
    return {
        c.ENV_ENVIRONMENT: synth.env,
        c.ENV_LOG_LEVEL: config.log_level,
        c.ENV_POWERTOOLS_SERVICE_NAME: "session-management",
        c.ENV_POWERTOOLS_METRICS_NAMESPACE: "SessionManagement",
        c.ENV_SESSIONS_TABLE: {"Ref": "SessionsTable"},
        c.ENV_CONNECTIONS_TABLE: {"Ref": "ConnectionsTable"},
        c.ENV_RATE_LIMITS_TABLE: {"Ref": "RateLimitsTable"},
        c.ENV_CALLBACK_URL: {
            "Fn::Join": [
                "",
                [
                    "https://",
                    {"Ref": "WebSocketApi"},
                    f".execute-api.{config.region}.amazonaws.com/{config.stage_name}",
                ],
            ]
        },
        c.ENV_SUPPORTED_LANGUAGES: ",".join(config.supported_languages),
        c.ENV_MAX_LISTENERS_PER_SESSION: str(limits.max_listeners_per_session),
        c.ENV_MAX_ACTIVE_SESSIONS: str(limits.max_active_sessions),
        c.ENV_SESSION_DURATION_MINUTES: str(limits.session_duration_minutes),
        c.ENV_CONNECTION_TTL_MINUTES: str(limits.connection_ttl_minutes),
        c.ENV_CONNECTION_REFRESH_MINUTES: str(limits.connection_refresh_minutes),
        c.ENV_CONNECTION_WARNING_MINUTES: str(limits.connection_warning_minutes),
        c.ENV_SESSION_CREATE_LIMIT_PER_HOUR: str(limits.session_create_limit_per_hour),
        c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: str(limits.listener_join_limit_per_minute),
        c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: str(limits.connection_attempt_limit_per_minute),
        c.ENV_HEARTBEAT_LIMIT_PER_MINUTE: str(limits.heartbeat_limit_per_minute),
        c.ENV_SPEAKER_STALENESS_SECONDS: str(limits.speaker_staleness_seconds),
        c.ENV_USER_POOL_ID: config.cognito.user_pool_id,
        c.ENV_APP_CLIENT_ID: config.cognito.app_client_id,
    }


def test_all_functions_have_correct_environment_variables(synth: Synthesized) -> None:
    """Each function gets exactly the variables its handler reads, with the configured values."""
    everything = expected_environment(synth)
    for handler, spec in specs.FUNCTIONS.items():
        variables = spec.environment
        actual = function(synth, handler)["Environment"]["Variables"]
        assert actual == {name: everything[name] for name in variables}, handler


def policy_statements(synth: Synthesized, handler: str) -> list[dict[str, Any]]:
    """The statements of every policy attached to the handler's role (inline or separate)."""
    role_id = f"{LOGICAL_IDS[handler]}Role"
    statements = [
        statement
        for policy in synth.resource(role_id)["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for resource in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def connections_arn(synth: Synthesized, method: str) -> dict[str, Any]:
    config = synth.config
    return {
        "Fn::Join": [
            "",
            [
                f"arn:aws:execute-api:{config.region}:{config.account}:",
                {"Ref": "WebSocketApi"},
                f"/{config.stage_name}/{method}/@connections/*",
            ],
        ]
    }


def expected_grants(synth: Synthesized, handler: str) -> set[tuple[str, str]]:
    """(action, resource as JSON text) pairs the permission table gives ``handler``."""
    pairs: set[tuple[str, str]] = set()
    log_group = {"Fn::GetAtt": [f"{LOGICAL_IDS[handler]}LogGroup", "Arn"]}
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        pairs.add((action, json.dumps(log_group, sort_keys=True)))
    for grant in specs.FUNCTIONS[handler].grants:
        if grant.target == specs.CONNECTIONS_API:
            for method in grant.actions:
                resource = connections_arn(synth, method)
                pairs.add(("execute-api:ManageConnections", json.dumps(resource, sort_keys=True)))
            continue
        if grant.target in INDEX_ARNS:
            table_id, index = INDEX_ARNS[grant.target]
            resource = {"Fn::Join": ["", [{"Fn::GetAtt": [table_id, "Arn"]}, f"/index/{index}"]]}
        else:
            resource = {"Fn::GetAtt": [TABLE_IDS[grant.target], "Arn"]}
        for action in grant.actions:
            pairs.add((action, json.dumps(resource, sort_keys=True)))
    return pairs


def test_all_functions_have_iam_roles_with_required_permissions(synth: Synthesized) -> None:
    """One role per function, allowing exactly its row of the permission table, nothing more."""
    roles = set()
    for handler in specs.FUNCTIONS:
        properties = function(synth, handler)
        role_id = f"{LOGICAL_IDS[handler]}Role"
        assert properties["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
        roles.add(role_id)
        role = synth.properties(role_id)
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ]
        assert "ManagedPolicyArns" not in role
        granted: set[tuple[str, str]] = set()
        for statement in policy_statements(synth, handler):
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement
            assert "NotResource" not in statement
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{handler}: wildcard action {action}"
                for resource in as_list(statement["Resource"]):
                    assert resource != "*", f"{handler}: {action} on every resource"
                    granted.add((action, json.dumps(resource, sort_keys=True)))
        assert granted == expected_grants(synth, handler), handler
    assert len(roles) == len(specs.FUNCTIONS)


def test_dynamodb_grants_are_the_operations_each_handler_performs() -> None:
    """The permission table: per handler, the (table, operation) pairs its data calls need."""
    expected = {
        "authorizer": {("rate_limits", "UpdateItem")},
        "connection": {
            ("sessions", "GetItem"),
            ("sessions", "PutItem"),
            ("sessions", "UpdateItem"),
            ("connections", "PutItem"),
            ("rate_limits", "UpdateItem"),
        },
        "heartbeat": {("connections", "UpdateItem")},
        "disconnect": {
            ("sessions", "UpdateItem"),
            ("connections", "GetItem"),
            ("connections", "DeleteItem"),
            ("connections", "BatchWriteItem"),
            ("connections_gsi", "Query"),
            ("rate_limits", "UpdateItem"),
        },
        "refresh": {("connections", "GetItem")},
        "janitor": {
            ("sessions", "GetItem"),
            ("sessions", "UpdateItem"),
            ("connections", "GetItem"),
            ("connections", "DeleteItem"),
            ("connections", "BatchWriteItem"),
            ("connections_gsi", "Query"),
            ("connections_liveness", "Query"),
            ("sessions_sweep", "Query"),
            ("rate_limits", "GetItem"),
            ("rate_limits", "UpdateItem"),
        },
    }
    actual = {
        handler: {
            (grant.target, action.removeprefix("dynamodb:"))
            for grant in grants
            if grant.target != specs.CONNECTIONS_API
            for action in grant.actions
        }
        for handler, grants in ((k, s.grants) for k, s in specs.FUNCTIONS.items())
    }
    assert actual == expected


def test_cloudwatch_log_groups_created_for_all_functions(synth: Synthesized) -> None:
    for handler, spec in specs.FUNCTIONS.items():
        name_template = spec.name_template
        log_group_id = f"{LOGICAL_IDS[handler]}LogGroup"
        log_group = synth.properties(log_group_id)
        assert log_group["LogGroupName"] == f"/aws/lambda/{name_template.format(env=synth.env)}"
        assert function(synth, handler)["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}


def test_log_retention_set_to_configured_value(synth: Synthesized) -> None:
    """Retention is the configured hours rounded up to a CloudWatch value (12 h -> 1 day)."""
    expected_days = {"dev": 1, "staging": 3, "prod": 30}[synth.env]
    assert synth.config.log_retention_days == expected_days
    log_groups = synth.resources("AWS::Logs::LogGroup")
    assert len(log_groups) == len(specs.FUNCTIONS) + 1  # + the API's access logs
    for resource in log_groups.values():
        assert resource["Properties"]["RetentionInDays"] == expected_days
        assert resource["Properties"]["RetentionInDays"] * 24 >= synth.config.log_retention_hours


def test_function_code_is_a_local_bundle_per_dependency_set(synth: Synthesized) -> None:
    """Two assets: the authorizer's (with PyJWT, cryptography) and the other handlers' one."""
    keys = {handler: function(synth, handler)["Code"]["S3Key"] for handler in specs.FUNCTIONS}
    assert len({keys[h] for h in keys if h != "authorizer"}) == 1
    assert keys["authorizer"] not in {keys[h] for h in keys if h != "authorizer"}
    for key in keys.values():
        asset_dir = synth.assembly_dir / f"asset.{key.removesuffix('.zip')}"
        assert (asset_dir / "session_service" / "constants.py").is_file()
        assert not (asset_dir / "boto3").exists()
        assert not (asset_dir / "botocore").exists()
