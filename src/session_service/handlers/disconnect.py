"""`$disconnect` entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from session_service import constants as c
from session_service.config import DisconnectSettings, load_typed
from session_service.data.sessions import SessionStore
from session_service.handlers._runtime import (
    Clock,
    caller,
    default_clock,
    dynamodb_client,
    management_client,
)
from session_service.logic.disconnect import DisconnectService
from session_service.logic.notifier import Notifier
from session_service.observability import Telemetry, hash_id, logger


def build(
    environ: Mapping[str, str],
    *,
    dynamodb: Any = None,
    management: Any = None,
    clock: Clock = default_clock,
) -> DisconnectService:
    settings = load_typed("disconnect", environ, DisconnectSettings)
    logger.setLevel(settings.common.log_level)
    client = dynamodb or dynamodb_client(settings.common.region)
    return DisconnectService(
        settings=settings,
        sessions=SessionStore(
            client,
            settings.sessions_table,
            settings.connections_table,
            settings.rate_limits_table,
        ),
        notifier=Notifier(
            management or management_client(settings.callback_url, settings.common.region)
        ),
        telemetry=Telemetry(settings.common.environment),
        clock=clock,
    )


@cache
def _default() -> DisconnectService:
    return build(os.environ)


def handler(event: Any, context: Any, service: DisconnectService | None = None) -> dict[str, Any]:
    """Clean up after a closed socket. The client is gone, so failures are logged, not sent."""
    service = service or _default()
    who = caller(event)
    logger.append_keys(
        route="$disconnect",
        connection=hash_id(who.connection_id) if who.connection_id else None,
        request_id=getattr(context, "aws_request_id", None),
    )
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
