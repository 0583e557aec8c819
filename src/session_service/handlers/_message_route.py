"""The message routes' one implementation: heartbeat and refreshConnection differ only in the
service that does the work.

Both read the Sessions and Connections tables, post to the caller through ``@connections``,
and answer through :func:`~session_service.handlers._runtime.answer_message` (a refusal is
posted to the caller as an ``error`` message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from session_service.data.sessions import SessionStore
from session_service.handlers._factory import Function, HasCommon, Parts
from session_service.handlers._runtime import Clock, answer_message
from session_service.logic.ports import Messenger
from session_service.models import Caller
from session_service.observability import Telemetry


class MessageSettings(HasCommon, Protocol):
    @property
    def sessions_table(self) -> str: ...

    @property
    def connections_table(self) -> str: ...

    @property
    def callback_url(self) -> str: ...


class MessageService(Protocol):
    """A message route's service: one call per message, and how to answer its caller."""

    @property
    def notifier(self) -> Messenger: ...

    @property
    def telemetry(self) -> Telemetry: ...

    @property
    def clock(self) -> Clock: ...

    def handle(self, caller: Caller) -> None: ...


S = TypeVar("S", bound=MessageSettings)
T = TypeVar("T", bound=MessageService)


def message_function(
    key: str, route: str, settings: type[S], service: Callable[..., T]
) -> Function[S, T]:
    """The function serving message route ``route`` with ``service`` (a dataclass taking
    settings, sessions, notifier, telemetry and clock)."""

    def assemble(parts: Parts[S]) -> T:
        s = parts.settings
        return service(
            settings=s,
            sessions=SessionStore(parts.dynamodb, s.sessions_table, s.connections_table),
            notifier=parts.notifier(s.callback_url),
            telemetry=parts.telemetry,
            clock=parts.clock,
        )

    def answer(served: T, event: Any, context: Any) -> dict[str, Any]:
        return answer_message(
            event,
            context,
            route,
            served.handle,
            served.notifier.post,
            served.telemetry,
            served.clock,
        )

    return Function(key, settings, assemble, answer)
