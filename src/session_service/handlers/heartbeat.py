"""heartbeat route entry point; it also serves ``$default``, refusing every message there."""

from __future__ import annotations

from session_service import specs
from session_service.config import HeartbeatSettings
from session_service.handlers._message_route import message_function
from session_service.logic.heartbeat import HeartbeatService
from session_service.protocol import Action

ROUTE = Action.HEARTBEAT

function = message_function(specs.HEARTBEAT.key, ROUTE, HeartbeatSettings, HeartbeatService)
build = function.build
handler = function.handler
