"""`$connect` entry point: createSession, joinSession, refreshConnection."""

from __future__ import annotations

from typing import Any

from session_service import specs
from session_service.config import ConnectSettings
from session_service.data.rate_limits import RateLimitStore
from session_service.data.sessions import SessionStore
from session_service.handlers._factory import Function, Parts
from session_service.handlers._runtime import answer_connect, query_parameters
from session_service.logic.connect import ConnectService


def assemble(parts: Parts[ConnectSettings]) -> ConnectService:
    s = parts.settings
    return ConnectService(
        settings=s,
        sessions=SessionStore(parts.dynamodb, s.sessions_table, s.connections_table),
        limits=RateLimitStore(parts.dynamodb, s.rate_limits_table),
        telemetry=parts.telemetry,
        clock=parts.clock,
    )


def answer(service: ConnectService, event: Any, context: Any) -> dict[str, Any]:
    params = query_parameters(event)
    return answer_connect(
        event,
        context,
        lambda who: service.connect(params, who),
        service.telemetry,
        service.clock,
    )


function = Function(specs.CONNECTION.key, ConnectSettings, assemble, answer)
build = function.build
handler = function.handler
