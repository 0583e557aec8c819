"""refreshConnection route entry point."""

from __future__ import annotations

from session_service import specs
from session_service.config import RefreshSettings
from session_service.handlers._message_route import message_function
from session_service.logic.refresh import RefreshService
from session_service.protocol import Action

ROUTE = Action.REFRESH_CONNECTION

function = message_function(specs.REFRESH.key, ROUTE, RefreshSettings, RefreshService)
build = function.build
handler = function.handler
