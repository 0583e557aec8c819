"""`$connect` entry point: createSession, joinSession, refreshConnection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from session_service.config import ConnectSettings, load_typed
from session_service.data.rate_limits import RateLimitStore
from session_service.data.sessions import SessionStore
from session_service.handlers._runtime import (
    Clock,
    answer_connect,
    default_clock,
    dynamodb_client,
    query_parameters,
)
from session_service.logic.connect import ConnectService
from session_service.observability import Telemetry, logger


def build(
    environ: Mapping[str, str], *, dynamodb: Any = None, clock: Clock = default_clock
) -> ConnectService:
    """The service wired from ``environ``; pass ``dynamodb`` to use another client."""
    settings = load_typed("connection", environ, ConnectSettings)
    logger.setLevel(settings.common.log_level)
    client = dynamodb or dynamodb_client(settings.common.region)
    return ConnectService(
        settings=settings,
        sessions=SessionStore(client, settings.sessions_table, settings.connections_table),
        limits=RateLimitStore(client, settings.rate_limits_table),
        telemetry=Telemetry(settings.common.environment),
        clock=clock,
    )


@cache
def _default() -> ConnectService:
    return build(os.environ)


def handler(event: Any, context: Any, service: ConnectService | None = None) -> dict[str, Any]:
    service = service or _default()
    params = query_parameters(event)
    return answer_connect(
        event,
        context,
        lambda who: service.connect(params, who),
        service.telemetry,
        service.clock,
    )
