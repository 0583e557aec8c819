"""Per-environment configuration of the CDK app: ``infra/config/{env}.json``, loaded and validated.

Everything is checked before a construct is built. A missing or wrong field raises
:class:`ConfigError` whose message is one line naming the file, the field and what is expected::

    infra/config/dev.json: limits.maxListenersPerSession: expected an integer >= 1, got 0

The local environment and ``ci/`` import :func:`load_config` too, so they read the same values the
stack was built from.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from session_service import config_rules as rules
from session_service.config_rules import LOG_LEVELS
from session_service.constants import API_GATEWAY_CONNECTION_LIMIT_MINUTES

CONFIG_DIR = Path(__file__).resolve().parent / "config"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"
DEFAULT_LOG_RETENTION_HOURS = 12
DEFAULT_LOG_LEVEL = "INFO"
PRODUCTION_ENV = "prod"
PRODUCTION_MIN_LOG_RETENTION_HOURS = 24
# CloudFormation's rollback trigger watches at most 180 minutes (MonitoringTimeInMinutes); the
# bake after a deployment is held to the same bound.
DEPLOY_SAFETY_MAX_MINUTES = 180

# Values CloudWatch Logs accepts for a log group's retention, in days (RetentionInDays).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

# Files of infra/config/ that configure something else (the GitHub OIDC app), not an environment.
NON_ENVIRONMENT_FILES = frozenset({"github", "github-settings"})

# Environment name, account, region, Cognito ids, languages, log levels and the limits' bounds are
# the rules of session_service.config_rules, which the handlers and the GitHub OIDC app apply too;
# the patterns below concern only this file.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[0-9A-Z]{1,31}$")
_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$"
)


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds a wrong value (one-line message)."""


class ConfigWarning(UserWarning):
    """A configuration value was adjusted (e.g. log retention rounded up to a CloudWatch value)."""


@dataclass(frozen=True)
class CognitoConfig:
    user_pool_id: str
    app_client_id: str

    @property
    def issuer(self) -> str:
        region = self.user_pool_id.split("_", 1)[0]
        return f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool_id}"


@dataclass(frozen=True)
class ThrottlingConfig:
    rate_limit: float  # steady-state requests per second, stage default route
    burst_limit: int


@dataclass(frozen=True)
class LimitsConfig:
    session_duration_minutes: int
    connection_ttl_minutes: int
    connection_refresh_minutes: int
    connection_warning_minutes: int
    max_listeners_per_session: int
    session_create_limit_per_hour: int
    listener_join_limit_per_minute: int
    connection_attempt_limit_per_minute: int
    heartbeat_limit_per_minute: int
    max_active_sessions: int
    speaker_staleness_seconds: int  # a speaker unheard this long has lost its session
    janitor_rate_minutes: int  # the janitor's schedule (specs.JANITOR.schedule_rate_setting)


@dataclass(frozen=True)
class AlarmsConfig:
    session_creation_latency_p95_ms: int
    connection_errors_per_5min: int
    active_sessions_max: int
    lambda_errors_per_5min: int


@dataclass(frozen=True)
class ProductionConfig:
    point_in_time_recovery: bool
    deletion_protection: bool  # also keeps tables and log groups when the stack is deleted
    dashboard: bool


@dataclass(frozen=True)
class CustomDomainConfig:
    domain_name: str
    hosted_zone_id: str
    zone_name: str
    certificate_arn: str


@dataclass(frozen=True)
class DeploySafety:
    bake_minutes: int  # how long ci.bake watches the alarms after a verified deployment
    rollback_monitoring_minutes: int  # CloudFormation's rollback-trigger monitoring time


@dataclass(frozen=True)
class EnvironmentConfig:
    env: str
    source: Path
    account: str
    region: str
    cognito: CognitoConfig
    alarm_email: str
    log_retention_hours: int
    log_retention_days: int  # the CloudWatch value, log_retention_hours rounded up
    stage_name: str
    throttling: ThrottlingConfig
    limits: LimitsConfig
    supported_languages: tuple[str, ...]
    alarms: AlarmsConfig
    production: ProductionConfig
    custom_domain: CustomDomainConfig | None
    log_level: str
    deploy_safety: DeploySafety
    notices: tuple[str, ...] = ()  # adjustments made while loading (also issued as warnings)

    @property
    def stack_name(self) -> str:
        from session_service import constants

        return constants.STACK_NAME_TEMPLATE.format(env=self.env)

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION_ENV


