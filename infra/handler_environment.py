"""The value of every environment variable a handler reads, from one environment's config.

The CDK app fills the table names and the callback URL with tokens; the cold-start benchmark
fills them with plain names. Both read the settings through this one mapping, so a new setting
is added in one place (and in the ``environment`` of the specs that read it). Imports no CDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from session_service import constants as c

if TYPE_CHECKING:
    from infra.config import EnvironmentConfig


def environment_values(
    config: EnvironmentConfig,
    *,
    sessions_table: str,
    connections_table: str,
    rate_limits_table: str,
    callback_url: str,
) -> dict[str, str]:
    """Variable name -> value, for every ``constants.ENV_*`` a handler may read."""
    limits = config.limits
    return {
        c.ENV_ENVIRONMENT: config.env,
        c.ENV_LOG_LEVEL: config.log_level,
        c.ENV_POWERTOOLS_SERVICE_NAME: c.SERVICE_NAME,
        c.ENV_POWERTOOLS_METRICS_NAMESPACE: c.METRICS_NAMESPACE,
        c.ENV_SESSIONS_TABLE: sessions_table,
        c.ENV_CONNECTIONS_TABLE: connections_table,
        c.ENV_RATE_LIMITS_TABLE: rate_limits_table,
        c.ENV_CALLBACK_URL: callback_url,
        c.ENV_SUPPORTED_LANGUAGES: ",".join(config.supported_languages),
        c.ENV_MAX_LISTENERS_PER_SESSION: str(limits.max_listeners_per_session),
        c.ENV_MAX_ACTIVE_SESSIONS: str(limits.max_active_sessions),
        c.ENV_SESSION_DURATION_MINUTES: str(limits.session_duration_minutes),
        c.ENV_CONNECTION_TTL_MINUTES: str(limits.connection_ttl_minutes),
        c.ENV_CONNECTION_REFRESH_MINUTES: str(limits.connection_refresh_minutes),
        c.ENV_CONNECTION_WARNING_MINUTES: str(limits.connection_warning_minutes),
        c.ENV_SESSION_CREATE_LIMIT_PER_HOUR: str(limits.session_create_limit_per_hour),
        c.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: str(limits.listener_join_limit_per_minute),
        c.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: str(limits.connection_attempt_limit_per_minute),
        c.ENV_HEARTBEAT_LIMIT_PER_MINUTE: str(limits.heartbeat_limit_per_minute),
        c.ENV_SPEAKER_STALENESS_SECONDS: str(limits.speaker_staleness_seconds),
        c.ENV_USER_POOL_ID: config.cognito.user_pool_id,
        c.ENV_APP_CLIENT_ID: config.cognito.app_client_id,
    }
