"""The three configuration loaders accept and refuse the same values (session_service.config_rules).

Each value is given to every loader that reads it: the handlers' settings (an environment
variable), ``infra/config/{env}.json`` (a JSON field) and ``infra/config/github.json`` (its
environment names). A value one loader takes and another refuses would pass synth and stop the
functions at cold start, or the other way round.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from infra.config import CONFIG_DIR, ConfigError, ConfigWarning, load_config
from infra.github_oidc.config import GitHubConfigError, parse_config
from session_service import config_rules as rules
from session_service import constants as c
from session_service import specs
from session_service.config import load_settings
from session_service.exceptions import ConfigurationError

DEV = json.loads((CONFIG_DIR / "dev.json").read_text())
LONGEST_ENV = "e" * rules.ENVIRONMENT_NAME_MAX_LENGTH


def refused(message: str, what: str) -> bool:
    """False, once the refusal is seen to name what was wrong and what is expected."""
    assert what in message, message
    assert "expected" in message, message
    return False


def handler_accepts(base_env: dict[str, str], handler: str, name: str, value: str) -> bool:
    try:
        load_settings(handler, {**base_env, name: value})
    except ConfigurationError as err:
        return refused(str(err), name)
    return True


def json_accepts(tmp_path: Path, field: str, value: Any, env: str = "dev") -> bool:
    raw = copy.deepcopy(DEV)
    *parents, last = field.split(".") if field else ("",)
    target = raw
    for part in parents:
        target = target[part]
    if last:
        target[last] = value
    (tmp_path / f"{env}.json").write_text(json.dumps(raw))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            load_config(env, tmp_path)
    except ConfigError as err:
        return refused(str(err), field or "environment")
    return True


def github_accepts(env: str) -> bool:
    try:
        parse_config({"owner": "OWNER", "repository": "REPO", "environments": [env]})
    except GitHubConfigError as err:
        return refused(str(err), "environments[0]")
    return True


ENVIRONMENT_NAMES = [
    ("dev", True),
    ("q", True),
    ("qa-2", True),
    (LONGEST_ENV, True),
    (LONGEST_ENV + "e", False),
    ("Prod", False),
    ("2dev", False),
    ("dev_1", False),
    ("dév", False),
    ("", False),
]


@pytest.mark.parametrize(("value", "valid"), ENVIRONMENT_NAMES)
def test_environment_names_are_judged_alike_by_all_three_loaders(
    value: str, valid: bool, base_env: dict[str, str], tmp_path: Path
) -> None:
    handler = handler_accepts(base_env, "connection", c.ENV_ENVIRONMENT, value)
    assert (handler, json_accepts(tmp_path, "", None, env=value), github_accepts(value)) == (
        valid,
        valid,
        valid,
    )


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("us-east-1", True),
        ("ap-southeast-2", True),
        ("us-gov-west-1", True),
        ("us-isob-east-1", True),
        ("cn-north-1", True),
        ("us-east", False),
        ("US-EAST-1", False),
        ("useast1", False),
    ],
)
def test_regions_are_judged_alike(
    value: str, valid: bool, base_env: dict[str, str], tmp_path: Path
) -> None:
    # A pool lives in the region of its stack, so the handler sees the pool id in that region.
    handler_env = {**base_env, "USER_POOL_ID": f"{value}_AbC123"}
    handler = handler_accepts(handler_env, "connection", "AWS_REGION", value)
    assert (handler, json_accepts(tmp_path, "region", value)) == (valid, valid)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("eu-west-1_AbC123", True),
        ("us-gov-west-1_Z9", True),
        ("pool", False),
        ("eu-west-1-AbC123", False),
        ("eu-west-1_", False),
        ("eu-west-1_Ab-C", False),
        ("eu-west-1_" + "a" * (rules.USER_POOL_ID_MAX_LENGTH - 9), False),
    ],
)
def test_user_pool_ids_are_judged_alike(
    value: str, valid: bool, base_env: dict[str, str], tmp_path: Path
) -> None:
    handler = handler_accepts(base_env, "authorizer", c.ENV_USER_POOL_ID, value)
    assert (handler, json_accepts(tmp_path, "cognito.userPoolId", value)) == (valid, valid)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("client123", True),
        ("abc_def+1", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("client-1", False),
        ("clïent", False),
    ],
)
def test_app_client_ids_are_judged_alike(
    value: str, valid: bool, base_env: dict[str, str], tmp_path: Path
) -> None:
    handler = handler_accepts(base_env, "authorizer", c.ENV_APP_CLIENT_ID, value)
    assert (handler, json_accepts(tmp_path, "cognito.appClientId", value)) == (valid, valid)


@pytest.mark.parametrize(
    ("code", "valid"),
    [("en", True), ("zh", True), ("ca", True), ("xx", False), ("ru", False), ("EN", False)],
)
def test_language_codes_are_judged_alike(
    code: str, valid: bool, base_env: dict[str, str], tmp_path: Path
) -> None:
    handler = handler_accepts(base_env, "connection", c.ENV_SUPPORTED_LANGUAGES, f"es,{code}")
    assert (handler, json_accepts(tmp_path, "supportedLanguages", ["es", code])) == (valid, valid)


_LIMIT_KEYS = {
    "session_duration_minutes": "sessionDurationMinutes",
    "connection_ttl_minutes": "connectionTtlMinutes",
    "max_listeners_per_session": "maxListenersPerSession",
    "session_create_limit_per_hour": "sessionCreateLimitPerHour",
    "listener_join_limit_per_minute": "listenerJoinLimitPerMinute",
    "connection_attempt_limit_per_minute": "connectionAttemptLimitPerMinute",
    "heartbeat_limit_per_minute": "heartbeatLimitPerMinute",
    "max_active_sessions": "maxActiveSessions",
    "speaker_staleness_seconds": "speakerStalenessSeconds",
}
# The handler that reads each limit (the connect handler reads the others).
_LIMIT_HANDLER = {
    "connection_attempt_limit_per_minute": "authorizer",
    "heartbeat_limit_per_minute": "heartbeat",
}


def test_every_shared_limit_is_tested() -> None:
    assert set(_LIMIT_KEYS) == set(rules.LIMITS)


@pytest.mark.parametrize("limit", sorted(rules.LIMITS))
def test_limits_have_the_same_bounds_in_the_file_and_the_handler(
    limit: str, base_env: dict[str, str], tmp_path: Path
) -> None:
    high = rules.LIMITS[limit].high
    variable = limit.upper()
    handler = _LIMIT_HANDLER.get(limit, "connection")
    assert variable in specs.FUNCTIONS[handler].environment
    field = f"limits.{_LIMIT_KEYS[limit]}"
    for value, valid in ((high, True), (high + 1, False), (0, False)):
        assert handler_accepts(base_env, handler, variable, str(value)) is valid, value
        assert json_accepts(tmp_path, field, value) is valid, value


@pytest.mark.parametrize(
    ("value", "valid"), [(1, True), (2**40, True), (0, False), (-3, False), (True, False)]
)
def test_github_ids_are_positive_integers(value: Any, valid: bool) -> None:
    raw = {
        "owner": "OWNER",
        "repository": "REPO",
        "subjectClaimFormat": "immutable",
        "ownerId": value,
        "repositoryId": 7,
        "environments": ["dev"],
    }
    try:
        parse_config(raw)
    except GitHubConfigError:
        accepted = False
    else:
        accepted = True
    assert accepted is valid
    assert rules.is_positive_integer(value) is valid


# AWS's limits on the names built from an environment name (the IAM roles of the OIDC app,
# session-management-{deploy,verify}-{env}, are shorter than the function names).
NAME_LIMITS = [
    *[(spec.name_template, 64) for spec in specs.FUNCTIONS.values()],  # Lambda FunctionName
    (c.STACK_NAME_TEMPLATE, 128),  # CloudFormation StackName
    (c.API_NAME_TEMPLATE, 128),  # API Gateway Name
    *[(str(table["name"]), 255) for table in c.TABLES.values()],  # DynamoDB TableName
    (c.DASHBOARD_NAME_TEMPLATE, 255),  # CloudWatch DashboardName
    (c.ALARM_TOPIC_TEMPLATE, 256),  # SNS topic name
    (
        f"/aws/lambda/{max((f.name_template for f in specs.FUNCTIONS.values()), key=len)}",
        512,
    ),  # log group
]


@pytest.mark.parametrize(("template", "limit"), NAME_LIMITS)
def test_the_longest_environment_name_keeps_every_name_within_its_aws_limit(
    template: str, limit: int
) -> None:
    assert len(template.format(env=LONGEST_ENV)) <= limit


def test_the_longest_environment_name_keeps_alarm_names_within_their_limit() -> None:
    assert all(len(name) <= 255 for name in specs.alarm_names(LONGEST_ENV).values())
