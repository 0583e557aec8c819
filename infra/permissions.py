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


# Derived from the data layer's calls per handler (session_service.data.sessions / rate_limits,
# logic.notifier) as of this writing; keep in step with them.
HANDLER_PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # RateLimitStore.consume: per-IP connection attempts (one conditional UpdateItem)
    "authorizer": (Grant(RATE_LIMITS, _dynamodb("UpdateItem")),),
    # $connect: create_session (transaction: Put session + Put connection), add_listener and
    # move_speaker (transaction: Put connection + Update session), get_session; rate limits and
    # the active-sessions counter (UpdateItem)
    "connection": (
        Grant(SESSIONS, _dynamodb("GetItem", "PutItem", "UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("PutItem")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
    ),
    # record_heartbeat and mark_once (UpdateItem, ALL_OLD); welcome/refresh/warning messages
    "heartbeat": (
        Grant(CONNECTIONS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    # get_connection; remove_listener (transaction: Delete connection + Update session);
    # end_session (transaction: Delete connection + Update session + Update active-sessions
    # counter); listener_pages (Query on the GSI); delete_connections (BatchWriteItem);
    # sessionEnded to every listener
    "disconnect": (
        Grant(SESSIONS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "DeleteItem", "BatchWriteItem")),
        Grant(CONNECTIONS_GSI, _dynamodb("Query")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    # get_connection; connectionRefreshComplete to the caller
    "refresh": (
        Grant(CONNECTIONS, _dynamodb("GetItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
}
