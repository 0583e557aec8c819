"""Settings: each handler reads exactly its variables and refuses bad ones clearly."""

from __future__ import annotations

import pytest

from session_service import constants as c
from session_service.config import (
    AuthorizerSettings,
    ConnectSettings,
    HeartbeatSettings,
    load_settings,
)
from session_service.exceptions import ConfigurationError
from session_service.specs import FUNCTIONS


class Recording(dict):
    def __init__(self, data: dict[str, str]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("handler", list(FUNCTIONS))
def test_each_handler_reads_exactly_its_declared_variables(handler: str, base_env) -> None:
    environ = Recording({**base_env, "JWKS_URL": ""})
    load_settings(handler, environ)
    extra = {"AWS_REGION"} | ({c.ENV_JWKS_URL} if handler == "authorizer" else set())
    assert environ.read == set(FUNCTIONS[handler].environment) | extra


@pytest.mark.parametrize("handler", list(FUNCTIONS))
def test_each_missing_variable_is_named_in_the_error(handler: str, base_env) -> None:
    for name in FUNCTIONS[handler].environment:
        environ = {k: v for k, v in base_env.items() if k != name}
        with pytest.raises(ConfigurationError) as raised:
            load_settings(handler, environ)
        assert raised.value.variable == name
        assert name in str(raised.value)
        assert "expected" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_LISTENERS_PER_SESSION", "many"),
        ("MAX_LISTENERS_PER_SESSION", "0"),
        ("SUPPORTED_LANGUAGES", "english,spanish"),
        ("SUPPORTED_LANGUAGES", ","),
        ("SESSIONS_TABLE", "x"),
        ("LOG_LEVEL", "LOUD"),
        ("POWERTOOLS_METRICS_NAMESPACE", "Other"),
        ("POWERTOOLS_SERVICE_NAME", "other-service"),
        ("ENVIRONMENT", "Prod!"),
    ],
)
def test_malformed_connection_settings_are_refused(name: str, value: str, base_env) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings("connection", {**base_env, name: value})


def test_connection_settings_are_parsed_into_a_frozen_dataclass(base_env) -> None:
    settings = load_settings("connection", base_env)
    assert isinstance(settings, ConnectSettings)
    assert settings.supported_languages == frozenset({"en", "es", "fr"})
    assert settings.max_listeners_per_session == 500
    with pytest.raises(AttributeError):
        settings.max_active_sessions = 1  # type: ignore[misc]


def test_callback_url_must_be_http_and_loses_its_trailing_slash(base_env) -> None:
    settings = load_settings("heartbeat", base_env)
    assert isinstance(settings, HeartbeatSettings)
    assert settings.callback_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    assert settings.min_heartbeat_interval_ms == 6000
    with pytest.raises(ConfigurationError, match="CALLBACK_URL"):
        load_settings("heartbeat", {**base_env, "CALLBACK_URL": "ftp://x"})


def test_warning_must_come_after_the_refresh_notice(base_env) -> None:
    with pytest.raises(ConfigurationError, match="CONNECTION_WARNING_MINUTES"):
        load_settings("heartbeat", {**base_env, "CONNECTION_WARNING_MINUTES": "90"})


def test_authorizer_derives_issuer_and_jwks_url_from_region_and_pool(base_env) -> None:
    settings = load_settings("authorizer", base_env)
    assert isinstance(settings, AuthorizerSettings)
    assert settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    assert settings.jwks_url == settings.issuer + "/.well-known/jwks.json"
    override = load_settings("authorizer", {**base_env, "JWKS_URL": "http://127.0.0.1:9/j"})
    assert isinstance(override, AuthorizerSettings)
    assert override.jwks_url == "http://127.0.0.1:9/j"


def test_unknown_handler_name_is_refused(base_env) -> None:
    with pytest.raises(ValueError, match="unknown handler"):
        load_settings("websocket", base_env)


@pytest.mark.parametrize(
    ("refresh", "warning", "parsed"),
    [
        ("100", "105", (100.0, 105.0)),
        ("0.05", "0.1", (0.05, 0.1)),
        (" 1.5 ", "2", (1.5, 2.0)),
        ("0.5", "119", (0.5, 119.0)),
    ],
)
def test_notice_minutes_accept_positive_fractions(
    refresh: str, warning: str, parsed: tuple[float, float], base_env
) -> None:
    environ = {
        **base_env,
        "CONNECTION_REFRESH_MINUTES": refresh,
        "CONNECTION_WARNING_MINUTES": warning,
    }
    settings = load_settings("heartbeat", environ)
    assert isinstance(settings, HeartbeatSettings)
    assert (settings.connection_refresh_minutes, settings.connection_warning_minutes) == parsed


@pytest.mark.parametrize("name", ["CONNECTION_REFRESH_MINUTES", "CONNECTION_WARNING_MINUTES"])
@pytest.mark.parametrize("value", ["0", "0.0", "-1", "-0.05", "soon", "1 min", "nan", "inf", "120"])
def test_notice_minutes_refuse_non_positive_non_numeric_and_too_late_values(
    name: str, value: str, base_env
) -> None:
    environ = {**base_env, name: value}
    if name == "CONNECTION_REFRESH_MINUTES":  # keep the warning after a valid refresh
        environ["CONNECTION_WARNING_MINUTES"] = "119"
    with pytest.raises(ConfigurationError) as raised:
        load_settings("heartbeat", environ)
    assert raised.value.variable == name
    assert "above 0 and at most 119" in str(raised.value)
    assert repr(value) in str(raised.value)


def test_fractional_warning_must_still_follow_the_refresh_notice(base_env) -> None:
    environ = {**base_env, "CONNECTION_REFRESH_MINUTES": "0.1", "CONNECTION_WARNING_MINUTES": "0.1"}
    with pytest.raises(ConfigurationError, match=r"more than CONNECTION_REFRESH_MINUTES \(0\.1\)"):
        load_settings("heartbeat", environ)
    environ["CONNECTION_WARNING_MINUTES"] = "0.15"
    settings = load_settings("heartbeat", environ)
    assert isinstance(settings, HeartbeatSettings)
    assert settings.connection_warning_minutes == 0.15


@pytest.mark.parametrize("name", ["SESSION_DURATION_MINUTES", "CONNECTION_TTL_MINUTES"])
def test_durations_that_become_epoch_second_ttls_stay_whole_minutes(name: str, base_env) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} is '0.5'; expected a whole number"):
        load_settings("connection", {**base_env, name: "0.5"})
