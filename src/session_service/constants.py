"""Names shared by the service, the CDK app, the local environment and the verification.

This module is the one place where a name that crosses a boundary is spelled: the
infrastructure reads it to build resources and alarms, the handlers read it to emit
metrics and reach their tables, and ``ci/`` reads it to check the deployment. It imports
nothing, so a handler pays nothing for it at cold start.

What is per function or per route (names, sizes, environment, grants, output ids) is in
:mod:`session_service.specs`; the wire vocabulary is in :mod:`session_service.protocol`.
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
# Liveness: every connection item carries when it was last heard from (`heardAt`, ms: its
# opening, then each heartbeat) and a `liveness` key (role#shard). The index sorts each shard by
# heardAt, so the janitor reads only the connections silent past a limit, never the table.
CONNECTIONS_LIVENESS_INDEX = "liveness-heardAt-index"
CONNECTIONS_LIVENESS_KEY = "liveness"
CONNECTIONS_HEARD_AT = "heardAt"
LIVENESS_SHARDS = 4  # partitions per role: spreads heartbeat writes over the index
# Sessions whose end still has listeners to tell carry `sweep` (sparse): the janitor finishes an
# end whose `$disconnect` died mid fan-out. The attribute goes when the end is finished.
SESSIONS_SWEEP_INDEX = "sweep-endedAt-index"
SESSIONS_SWEEP_KEY = "sweep"
SESSIONS_ENDED_AT = "endedAt"
SWEEP_PENDING = "pending"

# Keys of the tables in TABLES (and in the functions' grants, session_service.specs).
TABLE_SESSIONS = "sessions"
TABLE_CONNECTIONS = "connections"
TABLE_RATE_LIMITS = "rate_limits"
# Table shapes, used by the CDK construct that builds the tables and by the tests and the local
# environment that create them in moto, so both are made from one definition. Keys are strings.
TABLES: dict[str, dict[str, object]] = {
    TABLE_SESSIONS: {
        "name": SESSIONS_TABLE_TEMPLATE,
        "partition_key": SESSIONS_KEY,
        "ttl_attribute": SESSIONS_TTL_ATTRIBUTE,
        "indexes": (
            {
                "name": SESSIONS_SWEEP_INDEX,
                "partition_key": SESSIONS_SWEEP_KEY,
                "sort_key": SESSIONS_ENDED_AT,
                "sort_key_type": "N",
                "projection": "INCLUDE",
                "include": ("endReason",),
            },
        ),
    },
    TABLE_CONNECTIONS: {
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
            {
                "name": CONNECTIONS_LIVENESS_INDEX,
                "partition_key": CONNECTIONS_LIVENESS_KEY,
                "sort_key": CONNECTIONS_HEARD_AT,
                "sort_key_type": "N",
                "projection": "INCLUDE",
                "include": ("sessionId", "role"),
            },
        ),
    },
    TABLE_RATE_LIMITS: {
        "name": RATE_LIMITS_TABLE_TEMPLATE,
        "partition_key": RATE_LIMITS_KEY,
        "ttl_attribute": RATE_LIMITS_TTL_ATTRIBUTE,
        "indexes": (),
    },
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
# Seconds a speaker may go unheard before its session counts as lost (joins refused, the
# janitor ends it); limits.speakerStalenessSeconds in infra/config/{env}.json.
ENV_SPEAKER_STALENESS_SECONDS = "SPEAKER_STALENESS_SECONDS"
ENV_LOG_LEVEL = "LOG_LEVEL"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

# --- WebSocket API ------------------------------------------------------------------------
API_NAME_TEMPLATE = "session-websocket-api-{env}"
# API Gateway closes every WebSocket connection after 2 hours: the refresh request and the
# warning must come before it, and a connection item must outlive it.
API_GATEWAY_CONNECTION_LIMIT_MINUTES = 120
AUTHORIZER_NAME = "session-authorizer"
# API Gateway closes a connection idle (no message either way) for 10 minutes.
API_GATEWAY_IDLE_TIMEOUT_SECONDS = 600
# A client heartbeats every 30 s (docs/protocol.md). A speaker not heard from (heartbeat, or the
# connection opened by create or refresh) for three intervals plus a grace has lost its
# connection, whether or not API Gateway ever delivered its `$disconnect`: its session takes
# no new listeners and the janitor ends it. The default of limits.speakerStalenessSeconds.
HEARTBEAT_INTERVAL_SECONDS = 30
SPEAKER_STALENESS_SECONDS = 3 * HEARTBEAT_INTERVAL_SECONDS + 15
# The janitor's EventBridge schedule is limits.janitorRateMinutes (default 1, EventBridge's
# finest rate); its rule is named by specs.FunctionSpec.schedule_name.

# --- Metrics (CloudWatch EMF via Powertools) ----------------------------------------------
METRICS_NAMESPACE = "SessionManagement"
METRIC_SESSION_CREATION_LATENCY = "SessionCreationLatency"  # Milliseconds
METRIC_LISTENER_JOIN_LATENCY = "ListenerJoinLatency"  # Milliseconds
METRIC_ACTIVE_SESSIONS = "ActiveSessions"  # Count, gauge: value after each change
METRIC_TOTAL_LISTENERS = "TotalListeners"  # Count, gauge: listeners of the session changed
METRIC_CONNECTION_ERRORS = "ConnectionErrors"  # Count, one per refused request
METRIC_RATE_LIMIT_EXCEEDED = "RateLimitExceeded"  # Count
METRIC_SESSIONS_REAPED = "SessionsReaped"  # Count, per janitor run: sessions it ended
METRIC_CONNECTIONS_REAPED = "ConnectionsReaped"  # Count, per janitor run: items it removed
METRIC_COUNTS_CORRECTED = "CountsCorrected"  # Count, per janitor run: figures it set right
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
ALARM_FUNCTION_ERRORS_TEMPLATE = "{handler}-function-errors"  # one per function of specs
# The composite alarm in ALARM when any alarm above is: the stack updates' one rollback trigger
# (CloudFormation takes at most five triggers per stack; ci.rollback_triggers).
ALARM_DEPLOYMENT_HEALTH = "deployment-health"

# --- Deployment safety --------------------------------------------------------------------
# The SSM parameter where the bake (ci.bake) records the last release that watched the alarms
# clean for deploySafety.bakeMinutes: what the undo of a release that fails its bake redeploys.
RELEASE_PARAMETER_TEMPLATE = "/session-management/{env}/last-clean-release"

# --- Stack outputs (fixed ids, so ci/ and the local environment find the deployment) -------
OUTPUT_WEBSOCKET_URL = "WebSocketUrl"
OUTPUT_CALLBACK_URL = "CallbackUrl"
OUTPUT_API_ID = "WebSocketApiId"
OUTPUT_STAGE_NAME = "StageName"
OUTPUT_SESSIONS_TABLE = "SessionsTableName"
OUTPUT_CONNECTIONS_TABLE = "ConnectionsTableName"
OUTPUT_RATE_LIMITS_TABLE = "RateLimitsTableName"
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"
OUTPUT_DASHBOARD_NAME = "DashboardName"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_APP_CLIENT_ID = "AppClientId"
OUTPUT_CUSTOM_DOMAIN = "CustomDomainName"  # only when config names a domain
