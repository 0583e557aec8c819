"""The IAM policy evaluator: a REQUEST authorizer's output enforced as API Gateway enforces it."""

from __future__ import annotations

import fnmatch
import json
import logging
from typing import Any

from local.gateway.api import AUTHORIZER_RESULT_LIMIT, HandshakeRefused

# One logger for the whole gateway (bench/counting.py listens on it).
logger = logging.getLogger("local.gateway")


def _statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        raise ValueError("policyDocument is not an object")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValueError("policyDocument has no Statement")
    return statements


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"not a string or a list of strings: {value!r}")


def _matches(patterns: list[str], value: str) -> bool:
    def glob(p: str) -> str:
        return p.replace("[", "[[]")

    return any(fnmatch.fnmatchcase(value, glob(p)) for p in patterns)


def evaluate_policy(output: Any, method_arn: str) -> tuple[str, dict[str, Any]]:
    """Enforce a REQUEST authorizer's output as API Gateway does.

    Returns ``(principalId, context)`` when the policy allows ``execute-api:Invoke`` on
    ``method_arn``; raises :class:`HandshakeRefused` 403 on an explicit or implicit deny and 500
    on a malformed output (no principal, bad policy, context values that are not scalars, or an
    output larger than 8 KB). Context values reach the integration as strings, as API Gateway
    passes them.
    """
    try:
        if len(json.dumps(output)) > AUTHORIZER_RESULT_LIMIT:
            raise ValueError("authorizer result larger than 8 KB")
        if not isinstance(output, dict) or not isinstance(output.get("principalId"), str):
            raise ValueError("no principalId")
        allowed = denied = False
        for statement in _statements(output.get("policyDocument")):
            actions = _as_list(statement.get("Action", []))
            resources = _as_list(statement.get("Resource", []))
            if not (_matches(actions, "execute-api:Invoke") and _matches(resources, method_arn)):
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                denied = True
            elif effect == "Allow":
                allowed = True
            else:
                raise ValueError(f"bad Effect {effect!r}")
        context = output.get("context") or {}
        if not isinstance(context, dict):
            raise ValueError("context is not an object")
        flat: dict[str, Any] = {}
        for key, value in context.items():
            if value is None:
                continue
            if isinstance(value, bool):
                flat[key] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                flat[key] = str(value)
            else:
                raise ValueError(f"context value of {key!r} is not a string, number or boolean")
    except (ValueError, TypeError) as exc:
        logger.error("authorizer output rejected: %s", exc)
        raise HandshakeRefused(500, "Internal Server Error") from exc
    if denied or not allowed:
        raise HandshakeRefused(403, "Forbidden")
    return output["principalId"], flat
