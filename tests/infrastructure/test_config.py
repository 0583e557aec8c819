"""Configuration loading: every bad value stops synth with one clear line; retention rounding."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from infra.config import (
    CONFIG_DIR,
    ConfigError,
    ConfigWarning,
    available_environments,
    load_config,
    retention_days_for_hours,
)

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV = json.loads((CONFIG_DIR / "dev.json").read_text())
PROD = json.loads((CONFIG_DIR / "prod.json").read_text())


def write(directory: Path, env: str, raw: Any) -> Path:
    path = directory / f"{env}.json"
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw))
    return directory


def mutated(base: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """``base`` with the dotted ``field`` set to ``value`` (or removed, for ``...``)."""
    raw = copy.deepcopy(base)
    *parents, last = field.split(".")
    target = raw
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return raw


def load_quietly(env: str, config_dir: Path, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        return load_config(env, config_dir, **kwargs)


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_shipped_configurations_are_valid(env: str) -> None:
    config = load_quietly(env, CONFIG_DIR)
    assert config.env == env
    assert config.stack_name == f"SessionManagement-{env}"


def test_available_environments_are_the_environment_files_only() -> None:
    assert available_environments() == ("dev", "local", "prod", "staging")


BAD_DEV_VALUES = [
    # (test id, field, value or ... to remove it, expected fragment of the one-line message)
    (
        "missing_field",
        "account",
        ...,
        "account: expected a 12-digit AWS account id as text, missing",
    ),
    ("account_as_number", "account", 111111111111, "account: expected a 12-digit"),
    ("wrong_type", "limits.maxListenersPerSession", "500", 'expected an integer >= 1, got "500"'),
    ("bool_for_integer", "limits.maxActiveSessions", True, "expected an integer >= 1, got true"),
    ("bad_region", "region", "us-east", 'region: expected an AWS region such as us-east-1, got "'),
    ("bad_email", "alarmEmail", "alerts@", 'alarmEmail: expected an email address, got "alerts@"'),
    (
        "listeners_0",
        "limits.maxListenersPerSession",
        0,
        "PerSession: expected an integer >= 1, got 0",
    ),
    (
        "warning_before_refresh",
        "limits.connectionWarningMinutes",
        90,
        "limits.connectionWarningMinutes: expected more than connectionRefreshMinutes (100)",
    ),
    (
        "refresh_after_api_gateway_cut",
        "limits.connectionRefreshMinutes",
        120,
        "limits.connectionRefreshMinutes: expected fewer than 120 minutes",
    ),
    (
        "unknown_language_code",
        "supportedLanguages",
        ["en", "xx"],
        "supportedLanguages[1]: expected an ISO 639-1 code supported by Amazon Translate and Polly",
    ),
    ("no_neural_voice", "supportedLanguages", ["en", "ru"], "supportedLanguages[1]: expected an"),
    ("duplicate_language", "supportedLanguages", ["en", "en"], "[1]: expected each language once"),
    ("no_languages", "supportedLanguages", [], "supportedLanguages: expected a non-empty list"),
    ("unknown_field", "limits.maxListeners", 5, "limits.maxListeners: unknown field; expected one"),
    ("unknown_top_level_field", "logRetentionDays", 1, "logRetentionDays: unknown field"),
    (
        "bad_pool_id",
        "cognito.userPoolId",
        "pool",
        "cognito.userPoolId: expected a Cognito user pool",
    ),
    ("missing_section", "throttling", ..., "throttling: expected an object, missing"),
    ("zero_rate", "throttling.rateLimit", 0, "throttling.rateLimit: expected a number > 0, got 0"),
    ("bad_stage", "stageName", "pro d", "stageName: expected a stage name"),
    ("bad_log_level", "logLevel", "LOUD", "logLevel: expected one of DEBUG, INFO, WARNING, ERROR"),
    (
        "threshold_above_limit",
        "alarms.activeSessionsMax",
        1000,
        "alarms.activeSessionsMax: expected at most limits.maxActiveSessions (100)",
    ),
    ("switch_not_boolean", "production.dashboard", "yes", "dashboard: expected true or false"),
    ("janitor_rate_zero", "limits.janitorRateMinutes", 0, "limits.janitorRateMinutes: expected"),
    ("janitor_rate_above_an_hour", "limits.janitorRateMinutes", 61, "expected 1 to 60 (minutes"),
    (
        "staleness_below_a_heartbeat",
        "limits.speakerStalenessSeconds",
        30,
        "limits.speakerStalenessSeconds: expected 31 to 3600",
    ),
    ("retention_zero", "logRetentionHours", 0, "logRetentionHours: expected an integer >= 1"),
    (
        "deploy_safety_not_an_object",
        "deploySafety",
        15,
        "deploySafety: expected an object, got 15",
    ),
    (
        "bake_minutes_as_text",
        "deploySafety.bakeMinutes",
        "15",
        'deploySafety.bakeMinutes: expected an integer >= 0 and <= 180, got "15"',
    ),
    (
        "bake_minutes_fractional",
        "deploySafety.bakeMinutes",
        1.5,
        "deploySafety.bakeMinutes: expected an integer >= 0 and <= 180, got 1.5",
    ),
    (
        "bake_minutes_negative",
        "deploySafety.bakeMinutes",
        -1,
        "deploySafety.bakeMinutes: expected an integer >= 0 and <= 180, got -1",
    ),
    (
        "bake_minutes_above_180",
        "deploySafety.bakeMinutes",
        181,
        "deploySafety.bakeMinutes: expected an integer >= 0 and <= 180, got 181",
    ),
    (
        "bake_minutes_missing",
        "deploySafety.bakeMinutes",
        ...,
        "deploySafety.bakeMinutes: expected an integer >= 0 and <= 180, missing",
    ),
    (
        "rollback_monitoring_as_boolean",
        "deploySafety.rollbackMonitoringMinutes",
        True,
        "deploySafety.rollbackMonitoringMinutes: expected an integer >= 0 and <= 180, got true",
    ),
    (
        "rollback_monitoring_negative",
        "deploySafety.rollbackMonitoringMinutes",
        -5,
        "deploySafety.rollbackMonitoringMinutes: expected an integer >= 0 and <= 180, got -5",
    ),
    (
        "rollback_monitoring_above_180",
        "deploySafety.rollbackMonitoringMinutes",
        181,
        "deploySafety.rollbackMonitoringMinutes: expected an integer >= 0 and <= 180, got 181",
    ),
    (
        "deploy_safety_unknown_field",
        "deploySafety.bakeSeconds",
        60,
        "deploySafety.bakeSeconds: unknown field; expected one of: bakeMinutes, "
        "rollbackMonitoringMinutes",
    ),
]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [pytest.param(f, v, m, id=name) for name, f, v, m in BAD_DEV_VALUES],
)
def test_bad_config_gives_one_clear_line(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    write(tmp_path, "dev", mutated(DEV, field, value))
    with pytest.raises(ConfigError) as caught:
        load_quietly("dev", tmp_path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{tmp_path / 'dev.json'}: ")
    assert message in text


OTHER_REGION_CERTIFICATE = (
    "arn:aws:acm:eu-west-1:333333333333:certificate/12345678-1234-1234-1234-123456789012"
)
BAD_CUSTOM_DOMAINS = [
    ("outside_zone", {"domainName": "ws.other.org"}, "domainName: expected a name inside the zone"),
    (
        "certificate_elsewhere",
        {"certificateArn": OTHER_REGION_CERTIFICATE},
        "customDomain.certificateArn: expected a certificate in us-east-1",
    ),
    ("bad_zone_id", {"hostedZoneId": "zone"}, "hostedZoneId: expected a Route 53 hosted zone id"),
]


@pytest.mark.parametrize(
    ("change", "message"), [pytest.param(c, m, id=name) for name, c, m in BAD_CUSTOM_DOMAINS]
)
def test_bad_custom_domain_gives_one_clear_line(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    domain = {
        "domainName": "sessions.example.com",
        "hostedZoneId": "Z0123456789ABCDEFGHIJ",
        "zoneName": "example.com",
        "certificateArn": (
            "arn:aws:acm:us-east-1:333333333333:certificate/12345678-1234-1234-1234-123456789012"
        ),
    }
    write(tmp_path, "dev", mutated(DEV, "customDomain", {**domain, **change}))
    with pytest.raises(ConfigError, match=r"^[^\n]*$") as caught:
        load_quietly("dev", tmp_path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("production.pointInTimeRecovery", False, "production.pointInTimeRecovery: expected true"),
        ("production.deletionProtection", False, "production.deletionProtection: expected true"),
        ("production.dashboard", False, "production.dashboard: expected true in the prod"),
        ("logRetentionHours", 12, "logRetentionHours: expected at least 24 in the prod"),
    ],
)
def test_prod_refuses_to_drop_a_production_setting(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    write(tmp_path, "prod", mutated(PROD, field, value))
    with pytest.raises(ConfigError) as caught:
        load_quietly("prod", tmp_path)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("env", "bake", "monitoring"),
    [("dev", 0, 0), ("local", 0, 0), ("staging", 5, 5), ("prod", 15, 10)],
)
def test_shipped_deploy_safety_values(env: str, bake: int, monitoring: int) -> None:
    safety = load_quietly(env, CONFIG_DIR).deploy_safety
    assert (safety.bake_minutes, safety.rollback_monitoring_minutes) == (bake, monitoring)


@pytest.mark.parametrize("minutes", [0, 180])
def test_deploy_safety_accepts_the_bounds(tmp_path: Path, minutes: int) -> None:
    safety = {"bakeMinutes": minutes, "rollbackMonitoringMinutes": minutes}
    write(tmp_path, "dev", mutated(DEV, "deploySafety", safety))
    config = load_quietly("dev", tmp_path)
    assert config.deploy_safety.bake_minutes == minutes
    assert config.deploy_safety.rollback_monitoring_minutes == minutes


@pytest.mark.parametrize("absent", [..., None], ids=["missing", "null"])
def test_deploy_safety_is_optional_and_then_watches_nothing(tmp_path: Path, absent: Any) -> None:
    write(tmp_path, "dev", mutated(DEV, "deploySafety", absent))
    safety = load_quietly("dev", tmp_path).deploy_safety
    assert (safety.bake_minutes, safety.rollback_monitoring_minutes) == (0, 0)


def test_invalid_json_names_the_file_and_position(tmp_path: Path) -> None:
    write(tmp_path, "dev", '{"account": "111111111111",\n  oops}')
    with pytest.raises(ConfigError, match=r"dev\.json: not valid JSON \(line 2, column 3"):
        load_config("dev", tmp_path)


def test_missing_file_names_the_known_environments(tmp_path: Path) -> None:
    write(tmp_path, "dev", DEV)
    with pytest.raises(ConfigError, match=r"qa\.json: no such configuration file; .*: dev$"):
        load_config("qa", tmp_path)


def test_oidc_app_file_is_not_an_environment() -> None:
    with pytest.raises(ConfigError, match=r"github\.json: not an environment configuration"):
        load_config("github")


def test_region_defaults_to_us_east_1(tmp_path: Path) -> None:
    write(tmp_path, "dev", mutated(DEV, "region", ...))
    assert load_quietly("dev", tmp_path).region == "us-east-1"


@pytest.mark.parametrize(
    ("hours", "days", "warns"),
    [
        (12, 1, True),
        (24, 1, False),
        (25, 3, True),
        (72, 3, False),
        (100, 5, True),
        (720, 30, False),
    ],
)
def test_log_retention_hours_round_up_to_a_cloudwatch_value(
    tmp_path: Path, hours: int, days: int, warns: bool
) -> None:
    write(tmp_path, "dev", mutated(DEV, "logRetentionHours", hours))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config("dev", tmp_path)
    assert config.log_retention_days == days
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    if warns:
        assert messages == [
            f"{tmp_path / 'dev.json'}: logRetentionHours {hours} is not a CloudWatch Logs "
            f"retention; rounded up to {days} day{'s' if days > 1 else ''} ({days * 24} hours)"
        ]
    else:
        assert messages == []
    assert list(config.notices) == messages


def test_twelve_hours_becomes_one_day_with_a_warning() -> None:
    with pytest.warns(ConfigWarning, match="logRetentionHours 12 .* rounded up to 1 day"):
        config = load_config("dev")
    assert config.log_retention_hours == 12
    assert config.log_retention_days == 1


def test_retention_beyond_ten_years_is_refused() -> None:
    assert retention_days_for_hours(3653 * 24) == 3653
    with pytest.raises(ValueError, match="exceeds the longest"):
        retention_days_for_hours(3653 * 24 + 1)


def test_cognito_ids_can_be_overridden_by_context_values() -> None:
    config = load_quietly(
        "local", CONFIG_DIR, user_pool_id="us-east-1_moto123", app_client_id="abc123"
    )
    assert config.cognito.user_pool_id == "us-east-1_moto123"
    assert config.cognito.app_client_id == "abc123"
    assert config.cognito.issuer == (
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_moto123"
    )
    only_pool = load_quietly("dev", CONFIG_DIR, user_pool_id="us-east-1_other1")
    assert only_pool.cognito.app_client_id == DEV["cognito"]["appClientId"]


def test_overridden_cognito_ids_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"\(context override\): cognito.userPoolId: expected"):
        load_quietly("dev", CONFIG_DIR, user_pool_id="not a pool")


def run_app(context: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """``python -m infra.app`` as the CDK CLI runs it (context in CDK_CONTEXT_JSON)."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent"}
    return subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_synth_stops_on_a_bad_config_with_one_line() -> None:
    result = run_app({"env": "dev", "userPoolId": "bad"})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("ConfigError")]
    assert errors == [
        "ConfigError: infra/config/dev.json (context override): cognito.userPoolId: expected a "
        'Cognito user pool id like us-east-1_AbC123, got "bad"'
    ]


def test_synth_without_an_environment_says_how_to_choose_one() -> None:
    result = run_app({})
    assert result.returncode == 1
    assert "ConfigError: no environment given: pass --context env=NAME" in result.stderr
