"""heartbeat route entry point; it also serves ``$default``, refusing every message there."""

from __future__ import annotations

from session_service.config import HeartbeatSettings
from session_service.handlers._message_route import message_function
from session_service.logic.heartbeat import HeartbeatService

ROUTE = "heartbeat"

function = message_function("heartbeat", ROUTE, HeartbeatSettings, HeartbeatService)
build = function.build
handler = function.handler
