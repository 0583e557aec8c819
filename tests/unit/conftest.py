"""Unit tests run without network: any attempt to open a socket fails the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return


@pytest.fixture
def base_env() -> dict[str, str]:
    return {
        "AWS_REGION": "eu-west-1",
        "ENVIRONMENT": "dev",
        "LOG_LEVEL": "INFO",
        "POWERTOOLS_SERVICE_NAME": "session-management",
        "POWERTOOLS_METRICS_NAMESPACE": "SessionManagement",
        "SESSIONS_TABLE": "Sessions-dev",
        "CONNECTIONS_TABLE": "Connections-dev",
        "RATE_LIMITS_TABLE": "RateLimits-dev",
        "CALLBACK_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/",
        "SUPPORTED_LANGUAGES": "en, es,fr",
        "MAX_LISTENERS_PER_SESSION": "500",
        "MAX_ACTIVE_SESSIONS": "100",
        "SESSION_DURATION_MINUTES": "120",
        "CONNECTION_TTL_MINUTES": "180",
        "CONNECTION_REFRESH_MINUTES": "100",
        "CONNECTION_WARNING_MINUTES": "105",
        "SESSION_CREATE_LIMIT_PER_HOUR": "50",
        "LISTENER_JOIN_LIMIT_PER_MINUTE": "10",
        "SPEAKER_STALENESS_SECONDS": "105",
        "CONNECTION_ATTEMPT_LIMIT_PER_MINUTE": "20",
        "HEARTBEAT_LIMIT_PER_MINUTE": "10",
        "USER_POOL_ID": "eu-west-1_AbC123",
        "APP_CLIENT_ID": "client123",
    }
