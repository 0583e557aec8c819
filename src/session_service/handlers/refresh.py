"""refreshConnection route entry point."""

from __future__ import annotations

from session_service.config import RefreshSettings
from session_service.handlers._message_route import message_function
from session_service.logic.refresh import RefreshService

ROUTE = "refreshConnection"

function = message_function("refresh", ROUTE, RefreshSettings, RefreshService)
build = function.build
handler = function.handler
