"""Names shared by the service, the CDK app, the local environment and the verification.

This module is the one place where a name that crosses a boundary is spelled: the
infrastructure reads it to build resources and alarms, the handlers read it to emit
metrics and reach their tables, and ``ci/`` reads it to check the deployment. It imports
nothing, so a handler pays nothing for it at cold start.
"""

from __future__ import annotations

SERVICE_NAME = "session-management"
STACK_NAME_TEMPLATE = "SessionManagement-{env}"

# --- DynamoDB -----------------------------------------------------------------------------
SESSIONS_TABLE_TEMPLATE = "Sessions-{env}"
CONNECTIONS_TABLE_TEMPLATE = "Connections-{env}"
RATE_LIMITS_TABLE_TEMPLATE = "RateLimits-{env}"
SESSIONS_KEY = "sessionId"
CONNECTIONS_KEY = "connectionId"
RATE_LIMITS_KEY = "identifier"
SESSIONS_TTL_ATTRIBUTE = "expiresAt"
CONNECTIONS_TTL_ATTRIBUTE = "ttl"
RATE_LIMITS_TTL_ATTRIBUTE = "expiresAt"
CONNECTIONS_GSI_NAME = "sessionId-targetLanguage-index"
CONNECTIONS_GSI_PARTITION_KEY = "sessionId"
CONNECTIONS_GSI_SORT_KEY = "targetLanguage"

# Table shapes, used by the CDK construct that builds the tables and by the tests and the local
# environment that create them in moto, so both are made from one definition. Keys are strings.
TABLES: dict[str, dict[str, object]] = {
    "sessions": {
        "name": SESSIONS_TABLE_TEMPLATE,
        "partition_key": SESSIONS_KEY,
        "ttl_attribute": SESSIONS_TTL_ATTRIBUTE,
        "indexes": (),
    },
    "connections": {
        "name": CONNECTIONS_TABLE_TEMPLATE,
        "partition_key": CONNECTIONS_KEY,
        "ttl_attribute": CONNECTIONS_TTL_ATTRIBUTE,
        "indexes": (
            {
                "name": CONNECTIONS_GSI_NAME,
                "partition_key": CONNECTIONS_GSI_PARTITION_KEY,
                "sort_key": CONNECTIONS_GSI_SORT_KEY,
                "projection": "ALL",
            },
        ),
    },
    "rate_limits": {
        "name": RATE_LIMITS_TABLE_TEMPLATE,
        "partition_key": RATE_LIMITS_KEY,
        "ttl_attribute": RATE_LIMITS_TTL_ATTRIBUTE,
        "indexes": (),
    },
}

# --- Lambda functions ---------------------------------------------------------------------
# logical handler name -> (function name template, module:function entry point)
FUNCTIONS: dict[str, tuple[str, str]] = {
    "authorizer": ("session-authorizer-{env}", "session_service.handlers.authorizer.handler"),
    "connection": (
        "session-connection-handler-{env}",
        "session_service.handlers.connect.handler",
    ),
    "heartbeat": (
        "session-heartbeat-handler-{env}",
        "session_service.handlers.heartbeat.handler",
    ),
    "disconnect": (
        "session-disconnect-handler-{env}",
        "session_service.handlers.disconnect.handler",
    ),
    "refresh": ("session-refresh-handler-{env}", "session_service.handlers.refresh.handler"),
}
# handler -> (memory in MB, timeout in seconds), as the deployment checklist sets them
FUNCTION_SIZES: dict[str, tuple[int, int]] = {
    "authorizer": (128, 10),
    "connection": (256, 30),
    "heartbeat": (128, 10),
    "disconnect": (256, 30),
    "refresh": (256, 30),
}

