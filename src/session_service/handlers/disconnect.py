"""`$disconnect` entry point."""

from __future__ import annotations

from typing import Any

from session_service import constants as c
from session_service import specs
from session_service.config import DisconnectSettings
from session_service.data.sessions import SessionStore
from session_service.handlers._factory import Function, Parts
from session_service.handlers._runtime import caller, log_context
from session_service.logic.disconnect import DisconnectService
from session_service.observability import logger
from session_service.protocol import DISCONNECT_ROUTE


def assemble(parts: Parts[DisconnectSettings]) -> DisconnectService:
    s = parts.settings
    return DisconnectService(
        settings=s,
        sessions=SessionStore(
            parts.dynamodb, s.sessions_table, s.connections_table, s.rate_limits_table
        ),
        notifier=parts.notifier(s.callback_url),
        telemetry=parts.telemetry,
        clock=parts.clock,
    )


def answer(service: DisconnectService, event: Any, context: Any) -> dict[str, Any]:
    """Clean up after a closed socket. The client is gone, so failures are logged, not sent."""
    who = caller(event)
    log_context(who, DISCONNECT_ROUTE, None, context)
    try:
        if who.connection_id:
            service.disconnect(who.connection_id)
        return {"statusCode": 200}
    except Exception:
        logger.exception("disconnect cleanup failed")
        service.telemetry.count(c.METRIC_CONNECTION_ERRORS)
        return {"statusCode": 500}
    finally:
        service.telemetry.flush()


function = Function(specs.DISCONNECT.key, DisconnectSettings, assemble, answer)
build = function.build
handler = function.handler
