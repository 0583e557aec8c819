"""Settings of each handler, read from the environment once per container.

Each handler reads exactly the variables that its spec's ``environment`` names
(``session_service.specs``), plus ``AWS_REGION`` from the Lambda runtime and, for the
authorizer, the optional ``JWKS_URL``. :func:`load_settings` validates them into a frozen
dataclass and raises :class:`ConfigurationError` naming the variable and what it expects.
Nothing else in the service reads ``os.environ``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from session_service import constants as c
from session_service import specs
from session_service.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ENV_AWS_REGION = "AWS_REGION"

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_ENVIRONMENT_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_POOL_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$")
_CLIENT_RE = re.compile(r"^[\w+]{1,128}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


@dataclass(frozen=True)
class CommonSettings:
    environment: str
    log_level: str
    region: str


@dataclass(frozen=True)
class AuthorizerSettings:
    common: CommonSettings
    rate_limits_table: str
    connection_attempt_limit_per_minute: int
    user_pool_id: str
    app_client_id: str
    jwks_url: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.common.region}.amazonaws.com/{self.user_pool_id}"


@dataclass(frozen=True)
class ConnectSettings:
    common: CommonSettings
    sessions_table: str
    connections_table: str
    rate_limits_table: str
    supported_languages: frozenset[str]
    max_listeners_per_session: int
    max_active_sessions: int
    session_duration_minutes: int
    connection_ttl_minutes: int
    session_create_limit_per_hour: int
    listener_join_limit_per_minute: int


@dataclass(frozen=True)
class HeartbeatSettings:
    common: CommonSettings
    sessions_table: str
    connections_table: str
    callback_url: str
    # Fractions allowed (tests shorten them to seconds); deployments configure whole minutes.
    connection_refresh_minutes: float
    connection_warning_minutes: float
    session_duration_minutes: int
    heartbeat_limit_per_minute: int

    @property
    def min_heartbeat_interval_ms(self) -> int:
        """Heartbeats closer together than this are refused (the per-connection limit)."""
        return 60_000 // self.heartbeat_limit_per_minute


@dataclass(frozen=True)
class DisconnectSettings:
    common: CommonSettings
    sessions_table: str
    connections_table: str
    rate_limits_table: str
    callback_url: str


@dataclass(frozen=True)
class RefreshSettings:
    common: CommonSettings
    sessions_table: str
    connections_table: str
    callback_url: str


Settings = (
    AuthorizerSettings | ConnectSettings | HeartbeatSettings | DisconnectSettings | RefreshSettings
)
S = TypeVar("S")


class _Reader:
    """Reads variables from one mapping, validating each with a clear error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def raw(self, name: str, expected: str) -> str:
        value = self._environ.get(name)
        if value is None or not value.strip():
            raise ConfigurationError(name, expected, value)
        return value.strip()

    def matching(self, name: str, pattern: re.Pattern[str], expected: str) -> str:
        value = self.raw(name, expected)
        if not pattern.match(value):
            raise ConfigurationError(name, expected, value)
        return value

    def equal(self, name: str, required: str) -> str:
        expected = f"exactly {required!r} (alarms and dashboards are built on it)"
        value = self.raw(name, expected)
        if value != required:
            raise ConfigurationError(name, expected, value)
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        expected = f"a whole number from {low} to {high}"
        value = self.raw(name, expected)
        try:
            number = int(value)
        except ValueError:
            raise ConfigurationError(name, expected, value) from None
        if not low <= number <= high:
            raise ConfigurationError(name, expected, value)
        return number

    def minutes(self, name: str, high: int) -> float:
        """A positive number of minutes up to ``high``; fractions allowed (0.05 is 3 s)."""
        expected = f"a number of minutes above 0 and at most {high}, e.g. 100 or 0.5"
        value = self.raw(name, expected)
        try:
            number = float(value)
        except ValueError:
            raise ConfigurationError(name, expected, value) from None
        # NaN and infinity fail this comparison too.
        if not 0 < number <= high:
            raise ConfigurationError(name, expected, value)
        return number

    def table(self, name: str) -> str:
        return self.matching(name, _TABLE_RE, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")

    def url(self, name: str) -> str:
        expected = (
            "an http(s) URL without query, e.g. https://abc.execute-api.region.amazonaws.com/prod"
        )
        return self.matching(name, _URL_RE, expected).rstrip("/")

    def languages(self, name: str) -> frozenset[str]:
        expected = "comma-separated ISO 639-1 codes, e.g. en,es,fr"
        value = self.raw(name, expected)
        codes = [part.strip() for part in value.split(",") if part.strip()]
        if not codes or not all(_LANGUAGE_RE.match(code) for code in codes):
            raise ConfigurationError(name, expected, value)
        return frozenset(codes)

    def optional_url(self, name: str) -> str | None:
        if not (self._environ.get(name) or "").strip():
            return None
        return self.url(name)


def _common(env: _Reader) -> CommonSettings:
    env.equal(c.ENV_POWERTOOLS_SERVICE_NAME, c.SERVICE_NAME)
    env.equal(c.ENV_POWERTOOLS_METRICS_NAMESPACE, c.METRICS_NAMESPACE)
    level = env.raw(c.ENV_LOG_LEVEL, "one of " + ", ".join(_LOG_LEVELS)).upper()
    if level not in _LOG_LEVELS:
        raise ConfigurationError(c.ENV_LOG_LEVEL, "one of " + ", ".join(_LOG_LEVELS), level)
    return CommonSettings(
        environment=env.matching(
            c.ENV_ENVIRONMENT, _ENVIRONMENT_RE, "a lower-case environment name such as dev"
        ),
        log_level=level,
        region=env.matching(ENV_AWS_REGION, _REGION_RE, "an AWS region such as us-east-1"),
    )


def _authorizer(env: _Reader) -> AuthorizerSettings:
    common = _common(env)
    pool = env.matching(c.ENV_USER_POOL_ID, _POOL_RE, "a Cognito user pool id, {region}_{id}")
    default_jwks = f"https://cognito-idp.{common.region}.amazonaws.com/{pool}/.well-known/jwks.json"
    return AuthorizerSettings(
        common=common,
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        connection_attempt_limit_per_minute=env.integer(
            c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE, 1, 100_000
        ),
        user_pool_id=pool,
        app_client_id=env.matching(c.ENV_APP_CLIENT_ID, _CLIENT_RE, "a Cognito app client id"),
        jwks_url=env.optional_url(c.ENV_JWKS_URL) or default_jwks,
    )


def _connect(env: _Reader) -> ConnectSettings:
    return ConnectSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        supported_languages=env.languages(c.ENV_SUPPORTED_LANGUAGES),
        max_listeners_per_session=env.integer(c.ENV_MAX_LISTENERS_PER_SESSION, 1, 100_000),
        max_active_sessions=env.integer(c.ENV_MAX_ACTIVE_SESSIONS, 1, 1_000_000),
        session_duration_minutes=env.integer(c.ENV_SESSION_DURATION_MINUTES, 1, 24 * 60),
        connection_ttl_minutes=env.integer(c.ENV_CONNECTION_TTL_MINUTES, 1, 7 * 24 * 60),
        session_create_limit_per_hour=env.integer(c.ENV_SESSION_CREATE_LIMIT_PER_HOUR, 1, 100_000),
        listener_join_limit_per_minute=env.integer(
            c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE, 1, 100_000
        ),
    )