def retention_days_for_hours(hours: int) -> int:
    """The smallest CloudWatch retention (days) that keeps logs at least ``hours`` hours."""
    days = max(1, math.ceil(hours / 24))
    for allowed in CLOUDWATCH_RETENTION_DAYS:
        if allowed >= days:
            return allowed
    raise ValueError(f"{hours} hours exceeds the longest CloudWatch retention (3653 days)")


def available_environments(config_dir: Path | None = None) -> tuple[str, ...]:
    directory = config_dir or CONFIG_DIR
    return tuple(
        sorted(p.stem for p in directory.glob("*.json") if p.stem not in NON_ENVIRONMENT_FILES)
    )


def load_config(
    env: str,
    config_dir: Path | None = None,
    *,
    user_pool_id: str | None = None,
    app_client_id: str | None = None,
) -> EnvironmentConfig:
    """Load and validate ``{config_dir}/{env}.json``.

    ``user_pool_id`` / ``app_client_id`` replace the file's Cognito ids (CDK context keys
    ``userPoolId`` / ``appClientId``); they are validated like the file's values.
    """
    directory = config_dir or CONFIG_DIR
    path = directory / f"{env}.json"
    shown = display_path(path)
    if not rules.ENVIRONMENT_NAME.accepts(env):
        raise ConfigError(
            f"environment {env!r}: expected {rules.ENVIRONMENT_NAME.expected} "
            "(pass it with --context env=NAME)"
        )
    known = ", ".join(available_environments(directory)) or "none"
    if env in NON_ENVIRONMENT_FILES:
        raise ConfigError(f"{shown}: not an environment configuration; expected one of: {known}")
    if not path.is_file():
        raise ConfigError(f"{shown}: no such configuration file; expected one of: {known}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{shown}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    reader = _Reader(shown)
    config = reader.environment(env, path, raw)
    if user_pool_id is not None or app_client_id is not None:
        overrides = {
            "userPoolId": config.cognito.user_pool_id if user_pool_id is None else user_pool_id,
            "appClientId": config.cognito.app_client_id if app_client_id is None else app_client_id,
        }
        override_reader = _Reader(f"{shown} (context override)")
        config = replace(config, cognito=override_reader.cognito(overrides, "cognito"))
    for notice in config.notices:
        warnings.warn(notice, ConfigWarning, stacklevel=2)
    return config


def display_path(path: Path) -> str:
    """``path`` as a person finds it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def describe_value(value: Any) -> str:
    """A JSON value as an error message shows what it got."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return json.dumps(value) if isinstance(value, str) else repr(value)


_MISSING = object()


class _Reader:
    """Reads typed fields out of the parsed JSON; every failure is one ConfigError line."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def fail(self, field: str, expected: str, value: Any = _MISSING) -> ConfigError:
        got = "missing" if value is _MISSING else f"got {describe_value(value)}"
        return ConfigError(f"{self.shown}: {field}: expected {expected}, {got}")

    def obj(self, parent: Mapping[str, Any], key: str, prefix: str, fields: set[str]) -> dict:
        field = f"{prefix}{key}"
        value = parent.get(key, _MISSING)
        if not isinstance(value, dict):
            raise self.fail(field, "an object", value)
        self.no_unknown(value, f"{field}.", fields)
        return value

    def no_unknown(self, value: Mapping[str, Any], prefix: str, fields: set[str]) -> None:
        unknown = sorted(set(value) - fields)
        if unknown:
            raise ConfigError(
                f"{self.shown}: {prefix}{unknown[0]}: unknown field; expected one of: "
                + ", ".join(sorted(fields))
            )

    def string(
        self,
        parent: Mapping[str, Any],
        key: str,
        prefix: str,
        pattern: re.Pattern[str],
        expected: str,
        default: Any = _MISSING,
    ) -> str:
        value = parent.get(key, default)
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(f"{prefix}{key}", expected, value)
        return value

    def rule(
        self,
        parent: Mapping[str, Any],
        key: str,
        prefix: str,
        rule: rules.Rule,
        default: Any = _MISSING,
    ) -> str:
        """A string one of the shared rules allows (the same rule the handlers apply)."""
        value = parent.get(key, default)
        if not rule.accepts(value):
            raise self.fail(f"{prefix}{key}", rule.expected, value)
        return str(value)

    def integer(
        self,
        parent: Mapping[str, Any],
        key: str,
        prefix: str,
        minimum: int = 1,
        maximum: int | None = None,
        default: Any = _MISSING,
    ) -> int:
        value = parent.get(key, default)
        expected = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum else "")
        if not rules.is_integer(value):
            raise self.fail(f"{prefix}{key}", expected, value)
        if value < minimum or (maximum is not None and value > maximum):
            raise self.fail(f"{prefix}{key}", expected, value)
        return value

    def number(self, parent: Mapping[str, Any], key: str, prefix: str) -> float:
        value = parent.get(key, _MISSING)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.fail(f"{prefix}{key}", "a number > 0", value)
        return float(value)

    def boolean(self, parent: Mapping[str, Any], key: str, prefix: str) -> bool:
        value = parent.get(key, _MISSING)
        if not isinstance(value, bool):
            raise self.fail(f"{prefix}{key}", "true or false", value)
        return value

    def require(self, condition: bool, field: str, expected: str, value: Any) -> None:
        if not condition:
            raise self.fail(field, expected, value)

    # --- sections -------------------------------------------------------------------------
    def cognito(self, raw: Mapping[str, Any], field: str) -> CognitoConfig:
        prefix = f"{field}."
        pool = self.rule(raw, "userPoolId", prefix, rules.USER_POOL_ID)
        client = self.rule(raw, "appClientId", prefix, rules.APP_CLIENT_ID)
        return CognitoConfig(user_pool_id=pool, app_client_id=client)

    def throttling(self, raw: Mapping[str, Any]) -> ThrottlingConfig:
        section = self.obj(raw, "throttling", "", {"rateLimit", "burstLimit"})
        rate = self.number(section, "rateLimit", "throttling.")
        burst = self.integer(section, "burstLimit", "throttling.", maximum=5000)
        return ThrottlingConfig(rate_limit=rate, burst_limit=burst)

    def limits(self, raw: Mapping[str, Any]) -> LimitsConfig:
        names = {
            "sessionDurationMinutes": "session_duration_minutes",
            "connectionTtlMinutes": "connection_ttl_minutes",
            "connectionRefreshMinutes": "connection_refresh_minutes",
            "connectionWarningMinutes": "connection_warning_minutes",
            "maxListenersPerSession": "max_listeners_per_session",
            "sessionCreateLimitPerHour": "session_create_limit_per_hour",
            "listenerJoinLimitPerMinute": "listener_join_limit_per_minute",
            "connectionAttemptLimitPerMinute": "connection_attempt_limit_per_minute",
            "heartbeatLimitPerMinute": "heartbeat_limit_per_minute",
            "maxActiveSessions": "max_active_sessions",
            "speakerStalenessSeconds": "speaker_staleness_seconds",
            "janitorRateMinutes": "janitor_rate_minutes",
        }
        section = self.obj(raw, "limits", "", set(names))
        values = {attr: self.integer(section, key, "limits.") for key, attr in names.items()}
        for key, attr in names.items():
            # The handler refuses a value beyond these at cold start; refuse it at synth instead.
            bounds = rules.LIMITS.get(attr)
            if bounds is not None:
                self.require(
                    bounds.accepts(values[attr]),
                    f"limits.{key}",
                    f"{bounds.low} to {bounds.high} (what the handlers accept)",
                    values[attr],
                )
        limits = LimitsConfig(**values)
        self.require(
            limits.janitor_rate_minutes <= 60,
            "limits.janitorRateMinutes",
            "1 to 60 (minutes between janitor runs; EventBridge's finest rate is 1)",
            limits.janitor_rate_minutes,
        )
        refresh, warning = limits.connection_refresh_minutes, limits.connection_warning_minutes
        self.require(
            refresh < API_GATEWAY_CONNECTION_LIMIT_MINUTES,
            "limits.connectionRefreshMinutes",
            f"fewer than {API_GATEWAY_CONNECTION_LIMIT_MINUTES} minutes "
            "(API Gateway closes a connection after 2 hours)",
            refresh,
        )
        self.require(
            refresh < warning < API_GATEWAY_CONNECTION_LIMIT_MINUTES,
            "limits.connectionWarningMinutes",
            f"more than connectionRefreshMinutes ({refresh}) and fewer than "
            f"{API_GATEWAY_CONNECTION_LIMIT_MINUTES} (the warning follows the refresh request)",
            warning,
        )
        self.require(
            limits.connection_ttl_minutes >= API_GATEWAY_CONNECTION_LIMIT_MINUTES,
            "limits.connectionTtlMinutes",
            f"at least {API_GATEWAY_CONNECTION_LIMIT_MINUTES} (a connection item outlives its "
            "socket)",
            limits.connection_ttl_minutes,
        )
        return limits

    def languages(self, raw: Mapping[str, Any]) -> tuple[str, ...]:
        value = raw.get("supportedLanguages", _MISSING)
        expected = "a non-empty list of ISO 639-1 codes"
        if not isinstance(value, list) or not value:
            raise self.fail("supportedLanguages", expected, value)
        seen: list[str] = []
        for index, code in enumerate(value):
            field = f"supportedLanguages[{index}]"
            if not isinstance(code, str):
                raise self.fail(field, "an ISO 639-1 code", code)
            self.require(
                rules.LANGUAGE_CODE.accepts(code), field, rules.LANGUAGE_CODE.expected, code
            )
            self.require(code not in seen, field, "each language once", code)
            seen.append(code)
        return tuple(seen)

    def alarms(self, raw: Mapping[str, Any], limits: LimitsConfig) -> AlarmsConfig:
        names = {
            "sessionCreationLatencyP95Ms": "session_creation_latency_p95_ms",
            "connectionErrorsPer5Min": "connection_errors_per_5min",
            "activeSessionsMax": "active_sessions_max",
            "lambdaErrorsPer5Min": "lambda_errors_per_5min",
        }
        section = self.obj(raw, "alarms", "", set(names))
        alarms = AlarmsConfig(
            **{attr: self.integer(section, key, "alarms.") for key, attr in names.items()}
        )
        self.require(
            alarms.active_sessions_max <= limits.max_active_sessions,
            "alarms.activeSessionsMax",
            f"at most limits.maxActiveSessions ({limits.max_active_sessions})",
            alarms.active_sessions_max,
        )
        return alarms

    def production(self, raw: Mapping[str, Any], env: str) -> ProductionConfig:
        names = {"pointInTimeRecovery", "deletionProtection", "dashboard"}
        section = self.obj(raw, "production", "", names)
        production = ProductionConfig(
            point_in_time_recovery=self.boolean(section, "pointInTimeRecovery", "production."),
            deletion_protection=self.boolean(section, "deletionProtection", "production."),
            dashboard=self.boolean(section, "dashboard", "production."),
        )
        if env == PRODUCTION_ENV:
            # Checklist "Configuration (Production Only)": these hold by construction in prod.
            for key, value in (
                ("pointInTimeRecovery", production.point_in_time_recovery),
                ("deletionProtection", production.deletion_protection),
                ("dashboard", production.dashboard),
            ):
                self.require(value, f"production.{key}", "true in the prod environment", value)
        return production

    def custom_domain(self, raw: Mapping[str, Any], region: str) -> CustomDomainConfig | None:
        value = raw.get("customDomain")
        if value is None:
            return None
        names = {"domainName", "hostedZoneId", "zoneName", "certificateArn"}
        section = self.obj(raw, "customDomain", "", names)
        prefix = "customDomain."
        domain = self.string(section, "domainName", prefix, _DOMAIN, "a lower-case DNS name")
        zone_id = self.string(
            section, "hostedZoneId", prefix, _HOSTED_ZONE_ID, "a Route 53 hosted zone id (Z...)"
        )
        zone = self.string(section, "zoneName", prefix, _DOMAIN, "a lower-case DNS zone name")
        self.require(
            domain == zone or domain.endswith(f".{zone}"),
            "customDomain.domainName",
            f"a name inside the zone {zone}",
            domain,
        )
        arn = self.string(
            section, "certificateArn", prefix, _CERTIFICATE_ARN, "an ACM certificate ARN"
        )
        cert_region = _CERTIFICATE_ARN.match(arn)["region"]  # type: ignore[index]
        self.require(
            cert_region == region,
            "customDomain.certificateArn",
            f"a certificate in {region} (a regional API domain uses a certificate of its region)",
            arn,
        )
        return CustomDomainConfig(
            domain_name=domain, hosted_zone_id=zone_id, zone_name=zone, certificate_arn=arn
        )

    def deploy_safety(self, raw: Mapping[str, Any]) -> DeploySafety:
        if raw.get("deploySafety") is None:  # optional: no bake, no rollback monitoring
            return DeploySafety(bake_minutes=0, rollback_monitoring_minutes=0)
        names = {"bakeMinutes", "rollbackMonitoringMinutes"}
        section = self.obj(raw, "deploySafety", "", names)
        prefix, most = "deploySafety.", DEPLOY_SAFETY_MAX_MINUTES
        return DeploySafety(
            bake_minutes=self.integer(section, "bakeMinutes", prefix, minimum=0, maximum=most),
            rollback_monitoring_minutes=self.integer(
                section, "rollbackMonitoringMinutes", prefix, minimum=0, maximum=most
            ),
        )

    def environment(self, env: str, path: Path, raw: Any) -> EnvironmentConfig:
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.shown}: expected a JSON object at the top level")
        top = {
            "account", "region", "cognito", "alarmEmail", "logRetentionHours", "stageName",
            "throttling", "limits", "supportedLanguages", "alarms", "production", "customDomain",
            "logLevel", "deploySafety",
        }  # fmt: skip
        self.no_unknown(raw, "", top)
        account = self.rule(raw, "account", "", rules.ACCOUNT_ID)
        region = self.rule(raw, "region", "", rules.REGION, default=DEFAULT_REGION)
        cognito = self.cognito(
            self.obj(raw, "cognito", "", {"userPoolId", "appClientId"}), "cognito"
        )
        email = self.string(raw, "alarmEmail", "", _EMAIL, "an email address")
        hours = self.integer(
            raw, "logRetentionHours", "", maximum=3653 * 24, default=DEFAULT_LOG_RETENTION_HOURS
        )
        if env == PRODUCTION_ENV:
            self.require(
                hours >= PRODUCTION_MIN_LOG_RETENTION_HOURS,
                "logRetentionHours",
                f"at least {PRODUCTION_MIN_LOG_RETENTION_HOURS} in the prod environment",
                hours,
            )
        days = retention_days_for_hours(hours)
        notices: tuple[str, ...] = ()
        if days * 24 != hours:
            notices = (
                f"{self.shown}: logRetentionHours {hours} is not a CloudWatch Logs retention; "
                f"rounded up to {days} day{'s' if days > 1 else ''} ({days * 24} hours)",
            )
        stage = self.string(raw, "stageName", "", _STAGE, "a stage name (letters, digits, - or _)")
        limits = self.limits(raw)
        log_level = raw.get("logLevel", DEFAULT_LOG_LEVEL)
        self.require(
            log_level in LOG_LEVELS, "logLevel", "one of " + ", ".join(LOG_LEVELS), log_level
        )
        return EnvironmentConfig(
            env=env,
            source=path,
            account=account,
            region=region,
            cognito=cognito,
            alarm_email=email,
            log_retention_hours=hours,
            log_retention_days=days,
            stage_name=stage,
            throttling=self.throttling(raw),
            limits=limits,
            supported_languages=self.languages(raw),
            alarms=self.alarms(raw, limits),
            production=self.production(raw, env),
            custom_domain=self.custom_domain(raw, region),
            log_level=log_level,
            deploy_safety=self.deploy_safety(raw),
            notices=notices,
        )


def load_config_from_context(
    env: str | None, context: Callable[[str], Any], config_dir: Path | None = None
) -> EnvironmentConfig:
    """Load the configuration named by CDK context ``env`` (with ``userPoolId``/``appClientId``)."""
    if not env:
        known = ", ".join(available_environments(config_dir))
        raise ConfigError(f"no environment given: pass --context env=NAME (one of: {known})")
    pool = context("userPoolId")
    client = context("appClientId")
    return load_config(
        str(env),
        config_dir,
        user_pool_id=None if pool is None else str(pool),
        app_client_id=None if client is None else str(client),
    )
