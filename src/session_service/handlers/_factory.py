"""One way to make a Lambda function's entry point: ``build``, its cached default, ``handler``.

Every function is the same three steps: validate its settings (once per container, at cold
start), make the clients it needs (once per container; a test injects moto's, a counting one or
the local Management API instead), and assemble its service from them. Only the assembly and
the answer differ, so a handler module is those two functions and one :class:`Function`::

    function = Function("refresh", RefreshSettings, assemble, answer)
    build, handler = function.build, function.handler
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from session_service.config import CommonSettings, load_typed
from session_service.handlers._runtime import (
    Clock,
    default_clock,
    dynamodb_client,
    management_client,
)
from session_service.observability import Telemetry, logger

if TYPE_CHECKING:
    from session_service.auth.jwt_verifier import JwksCache
    from session_service.logic.notifier import Notifier


class HasCommon(Protocol):
    """Every function's settings carry the common part (environment, log level, region)."""

    @property
    def common(self) -> CommonSettings: ...


class Served(Protocol):
    """A service the answers can flush metrics for."""

    @property
    def telemetry(self) -> Telemetry: ...


S = TypeVar("S", bound=HasCommon)
T = TypeVar("T", bound=Served)
Answer = Callable[[T, Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class Parts(Generic[S]):
    """What a service is assembled from: its settings and the container's clients."""

    settings: S
    dynamodb: Any
    telemetry: Telemetry
    clock: Clock
    management: Any = None  # injected Management API client; None makes one per callback URL
    jwks: JwksCache | None = None  # injected key cache (the authorizer's)

    def notifier(self, callback_url: str) -> Notifier:
        """Messages to connections through the stage's ``@connections`` endpoint.

        Imported here: `$connect` and the authorizer post nothing, so their cold start skips it.
        """
        from session_service.data.management_api import ManagementApi
        from session_service.logic.notifier import Notifier

        client = self.management or management_client(callback_url, self.settings.common.region)
        return Notifier(ManagementApi(client))


class Function(Generic[S, T]):
    """One Lambda function: the settings it reads, how its service is assembled, its answer."""

    def __init__(
        self,
        key: str,
        settings: type[S],
        assemble: Callable[[Parts[S]], T],
        answer: Answer[T],
    ) -> None:
        self.key = key
        self._settings = settings
        self._assemble = assemble
        self._answer = answer

    def build(
        self,
        environ: Mapping[str, str],
        *,
        dynamodb: Any = None,
        management: Any = None,
        jwks: JwksCache | None = None,
        clock: Clock = default_clock,
    ) -> T:
        """The service wired from ``environ``; pass a client or cache to use it instead."""
        settings = load_typed(self.key, environ, self._settings)
        logger.setLevel(settings.common.log_level)
        parts = Parts(
            settings=settings,
            dynamodb=dynamodb or dynamodb_client(settings.common.region),
            telemetry=Telemetry(settings.common.environment),
            clock=clock,
            management=management,
            jwks=jwks,
        )
        return self._assemble(parts)

    @cached_property
    def default(self) -> T:
        """The service of this container, built from its environment on first use."""
        import os

        return self.build(os.environ)

    def handler(self, event: Any, context: Any, service: T | None = None) -> dict[str, Any]:
        """The Lambda entry point; tests pass ``service`` to answer with their own wiring."""
        logger.clear_state()  # keys of the previous invocation do not describe this one
        return self._answer(service or self.default, event, context)
