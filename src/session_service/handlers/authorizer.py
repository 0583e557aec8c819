"""`$connect` REQUEST authorizer entry point.

Returns an Allow policy whose context carries ``userId`` ("" when anonymous), ``rateLimited``
(boolean) and ``retryAfter`` (seconds); raises ``Exception("Unauthorized")`` for a missing or
bad token where one is required, which API Gateway answers with 401.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from session_service import constants as c
from session_service.auth.jwt_verifier import JwksCache, TokenVerifier
from session_service.config import AuthorizerSettings, load_typed
from session_service.data.rate_limits import RateLimitStore
from session_service.exceptions import Unauthorized
from session_service.handlers._runtime import (
    Clock,
    caller,
    default_clock,
    dynamodb_client,
    query_parameters,
)
from session_service.logic.authorize import AuthorizerService
from session_service.observability import Telemetry, logger, truncate_ip


def build(
    environ: Mapping[str, str],
    *,
    dynamodb: Any = None,
    jwks: JwksCache | None = None,
    clock: Clock = default_clock,
) -> AuthorizerService:
    settings = load_typed("authorizer", environ, AuthorizerSettings)
    logger.setLevel(settings.common.log_level)
    client = dynamodb or dynamodb_client(settings.common.region)
    return AuthorizerService(
        settings=settings,
        limits=RateLimitStore(client, settings.rate_limits_table),
        verifier=TokenVerifier(
            jwks or JwksCache(settings.jwks_url), settings.issuer, settings.app_client_id
        ),
        telemetry=Telemetry(settings.common.environment),
        clock=clock,
    )


@cache
def _default() -> AuthorizerService:
    return build(os.environ)


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


def handler(event: Any, context: Any, service: AuthorizerService | None = None) -> dict[str, Any]:
    service = service or _default()
    who = caller(event)
    params = query_parameters(event)
    logger.append_keys(
        route="authorizer",
        action=params.get("action", "")[:40],
        client_network=truncate_ip(who.source_ip),
        request_id=getattr(context, "aws_request_id", None),
    )
    method_arn = event.get("methodArn") if isinstance(event, Mapping) else None
    try:
        decision = service.authorize(params, who.source_ip)
    except Unauthorized as exc:
        logger.info("connection refused", extra={"reason": exc.message})
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
