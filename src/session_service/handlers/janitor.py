"""Janitor entry point: invoked by its EventBridge schedule (specs.JANITOR), not by a route.

The event carries nothing the run needs; the invocation's remaining time is its budget. A
failed run is logged and counted and raises, so the function's error alarm sees it; the next
scheduled run starts again from the indexes (the rule does not retry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from session_service import specs
from session_service.config import JanitorSettings
from session_service.data.liveness import LivenessStore
from session_service.data.sessions import SessionStore
from session_service.handlers._factory import Function, Parts
from session_service.logic.janitor import JanitorService
from session_service.observability import logger

# Work starts only while this much of the invocation is left: a page of endings and its
# fan-out finish well within it.
TIME_MARGIN_MS = 15_000


def assemble(parts: Parts[JanitorSettings]) -> JanitorService:
    s = parts.settings
    return JanitorService(
        settings=s,
        sessions=SessionStore(
            parts.dynamodb, s.sessions_table, s.connections_table, s.rate_limits_table
        ),
        liveness=LivenessStore(
            parts.dynamodb, s.sessions_table, s.connections_table, s.rate_limits_table
        ),
        notifier=parts.notifier(s.callback_url),
        telemetry=parts.telemetry,
        clock=parts.clock,
    )


def _budget(context: Any) -> Callable[[], bool]:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return lambda: True
    return lambda: bool(remaining() > TIME_MARGIN_MS)


def answer(service: JanitorService, event: Any, context: Any) -> dict[str, Any]:
    """One scheduled run; its report, as a dict (the invocation's result)."""
    logger.append_keys(function=specs.JANITOR.key)
    try:
        report = service.run(_budget(context))
    except Exception:
        logger.exception("janitor run failed")
        raise
    finally:
        service.telemetry.flush()
    return {
        "sessionsEnded": report.sessions_ended,
        "connectionsRemoved": report.connections_removed,
        "endsFinished": report.ends_finished,
        "countsCorrected": report.counts_corrected,
        "activeSessions": report.active_sessions,
        "complete": report.complete,
    }


function = Function(specs.JANITOR.key, JanitorSettings, assemble, answer)
build = function.build
handler = function.handler
