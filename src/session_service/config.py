"""Settings of each handler, read from the environment once per container.

Each handler reads exactly the variables that its spec's ``environment`` names
(``session_service.specs``), plus ``AWS_REGION`` from the Lambda runtime and, for the
authorizer, the optional ``JWKS_URL``. :func:`load_settings` validates them into a frozen
dataclass and raises :class:`ConfigurationError` naming the variable and what it expects.
Nothing else in the service reads ``os.environ``. The rules a value must meet (environment name,
region, Cognito ids, table names, languages, the limits' bounds) are those of
:mod:`session_service.config_rules`, which ``infra/config.py`` applies to the same values in
``infra/config/{env}.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from session_service import config_rules as rules
from session_service import constants as c
from session_service import specs
from session_service.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ENV_AWS_REGION = "AWS_REGION"

# The rules shared with the JSON loaders are in config_rules; the URL is the handlers' own.
_LOG_LEVELS = rules.LOG_LEVELS
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
    speaker_staleness_seconds: int


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


@dataclass(frozen=True)
class JanitorSettings:
    common: CommonSettings
    sessions_table: str
    connections_table: str
    rate_limits_table: str
    callback_url: str
    speaker_staleness_seconds: int


Settings = (
    AuthorizerSettings
    | ConnectSettings
    | HeartbeatSettings
    | DisconnectSettings
    | RefreshSettings
    | JanitorSettings
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

    def rule(self, name: str, rule: rules.Rule) -> str:
        """A value that one of the shared rules allows (the same rule the JSON loaders apply)."""
        value = self.raw(name, rule.expected)
        if not rule.accepts(value):
            raise ConfigurationError(name, rule.expected, value)
        return value

    def equal(self, name: str, required: str) -> str:
        expected = f"exactly {required!r} (alarms and dashboards are built on it)"
        value = self.raw(name, expected)
        if value != required:
            raise ConfigurationError(name, expected, value)
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        expected = rules.Bounds(low, high).expected
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

    def limit(self, name: str, limit: str) -> int:
        """A whole number within the bounds ``config_rules.LIMITS[limit]`` gives the JSON file."""
        bounds = rules.LIMITS[limit]
        return self.integer(name, bounds.low, bounds.high)

    def table(self, name: str) -> str:
        return self.rule(name, rules.TABLE_NAME)

    def url(self, name: str) -> str:
        expected = (
            "an http(s) URL without query, e.g. https://abc.execute-api.region.amazonaws.com/prod"
        )
        return self.matching(name, _URL_RE, expected).rstrip("/")

    def languages(self, name: str) -> frozenset[str]:
        expected = "comma-separated ISO 639-1 codes, e.g. en,es,fr, each " + (
            rules.LANGUAGE_CODE.expected.removeprefix("an ISO 639-1 code ")
        )
        value = self.raw(name, expected)
        codes = [part.strip() for part in value.split(",") if part.strip()]
        if not codes or not all(rules.LANGUAGE_CODE.accepts(code) for code in codes):
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
        environment=env.rule(c.ENV_ENVIRONMENT, rules.ENVIRONMENT_NAME),
        log_level=level,
        region=env.rule(ENV_AWS_REGION, rules.REGION),
    )


def _authorizer(env: _Reader) -> AuthorizerSettings:
    common = _common(env)
    pool = env.rule(c.ENV_USER_POOL_ID, rules.USER_POOL_ID)
    default_jwks = f"https://cognito-idp.{common.region}.amazonaws.com/{pool}/.well-known/jwks.json"
    return AuthorizerSettings(
        common=common,
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        connection_attempt_limit_per_minute=env.limit(
            c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE, "connection_attempt_limit_per_minute"
        ),
        user_pool_id=pool,
        app_client_id=env.rule(c.ENV_APP_CLIENT_ID, rules.APP_CLIENT_ID),
        jwks_url=env.optional_url(c.ENV_JWKS_URL) or default_jwks,
    )


def _connect(env: _Reader) -> ConnectSettings:
    return ConnectSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        supported_languages=env.languages(c.ENV_SUPPORTED_LANGUAGES),
        max_listeners_per_session=env.limit(
            c.ENV_MAX_LISTENERS_PER_SESSION, "max_listeners_per_session"
        ),
        max_active_sessions=env.limit(c.ENV_MAX_ACTIVE_SESSIONS, "max_active_sessions"),
        session_duration_minutes=env.limit(
            c.ENV_SESSION_DURATION_MINUTES, "session_duration_minutes"
        ),
        connection_ttl_minutes=env.limit(c.ENV_CONNECTION_TTL_MINUTES, "connection_ttl_minutes"),
        session_create_limit_per_hour=env.limit(
            c.ENV_SESSION_CREATE_LIMIT_PER_HOUR, "session_create_limit_per_hour"
        ),
        listener_join_limit_per_minute=env.limit(
            c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE, "listener_join_limit_per_minute"
        ),
        speaker_staleness_seconds=env.limit(
            c.ENV_SPEAKER_STALENESS_SECONDS, "speaker_staleness_seconds"
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
        session_duration_minutes=env.limit(
            c.ENV_SESSION_DURATION_MINUTES, "session_duration_minutes"
        ),
        heartbeat_limit_per_minute=env.limit(
            c.ENV_HEARTBEAT_LIMIT_PER_MINUTE, "heartbeat_limit_per_minute"
        ),
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


def _janitor(env: _Reader) -> JanitorSettings:
    return JanitorSettings(
        common=_common(env),
        sessions_table=env.table(c.ENV_SESSIONS_TABLE),
        connections_table=env.table(c.ENV_CONNECTIONS_TABLE),
        rate_limits_table=env.table(c.ENV_RATE_LIMITS_TABLE),
        callback_url=env.url(c.ENV_CALLBACK_URL),
        speaker_staleness_seconds=env.limit(
            c.ENV_SPEAKER_STALENESS_SECONDS, "speaker_staleness_seconds"
        ),
    )


# function key (session_service.specs) -> the loader of its settings
_LOADERS: dict[str, Callable[[_Reader], Settings]] = {
    specs.AUTHORIZER.key: _authorizer,
    specs.CONNECTION.key: _connect,
    specs.HEARTBEAT.key: _heartbeat,
    specs.DISCONNECT.key: _disconnect,
    specs.REFRESH.key: _refresh,
    specs.JANITOR.key: _janitor,
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