# --- Environment variables a handler reads (the template sets exactly these) --------------
ENV_ENVIRONMENT = "ENVIRONMENT"
ENV_SESSIONS_TABLE = "SESSIONS_TABLE"
ENV_CONNECTIONS_TABLE = "CONNECTIONS_TABLE"
ENV_RATE_LIMITS_TABLE = "RATE_LIMITS_TABLE"
ENV_CALLBACK_URL = "CALLBACK_URL"  # https://{apiId}.execute-api.{region}.amazonaws.com/{stage}
ENV_SUPPORTED_LANGUAGES = "SUPPORTED_LANGUAGES"  # comma-separated ISO 639-1 codes
ENV_MAX_LISTENERS_PER_SESSION = "MAX_LISTENERS_PER_SESSION"
ENV_MAX_ACTIVE_SESSIONS = "MAX_ACTIVE_SESSIONS"
ENV_SESSION_DURATION_MINUTES = "SESSION_DURATION_MINUTES"
ENV_CONNECTION_TTL_MINUTES = "CONNECTION_TTL_MINUTES"
ENV_CONNECTION_REFRESH_MINUTES = "CONNECTION_REFRESH_MINUTES"
ENV_CONNECTION_WARNING_MINUTES = "CONNECTION_WARNING_MINUTES"
ENV_SESSION_CREATE_LIMIT_PER_HOUR = "SESSION_CREATE_LIMIT_PER_HOUR"
ENV_LISTENER_JOIN_LIMIT_PER_MINUTE = "LISTENER_JOIN_LIMIT_PER_MINUTE"
ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE = "CONNECTION_ATTEMPT_LIMIT_PER_MINUTE"
ENV_HEARTBEAT_LIMIT_PER_MINUTE = "HEARTBEAT_LIMIT_PER_MINUTE"
ENV_USER_POOL_ID = "USER_POOL_ID"
ENV_APP_CLIENT_ID = "APP_CLIENT_ID"
# Optional: where to fetch the pool's JWKS. Unset in AWS (derived from the issuer); the local
# environment points it at the emulator, which serves it at /<pool-id>/.well-known/jwks.json.
ENV_JWKS_URL = "JWKS_URL"
ENV_LOG_LEVEL = "LOG_LEVEL"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

_COMMON_ENV = (
    ENV_ENVIRONMENT,
    ENV_LOG_LEVEL,
    ENV_POWERTOOLS_SERVICE_NAME,
    ENV_POWERTOOLS_METRICS_NAMESPACE,
)

# handler -> the environment variables it reads; the CDK app sets exactly these, the
# verification checks exactly these, the handlers' settings validate exactly these.
HANDLER_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "authorizer": (
        *_COMMON_ENV,
        ENV_RATE_LIMITS_TABLE,
        ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE,
        ENV_USER_POOL_ID,
        ENV_APP_CLIENT_ID,
    ),
    "connection": (
        *_COMMON_ENV,
        ENV_SESSIONS_TABLE,
        ENV_CONNECTIONS_TABLE,
        ENV_RATE_LIMITS_TABLE,
        ENV_SUPPORTED_LANGUAGES,
        ENV_MAX_LISTENERS_PER_SESSION,
        ENV_MAX_ACTIVE_SESSIONS,
        ENV_SESSION_DURATION_MINUTES,
        ENV_CONNECTION_TTL_MINUTES,
        ENV_SESSION_CREATE_LIMIT_PER_HOUR,
        ENV_LISTENER_JOIN_LIMIT_PER_MINUTE,
    ),
    "heartbeat": (
        *_COMMON_ENV,
        ENV_SESSIONS_TABLE,
        ENV_CONNECTIONS_TABLE,
        ENV_CALLBACK_URL,
        ENV_CONNECTION_REFRESH_MINUTES,
        ENV_CONNECTION_WARNING_MINUTES,
        ENV_SESSION_DURATION_MINUTES,
        ENV_HEARTBEAT_LIMIT_PER_MINUTE,
    ),
    "disconnect": (
        *_COMMON_ENV,
        ENV_SESSIONS_TABLE,
        ENV_CONNECTIONS_TABLE,
        ENV_RATE_LIMITS_TABLE,
        ENV_CALLBACK_URL,
    ),
    "refresh": (
        *_COMMON_ENV,
        ENV_SESSIONS_TABLE,
        ENV_CONNECTIONS_TABLE,
        ENV_CALLBACK_URL,
    ),
}

