"""refreshConnection route entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from session_service.config import RefreshSettings, load_typed
from session_service.data.sessions import SessionStore
from session_service.handlers._runtime import (
    Clock,
    answer_message,
    default_clock,
    dynamodb_client,
    management_client,
)
from session_service.logic.notifier import Notifier
from session_service.logic.refresh import RefreshService
from session_service.observability import Telemetry, logger

ROUTE = "refreshConnection"


def build(
    environ: Mapping[str, str],
    *,
    dynamodb: Any = None,
    management: Any = None,
    clock: Clock = default_clock,
) -> RefreshService:
    settings = load_typed("refresh", environ, RefreshSettings)
    logger.setLevel(settings.common.log_level)
    client = dynamodb or dynamodb_client(settings.common.region)
    return RefreshService(
        settings=settings,
        sessions=SessionStore(client, settings.sessions_table, settings.connections_table),
        notifier=Notifier(
            management or management_client(settings.callback_url, settings.common.region)
        ),
        telemetry=Telemetry(settings.common.environment),
        clock=clock,
    )


@cache
def _default() -> RefreshService:
    return build(os.environ)


def handler(event: Any, context: Any, service: RefreshService | None = None) -> dict[str, Any]:
    service = service or _default()
    return answer_message(
        event,
        context,
        ROUTE,
        service.complete,
        service.notifier.post,
        service.telemetry,
        service.clock,
    )
