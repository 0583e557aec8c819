"""One spec per Lambda function and per WebSocket route: the registry every consumer iterates.

The CDK app builds each function, role, log group, alarm and stack output from its
:class:`FunctionSpec` and each route and integration from its :class:`RouteSpec`; the handlers'
settings read exactly a spec's ``environment``; ``ci/`` checks the deployment against the specs;
the local environment and the bench find functions by them. Adding a function or a route is one
entry here plus its own code and tests.

Like :mod:`session_service.constants`, this module imports nothing heavy (dataclasses, and the
two name modules): handlers import it at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

from session_service import constants as c
from session_service import protocol as p

# --- Grants -------------------------------------------------------------------------------
# What a grant names: one of the tables (keys of constants.TABLES, the table's ARN), one of
# their indexes (INDEXES), or this API's @connections endpoint (execute-api:ManageConnections
# on the API's stage, for the HTTP methods named: POST = send a message, DELETE = close a
# connection, GET = read a connection's status).
SESSIONS = c.TABLE_SESSIONS
CONNECTIONS = c.TABLE_CONNECTIONS
RATE_LIMITS = c.TABLE_RATE_LIMITS
CONNECTIONS_GSI = "connections_gsi"
CONNECTIONS_LIVENESS = "connections_liveness"  # the Connections table's liveness index
SESSIONS_SWEEP = "sessions_sweep"  # the Sessions table's sweep index
CONNECTIONS_API = "connections_api"


# index grant target -> (table key, index name)
INDEXES: dict[str, tuple[str, str]] = {
    CONNECTIONS_GSI: (CONNECTIONS, c.CONNECTIONS_GSI_NAME),
    CONNECTIONS_LIVENESS: (CONNECTIONS, c.CONNECTIONS_LIVENESS_INDEX),
    SESSIONS_SWEEP: (SESSIONS, c.SESSIONS_SWEEP_INDEX),
}


@dataclass(frozen=True)
class Grant:
    """Actions a function may take on one target (IAM actions, or @connections methods)."""

    target: str
    actions: tuple[str, ...]


def _dynamodb(*operations: str) -> tuple[str, ...]:
    return tuple(f"dynamodb:{operation}" for operation in operations)


# --- Functions ----------------------------------------------------------------------------
# Every handler reads these, whatever else it reads.
COMMON_ENVIRONMENT: tuple[str, ...] = (
    c.ENV_ENVIRONMENT,
    c.ENV_LOG_LEVEL,
    c.ENV_POWERTOOLS_SERVICE_NAME,
    c.ENV_POWERTOOLS_METRICS_NAMESPACE,
)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything about one Lambda function that more than its own handler needs to know.

    ``environment`` is exactly what the handler's settings read: the CDK app sets exactly these,
    the verification checks exactly these. ``grants`` is its least privilege, derived from the
    data layer's calls (a ``TransactWriteItems`` call is authorized per item by the item's action,
    so it needs no grant of its own). ``bundle`` names the package set its code ships with
    (``infra/bundling.py``).
    """

    key: str
    construct_id: str  # readable part of its logical ids: <id>Function, <id>Role, <id>LogGroup
    name_template: str  # "{env}" is replaced by the environment's name
    entry_point: str  # module.function, the Lambda handler setting
    memory_mb: int
    timeout_s: int
    environment: tuple[str, ...]
    grants: tuple[Grant, ...]
    output_id: str  # stack output holding the function's name
    bundle: str = "handlers"
    # A function with a schedule is invoked by an EventBridge rule, not by a route: the key of
    # the EnvironmentConfig.limits field holding its rate in minutes.
    schedule_rate_setting: str | None = None

    def function_name(self, env: str) -> str:
        return self.name_template.format(env=env)

    def schedule_name(self, env: str) -> str | None:
        """Name of the EventBridge rule that invokes a scheduled function (None: no schedule)."""
        if self.schedule_rate_setting is None:
            return None
        return f"{self.function_name(env)}-schedule"

    @property
    def module(self) -> str:
        """The module of the entry point (what a cold start imports)."""
        return self.entry_point.rsplit(".", 1)[0]

    @property
    def error_alarm(self) -> str:
        """Key of the alarm on this function's errors (``constants.ALARM_NAME_TEMPLATE``)."""
        return c.ALARM_FUNCTION_ERRORS_TEMPLATE.format(handler=self.key)


