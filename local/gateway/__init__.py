"""A local API Gateway for WebSocket APIs: the client side and the ``@connections`` API.

What it does as API Gateway does (local/README.md lists what it does not):

- serves ``ws://HOST:PORT/{stage}``; a ``$connect`` runs the REQUEST authorizer, when the route
  has one, and enforces its policy (authorizer error "Unauthorized" → 401, Deny → 403, any other
  failure → 500), then the ``$connect`` integration, whose ``statusCode`` decides the handshake;
- selects the route of each message by ``$request.body.action``, falls back to ``$default``,
  and answers ``{"message": "Forbidden", …}`` when neither exists; a function error is answered
  with ``{"message": "Internal server error", …}``; binary frames close the socket with 1003;
- 32 KB frames and 128 KB messages, a larger one closes the socket with 1009;
- closes a socket idle for 10 minutes or open for 2 hours (1001), both configurable for tests;
- calls ``$disconnect`` after every close;
- serves the management API on a second port: POST, GET and DELETE on
  ``/{stage}/@connections/{connectionId}``; a connection that is gone (or still in its
  ``$connect``) answers 410 ``GoneException``.

Integrations are blocking callables (``event -> InvokeResult``) run in a thread pool, so the
event loop keeps serving while handlers run and call back into the management API.

Modules, by what they hold: :mod:`~local.gateway.api` (configuration, routes, limits),
:mod:`~local.gateway.server` (the WebSocket server), :mod:`~local.gateway.events` (the event
shapes), :mod:`~local.gateway.management` (the ``@connections`` HTTP API),
:mod:`~local.gateway.policy` (the IAM policy evaluator).
"""

from __future__ import annotations

from local.gateway.api import GatewayConfig, HandshakeRefused, Integration, Route
from local.gateway.policy import evaluate_policy
from local.gateway.server import Gateway

__all__ = [
    "Gateway",
    "GatewayConfig",
    "HandshakeRefused",
    "Integration",
    "Route",
    "evaluate_policy",
]
