"""`$connect` REQUEST authorizer entry point.

Returns an Allow policy whose context carries ``userId`` ("" when anonymous), ``rateLimited``
(boolean) and ``retryAfter`` (seconds); raises ``Exception("Unauthorized")`` for a missing or
bad token where one is required, which API Gateway answers with 401. That refusal is expected:
it is logged as one structured line here; the exception itself is API Gateway's contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from session_service import constants as c
from session_service import specs
from session_service.auth.jwt_verifier import JwksCache, TokenVerifier
from session_service.config import AuthorizerSettings
from session_service.data.rate_limits import RateLimitStore
from session_service.exceptions import Unauthorized
from session_service.handlers._factory import Function, Parts
from session_service.handlers._runtime import (
    caller,
    log_context,
    log_refusal,
    query_parameters,
    shown_action,
)
from session_service.logic.authorize import AuthorizerService
from session_service.observability import logger, truncate_ip
from session_service.protocol import ACTION_FIELD

# The authorizer serves no route of its own; its log lines name the function.
ROUTE = specs.AUTHORIZER.key


def assemble(parts: Parts[AuthorizerSettings]) -> AuthorizerService:
    s = parts.settings
    return AuthorizerService(
        settings=s,
        limits=RateLimitStore(parts.dynamodb, s.rate_limits_table),
        verifier=TokenVerifier(parts.jwks or JwksCache(s.jwks_url), s.issuer, s.app_client_id),
        telemetry=parts.telemetry,
        clock=parts.clock,
    )


def policy(method_arn: str, principal: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}
            ],
        },
        "context": context,
    }


def answer(service: AuthorizerService, event: Any, context: Any) -> dict[str, Any]:
    who = caller(event)
    params = query_parameters(event)
    log_context(who, ROUTE, shown_action(params.get(ACTION_FIELD)), context)
    logger.append_keys(client_network=truncate_ip(who.source_ip))
    method_arn = event.get("methodArn") if isinstance(event, Mapping) else None
    try:
        decision = service.authorize(params, who.source_ip)
    except Unauthorized as exc:
        log_refusal("connection refused", exc)
        service.telemetry.count(c.METRIC_CONNECTION_ERRORS)
        raise Exception("Unauthorized") from None  # API Gateway's contract for 401
    finally:
        service.telemetry.flush()
    if decision.rate_limited:
        logger.info("connection attempts over the limit", extra={"retry": decision.retry_after})
    return policy(
        method_arn if isinstance(method_arn, str) else "*",
        decision.user_id or "anonymous",
        {
            "userId": decision.user_id,
            "rateLimited": decision.rate_limited,
            "retryAfter": decision.retry_after,
        },
    )


function = Function(specs.AUTHORIZER.key, AuthorizerSettings, assemble, answer)
build = function.build
handler = function.handler
