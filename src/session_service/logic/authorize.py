"""The `$connect` authorizer's decision: who is connecting, and is the address over its limit.

A token is required for createSession and for a speaker's refreshConnection; anywhere else a
valid token identifies the user and a missing or bad one means anonymous. The per-IP
connection-attempt limit is counted first, for every attempt; when it is exceeded the
authorizer still allows, with ``rateLimited`` in its context, so that `$connect` answers 429
(a Deny could only make 403). Such an attempt is refused by `$connect` whatever its token, so
the token is not verified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from session_service.auth.jwt_verifier import JwksUnavailable
from session_service.config import AuthorizerSettings
from session_service.exceptions import Unauthorized
from session_service.logic.ports import RateLimits, Verifier
from session_service.observability import Telemetry, hash_id, logger
from session_service.protocol import ACTION_FIELD, Action, Role


@dataclass(frozen=True)
class AuthDecision:
    user_id: str  # "" when anonymous
    rate_limited: bool = False
    retry_after: int = 0


def token_required(params: Mapping[str, str]) -> bool:
    action = params.get(ACTION_FIELD)
    return action == Action.CREATE_SESSION or (
        action == Action.REFRESH_CONNECTION and params.get("role") == Role.SPEAKER
    )


@dataclass
class AuthorizerService:
    settings: AuthorizerSettings
    limits: RateLimits
    verifier: Verifier
    telemetry: Telemetry
    clock: Callable[[], float]

    def authorize(self, params: Mapping[str, str], source_ip: str) -> AuthDecision:
        """The decision for one `$connect`; raises :class:`Unauthorized` to refuse with 401."""
        decision = self.limits.consume(
            "connect",
            "ip",
            hash_id(source_ip),
            self.settings.connection_attempt_limit_per_minute,
            60,
            int(self.clock()),
        )
        if not decision.allowed:
            return AuthDecision(user_id="", rate_limited=True, retry_after=decision.retry_after)
        token = params.get("token") or ""
        if token_required(params):
            if not token:
                raise Unauthorized("this action needs a Cognito token in the query string")
            return AuthDecision(user_id=self.verifier.verify(token).user_id)
        if not token:
            return AuthDecision(user_id="")
        try:
            return AuthDecision(user_id=self.verifier.verify(token).user_id)
        except (Unauthorized, JwksUnavailable) as exc:
            logger.info("optional token ignored, anonymous", extra={"reason": str(exc)})
            return AuthDecision(user_id="")