# --- WebSocket API ------------------------------------------------------------------------
API_NAME_TEMPLATE = "session-websocket-api-{env}"
ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# API Gateway closes every WebSocket connection after 2 hours: the refresh request and the
# warning must come before it, and a connection item must outlive it.
API_GATEWAY_CONNECTION_LIMIT_MINUTES = 120
# API Gateway's route for messages that match no route (not JSON, no or an unknown action).
DEFAULT_ROUTE = "$default"
# route key -> handler that serves it
ROUTES: dict[str, str] = {
    "$connect": "connection",
    "$disconnect": "disconnect",
    "heartbeat": "heartbeat",
    "refreshConnection": "refresh",
    # Without $default, API Gateway itself answers an unmatched message with
    # {"message":"Forbidden",...}; the protocol promises an `error` message instead
    # (INVALID_PARAMETERS / INVALID_ACTION). The heartbeat function refuses every $default
    # message before doing any work (handlers/_runtime.message_body), and is the cheapest
    # function that already posts errors to the caller.
    DEFAULT_ROUTE: "heartbeat",
}
AUTHORIZER_NAME = "session-authorizer"

# --- Metrics (CloudWatch EMF via Powertools) ----------------------------------------------
METRICS_NAMESPACE = "SessionManagement"
METRIC_SESSION_CREATION_LATENCY = "SessionCreationLatency"  # Milliseconds
METRIC_LISTENER_JOIN_LATENCY = "ListenerJoinLatency"  # Milliseconds
METRIC_ACTIVE_SESSIONS = "ActiveSessions"  # Count, gauge: value after each change
METRIC_TOTAL_LISTENERS = "TotalListeners"  # Count, gauge: listeners of the session changed
METRIC_CONNECTION_ERRORS = "ConnectionErrors"  # Count, one per refused request
METRIC_RATE_LIMIT_EXCEEDED = "RateLimitExceeded"  # Count
# Powertools adds the service dimension itself; every metric carries exactly these
# dimensions and every alarm watches them, so an alarm can fire.
DIMENSION_SERVICE = "service"
DIMENSION_ENVIRONMENT = "Environment"


def metric_dimensions(env: str) -> dict[str, str]:
    """The dimensions every service metric is emitted with in ``env``."""
    return {DIMENSION_SERVICE: SERVICE_NAME, DIMENSION_ENVIRONMENT: env}


# --- Monitoring ---------------------------------------------------------------------------
ALARM_TOPIC_TEMPLATE = "session-management-alarms-{env}"
DASHBOARD_NAME_TEMPLATE = "SessionManagement-{env}"
ALARM_NAME_TEMPLATE = "session-management-{env}-{alarm}"
ALARM_SESSION_CREATION_LATENCY = "session-creation-latency-p95"
ALARM_CONNECTION_ERRORS = "connection-errors"
ALARM_ACTIVE_SESSIONS = "active-sessions"
ALARM_FUNCTION_ERRORS_TEMPLATE = "{handler}-function-errors"  # one per handler of FUNCTIONS


def alarm_names(env: str) -> dict[str, str]:
    """Alarm key -> alarm name in ``env``: the three service alarms, then one per function."""
    keys = [ALARM_SESSION_CREATION_LATENCY, ALARM_CONNECTION_ERRORS, ALARM_ACTIVE_SESSIONS]
    keys += [ALARM_FUNCTION_ERRORS_TEMPLATE.format(handler=handler) for handler in FUNCTIONS]
    return {key: ALARM_NAME_TEMPLATE.format(env=env, alarm=key) for key in keys}


# --- Stack outputs (fixed ids, so ci/ and the local environment find the deployment) -------
OUTPUT_WEBSOCKET_URL = "WebSocketUrl"
OUTPUT_CALLBACK_URL = "CallbackUrl"
OUTPUT_API_ID = "WebSocketApiId"
OUTPUT_STAGE_NAME = "StageName"
OUTPUT_SESSIONS_TABLE = "SessionsTableName"
OUTPUT_CONNECTIONS_TABLE = "ConnectionsTableName"
OUTPUT_RATE_LIMITS_TABLE = "RateLimitsTableName"
OUTPUT_FUNCTION_NAMES: dict[str, str] = {
    "authorizer": "AuthorizerFunctionName",
    "connection": "ConnectionHandlerFunctionName",
    "heartbeat": "HeartbeatHandlerFunctionName",
    "disconnect": "DisconnectHandlerFunctionName",
    "refresh": "RefreshHandlerFunctionName",
}
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_DASHBOARD_NAME = "DashboardName"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_APP_CLIENT_ID = "AppClientId"
OUTPUT_CUSTOM_DOMAIN = "CustomDomainName"  # only when config names a domain
