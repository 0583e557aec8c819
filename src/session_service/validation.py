"""Checks of client input: actions, languages, quality tiers, roles, session ids."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from session_service.exceptions import (
    InvalidParameters,
    InvalidSessionId,
    UnsupportedLanguage,
)
from session_service.models import QualityTier, Role

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

SESSION_ID_RE = re.compile(r"^[a-z]{2,20}-[a-z]{2,20}-[1-9][0-9]{2}$")
MAX_PARAMETER_LENGTH = 256


def _show(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def required(params: Mapping[str, str], name: str, expected: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameters(
            f"query parameter {name} is missing; expected {expected}",
            {"parameter": name, "expected": expected},
        )
    if len(value) > MAX_PARAMETER_LENGTH:
        raise InvalidParameters(
            f"query parameter {name} is too long; expected {expected}",
            {"parameter": name, "expected": expected},
        )
    return value


def session_id(value: str) -> str:
    if not SESSION_ID_RE.match(value):
        raise InvalidSessionId(
            f"session id {_show(value)!r} is malformed; expected adjective-noun-NNN "
            "such as faithful-shepherd-427",
            {"sessionId": _show(value)},
        )
    return value


def language(value: str, supported: Collection[str], parameter: str) -> str:
    if value not in supported:
        raise UnsupportedLanguage(
            f"{parameter} {_show(value)!r} is not supported; expected one of "
            + ", ".join(sorted(supported)),
            {"parameter": parameter, "value": _show(value), "supported": sorted(supported)},
        )
    return value


def quality_tier(value: str) -> str:
    allowed = [tier.value for tier in QualityTier]
    if value not in allowed:
        raise InvalidParameters(
            f"qualityTier {_show(value)!r} is invalid; expected one of {', '.join(allowed)}",
            {"parameter": "qualityTier", "expected": allowed},
        )
    return value


def role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = [r.value for r in Role]
        raise InvalidParameters(
            f"role {_show(value)!r} is invalid; expected one of {', '.join(allowed)}",
            {"parameter": "role", "expected": allowed},
        ) from None