# The functions; memory and timeout are the deployment checklist's figures.
AUTHORIZER = FunctionSpec(
    key="authorizer",
    construct_id="Authorizer",
    name_template="session-authorizer-{env}",
    entry_point="session_service.handlers.authorizer.handler",
    memory_mb=128,
    timeout_s=10,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_RATE_LIMITS_TABLE,
        c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE,
        c.ENV_USER_POOL_ID,
        c.ENV_APP_CLIENT_ID,
    ),
    # RateLimitStore.consume: per-IP connection attempts (one conditional UpdateItem)
    grants=(Grant(RATE_LIMITS, _dynamodb("UpdateItem")),),
    output_id="AuthorizerFunctionName",
    bundle="authorizer",
)
CONNECTION = FunctionSpec(
    key="connection",
    construct_id="ConnectionHandler",
    name_template="session-connection-handler-{env}",
    entry_point="session_service.handlers.connect.handler",
    memory_mb=256,
    timeout_s=30,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_SESSIONS_TABLE,
        c.ENV_CONNECTIONS_TABLE,
        c.ENV_RATE_LIMITS_TABLE,
        c.ENV_SUPPORTED_LANGUAGES,
        c.ENV_MAX_LISTENERS_PER_SESSION,
        c.ENV_MAX_ACTIVE_SESSIONS,
        c.ENV_SESSION_DURATION_MINUTES,
        c.ENV_CONNECTION_TTL_MINUTES,
        c.ENV_SPEAKER_STALENESS_SECONDS,
        c.ENV_SESSION_CREATE_LIMIT_PER_HOUR,
        c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE,
    ),
    # $connect: create_session (transaction: Put session + Put connection), add_listener and
    # move_speaker (transaction: Put connection + Update session), get_session; rate limits and
    # the active-sessions counter (UpdateItem)
    grants=(
        Grant(SESSIONS, _dynamodb("GetItem", "PutItem", "UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("PutItem")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
    ),
    output_id="ConnectionHandlerFunctionName",
)
HEARTBEAT = FunctionSpec(
    key="heartbeat",
    construct_id="HeartbeatHandler",
    name_template="session-heartbeat-handler-{env}",
    entry_point="session_service.handlers.heartbeat.handler",
    memory_mb=128,
    timeout_s=10,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_SESSIONS_TABLE,
        c.ENV_CONNECTIONS_TABLE,
        c.ENV_CALLBACK_URL,
        c.ENV_CONNECTION_REFRESH_MINUTES,
        c.ENV_CONNECTION_WARNING_MINUTES,
        c.ENV_SESSION_DURATION_MINUTES,
        c.ENV_HEARTBEAT_LIMIT_PER_MINUTE,
    ),
    # record_heartbeat and mark_once (UpdateItem, ALL_OLD); welcome/refresh/warning messages
    grants=(
        Grant(CONNECTIONS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    output_id="HeartbeatHandlerFunctionName",
)
DISCONNECT = FunctionSpec(
    key="disconnect",
    construct_id="DisconnectHandler",
    name_template="session-disconnect-handler-{env}",
    entry_point="session_service.handlers.disconnect.handler",
    memory_mb=256,
    timeout_s=30,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_SESSIONS_TABLE,
        c.ENV_CONNECTIONS_TABLE,
        c.ENV_RATE_LIMITS_TABLE,
        c.ENV_CALLBACK_URL,
    ),
    # get_connection; remove_listener (transaction: Delete connection + Update session);
    # end_session (transaction: Delete connection + Update session + Update active-sessions
    # counter); listener_pages (Query on the GSI); delete_connections (BatchWriteItem);
    # sessionEnded to every listener
    grants=(
        Grant(SESSIONS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "DeleteItem", "BatchWriteItem")),
        Grant(CONNECTIONS_GSI, _dynamodb("Query")),
        Grant(RATE_LIMITS, _dynamodb("UpdateItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    output_id="DisconnectHandlerFunctionName",
)
REFRESH = FunctionSpec(
    key="refresh",
    construct_id="RefreshHandler",
    name_template="session-refresh-handler-{env}",
    entry_point="session_service.handlers.refresh.handler",
    memory_mb=256,
    timeout_s=30,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_SESSIONS_TABLE,
        c.ENV_CONNECTIONS_TABLE,
        c.ENV_CALLBACK_URL,
    ),
    # get_connection; connectionRefreshComplete to the caller
    grants=(
        Grant(CONNECTIONS, _dynamodb("GetItem")),
        Grant(CONNECTIONS_API, ("POST",)),
    ),
    output_id="RefreshHandlerFunctionName",
)

JANITOR = FunctionSpec(
    key="janitor",
    construct_id="Janitor",
    name_template="session-janitor-{env}",
    entry_point="session_service.handlers.janitor.handler",
    memory_mb=256,
    timeout_s=60,
    environment=(
        *COMMON_ENVIRONMENT,
        c.ENV_SESSIONS_TABLE,
        c.ENV_CONNECTIONS_TABLE,
        c.ENV_RATE_LIMITS_TABLE,
        c.ENV_CALLBACK_URL,
        c.ENV_SPEAKER_STALENESS_SECONDS,
    ),
    # silent connections (Query on the liveness index), unfinished ends (Query on the sweep
    # index); get_session / get_connection; end_session (transaction: Delete connection +
    # Update session + Update counter); remove_listener (transaction: Delete + Update);
    # listener_pages (Query on the GSI) and delete_connections (BatchWriteItem); the
    # active-sessions figure (GetItem, UpdateItem on RateLimits); sessionEnded to listeners,
    # and DELETE to close the socket of a speaker it ended.
    grants=(
        Grant(SESSIONS, _dynamodb("GetItem", "UpdateItem")),
        Grant(CONNECTIONS, _dynamodb("GetItem", "DeleteItem", "BatchWriteItem")),
        Grant(CONNECTIONS_GSI, _dynamodb("Query")),
        Grant(CONNECTIONS_LIVENESS, _dynamodb("Query")),
        Grant(SESSIONS_SWEEP, _dynamodb("Query")),
        Grant(RATE_LIMITS, _dynamodb("GetItem", "UpdateItem")),
        Grant(CONNECTIONS_API, ("POST", "DELETE")),
    ),
    output_id="JanitorFunctionName",
    schedule_rate_setting="janitor_rate_minutes",
)

# key -> spec, in the order the stack builds them.
FUNCTIONS: dict[str, FunctionSpec] = {
    spec.key: spec for spec in (AUTHORIZER, CONNECTION, HEARTBEAT, DISCONNECT, REFRESH, JANITOR)
}


# --- Routes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RouteSpec:
    """One route of the WebSocket API and the function its integration invokes."""

    key: str  # the route key: an API Gateway key ($connect...) or a message action
    function: str  # key of the FunctionSpec serving it
    construct_id: str  # readable part of its logical ids: Route<id>, Integration<id>
    # API Gateway accepts a WebSocket authorizer on $connect only; the identity it establishes
    # (requestContext.authorizer) rides on every later message of the connection.
    authorized: bool = False


# route key -> spec, in the order the stack builds them.
ROUTES: dict[str, RouteSpec] = {
    route.key: route
    for route in (
        RouteSpec(p.CONNECT_ROUTE, CONNECTION.key, "Connect", authorized=True),
        RouteSpec(p.DISCONNECT_ROUTE, DISCONNECT.key, "Disconnect"),
        RouteSpec(p.Action.HEARTBEAT, HEARTBEAT.key, "Heartbeat"),
        RouteSpec(p.Action.REFRESH_CONNECTION, REFRESH.key, "RefreshConnection"),
        # Without $default, API Gateway itself answers an unmatched message with
        # {"message":"Forbidden",...}; the protocol promises an `error` message instead
        # (INVALID_PARAMETERS / INVALID_ACTION). The heartbeat function refuses every $default
        # message before doing any work (handlers/_runtime.message_body), and is the cheapest
        # function that already posts errors to the caller.
        RouteSpec(p.DEFAULT_ROUTE, HEARTBEAT.key, "Default"),
    )
}

# The function API Gateway calls on $connect before the route's own (not a route itself).
AUTHORIZER_FUNCTION = AUTHORIZER.key


def alarm_names(env: str) -> dict[str, str]:
    """Alarm key -> alarm name in ``env``: the three service alarms, then one per function."""
    keys = [c.ALARM_SESSION_CREATION_LATENCY, c.ALARM_CONNECTION_ERRORS, c.ALARM_ACTIVE_SESSIONS]
    keys += [spec.error_alarm for spec in FUNCTIONS.values()]
    return {key: c.ALARM_NAME_TEMPLATE.format(env=env, alarm=key) for key in keys}


def deployment_health_alarm_name(env: str) -> str:
    """The composite of every alarm of :func:`alarm_names`: the stack's rollback trigger."""
    return c.ALARM_NAME_TEMPLATE.format(env=env, alarm=c.ALARM_DEPLOYMENT_HEALTH)


def _check_registry() -> None:
    """Refuse a spec that names a function that does not exist, or a message route the protocol
    does not know, at import: a wrong entry fails every test rather than one deployment."""
    for route in ROUTES.values():
        if route.function not in FUNCTIONS:
            raise ValueError(f"route {route.key!r} names an unknown function {route.function!r}")
        if not route.key.startswith("$") and route.key not in p.MESSAGE_ACTIONS:
            raise ValueError(f"route {route.key!r} is not a message action of the protocol")


_check_registry()
