"""What each handler may do: the one table of IAM actions per function (least privilege).

Adjust here when a handler's data access changes; the functions construct turns each row into a
statement of that function's own role. A ``TransactWriteItems`` call is authorized per item by
the item's action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), so it needs no row.

Targets:
- ``sessions``, ``connections``, ``rate_limits``: the table (its ARN);
- ``connections_gsi``: the index ``sessionId-targetLanguage-index`` of the Connections table;
- ``connections_api``: ``execute-api:ManageConnections`` on this API's stage, for the methods named
  (POST = send a message, DELETE = close a connection, GET = read a connection's status).
"""

from __future__ import annotations

from dataclasses import dataclass

SESSIONS = "sessions"
CONNECTIONS = "connections"
RATE_LIMITS = "rate_limits"
CONNECTIONS_GSI = "connections_gsi"
CONNECTIONS_API = "connections_api"


@dataclass(frozen=True)
class Grant:
    target: str
    actions: tuple[str, ...]


def _dynamodb(*operations: str) -> tuple[str, ...]:
    return tuple(f"dynamodb:{operation}" for operation in operations)


HANDLER_PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # counts connection attempts per IP (one conditional UpdateItem)
    "authorizer": (Grant(RATE_LIMITS, _dynamodb("UpdateItem")),),
    # create / join / refresh on $connect: conditional put of the session, listener count and
    # active-sessions counters, connection items (in transactions)
    "connection": (
        Grant(SESSIONS, _dynamodb("GetItem", "PutItem", "UpdateItem", "ConditionCheckItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "PutItem", "UpdateItem")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
    ),
    # liveness, welcome/refresh/warning messages, per-connection heartbeat limit
    "heartbeat": (
        Grant(CONNECTIONS, _dynamodb("GetItem", "UpdateItem")),
        Grant(SESSIONS, _dynamodb("GetItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    # speaker leaves: end the session, tell every listener, delete its connection items;
    # listener leaves: delete its item, decrement the count; active-sessions counter
    "disconnect": (
        Grant(SESSIONS, _dynamodb("GetItem", "UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "DeleteItem", "BatchWriteItem")),
        Grant(CONNECTIONS_GSI, _dynamodb("Query")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS_API, ("POST", "DELETE")),
    ),
    # completes a refresh on the new connection
    "refresh": (
        Grant(SESSIONS, _dynamodb("GetItem", "UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "UpdateItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
}