def _heartbeat(env: _Reader) -> HeartbeatSettings:
    limit = c.API_GATEWAY_CONNECTION_LIMIT_MINUTES - 1
    settings = HeartbeatSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        callback_url=env.url(c.ENV_CALLBACK_URL),
        connection_refresh_minutes=env.minutes(c.ENV_CONNECTION_REFRESH_MINUTES, limit),
        connection_warning_minutes=env.minutes(c.ENV_CONNECTION_WARNING_MINUTES, limit),
        session_duration_minutes=env.integer(c.ENV_SESSION_DURATION_MINUTES, 1, 24 * 60),
        heartbeat_limit_per_minute=env.integer(c.ENV_HEARTBEAT_LIMIT_PER_MINUTE, 1, 600),
    )
    if settings.connection_warning_minutes <= settings.connection_refresh_minutes:
        raise ConfigurationError(
            c.ENV_CONNECTION_WARNING_MINUTES,
            f"more than {c.ENV_CONNECTION_REFRESH_MINUTES} "
            f"({settings.connection_refresh_minutes:g}): the warning follows the refresh notice",
            f"{settings.connection_warning_minutes:g}",
        )
    return settings


def _disconnect(env: _Reader) -> DisconnectSettings:
    return DisconnectSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        callback_url=env.url(c.ENV_CALLBACK_URL),
    )


def _refresh(env: _Reader) -> RefreshSettings:
    return RefreshSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        callback_url=env.url(c.ENV_CALLBACK_URL),
    )


# function key (session_service.specs) -> the loader of its settings
_LOADERS: dict[str, Callable[[_Reader], Settings]] = {
    specs.AUTHORIZER.key: _authorizer,
    specs.CONNECTION.key: _connect,
    specs.HEARTBEAT.key: _heartbeat,
    specs.DISCONNECT.key: _disconnect,
    specs.REFRESH.key: _refresh,
}


def load_settings(handler: str, environ: Mapping[str, str]) -> Settings:
    """Validate the variables of ``handler`` (a key of ``specs.FUNCTIONS``)."""
    try:
        loader = _LOADERS[handler]
    except KeyError:
        expected = sorted(_LOADERS)
        raise ValueError(f"unknown handler {handler!r}; expected one of {expected}") from None
    return loader(_Reader(environ))


def load_typed(handler: str, environ: Mapping[str, str], kind: type[S]) -> S:
    """:func:`load_settings`, checked to be of the dataclass ``kind`` the caller needs."""
    settings = load_settings(handler, environ)
    assert isinstance(settings, kind)
    return settings
