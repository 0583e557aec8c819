"""What a local gateway serves: its configuration, its routes and API Gateway's limits.

Shared by the server, the event shapes and the policy evaluator, so that none of them imports
another for a constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.runtime import InvokeResult
from session_service import protocol

Integration = Callable[[dict[str, Any]], InvokeResult]

KB = 1024
FRAME_LIMIT = 32 * KB
MESSAGE_LIMIT = 128 * KB
AUTHORIZER_RESULT_LIMIT = 8 * KB
URL_LIMIT = 4096
IDLE_TIMEOUT = 10 * 60.0
MAX_DURATION = 2 * 60 * 60.0
# API Gateway's own route keys, as the protocol spells them.
CONNECT = protocol.CONNECT_ROUTE
DISCONNECT = protocol.DISCONNECT_ROUTE
DEFAULT = protocol.DEFAULT_ROUTE


@dataclass
class Route:
    """One route: its integration and, on ``$connect`` only, its authorizer."""

    key: str
    integration: Integration
    authorizer: Integration | None = None
    # A route response on the route (two-way): the integration's body is sent to the client.
    two_way: bool = False


@dataclass
class GatewayConfig:
    api_id: str
    stage: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    route_selection_expression: str = "$request.body.action"
    host: str = "127.0.0.1"
    port: int = 0
    management_port: int = 0
    idle_timeout: float = IDLE_TIMEOUT
    max_duration: float = MAX_DURATION
    frame_limit: int = FRAME_LIMIT
    message_limit: int = MESSAGE_LIMIT
    # A local aid, off as in AWS: a handshake refused by the $connect integration is answered
    # with the integration's body (the error: code, message, details) and, when the details
    # carry ``retryAfter``, a Retry-After header, so a person testing by hand sees why and for
    # how long. API Gateway sends the status only.
    explain_refusals: bool = False

    @property
    def domain_name(self) -> str:
        """The API's execute-api domain, as API Gateway puts it in ``requestContext``."""
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"

    @property
    def method_arn(self) -> str:
        """The ``$connect`` route's ARN, the resource an authorizer's policy must allow."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/"
            f"{self.stage}/{CONNECT}"
        )


class HandshakeRefused(Exception):
    """A ``$connect`` the gateway refuses: the handshake is answered with ``status``."""

    def __init__(self, status: int, reason: str, body: str | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.body = body  # the $connect integration's, when it refused the handshake
