"""The client side of protocol v1 (shared/SPEC.md), as much as the load generator needs.

The words are the service's own (``session_service.protocol``), taken as plain strings: the
bench compares, counts and reports them, and its results files keep the spellings of the wire.
"""

from __future__ import annotations

from urllib.parse import urlencode

from session_service.protocol import (
    ACTION_FIELD,
    ERROR_STATUS,
    Action,
    ErrorCode,
    MessageType,
    QualityTier,
    Role,
)


def _statuses_of_one_code() -> dict[int, str]:
    """Handshake status -> the one error code that has it (statuses shared by codes left out)."""
    codes: dict[int, list[str]] = {}
    for code, status in ERROR_STATUS.items():
        codes.setdefault(status, []).append(str(code))
    return {status: found[0] for status, found in sorted(codes.items()) if len(found) == 1}


# A rejected $connect fails the handshake with the status of its error code. 400 stands for
# several codes (INVALID_PARAMETERS, INVALID_SESSION_ID, UNSUPPORTED_LANGUAGE, INVALID_ACTION), so
# it is reported as HTTP_400 rather than guessed.
STATUS_CODES: dict[int, str] = _statuses_of_one_code()

RATE_LIMITED = ErrorCode.RATE_LIMIT_EXCEEDED.value

# Message types the server sends.
SESSION_CREATED = MessageType.SESSION_CREATED.value
SESSION_JOINED = MessageType.SESSION_JOINED.value
HEARTBEAT_ACK = MessageType.HEARTBEAT_ACK.value
REFRESH_COMPLETE = MessageType.CONNECTION_REFRESH_COMPLETE.value
SESSION_ENDED = MessageType.SESSION_ENDED.value
ERROR = MessageType.ERROR.value

SPEAKER = Role.SPEAKER.value
STANDARD_TIER = QualityTier.STANDARD.value

# The messages the bench sends, and its name for the heartbeat operation.
HEARTBEAT_ACTION = Action.HEARTBEAT.value
HEARTBEAT = {ACTION_FIELD: HEARTBEAT_ACTION}
REFRESH = {ACTION_FIELD: Action.REFRESH_CONNECTION.value}


def code_for_status(status: int) -> str:
    """The error code a handshake status stands for (SPEC.md's table), or ``HTTP_<status>``."""
    return STATUS_CODES.get(status, f"HTTP_{status}")


def _url(endpoint: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


def create_url(endpoint: str, token: str, source_language: str, quality_tier: str) -> str:
    return _url(
        endpoint,
        {
            ACTION_FIELD: Action.CREATE_SESSION.value,
            "sourceLanguage": source_language,
            "qualityTier": quality_tier,
            "token": token,
        },
    )


def join_url(endpoint: str, session_id: str, target_language: str) -> str:
    return _url(
        endpoint,
        {
            ACTION_FIELD: Action.JOIN_SESSION.value,
            "sessionId": session_id,
            "targetLanguage": target_language,
        },
    )


def refresh_url(
    endpoint: str,
    session_id: str,
    role: str,
    *,
    target_language: str | None = None,
    token: str | None = None,
) -> str:
    params = {ACTION_FIELD: Action.REFRESH_CONNECTION.value, "sessionId": session_id, "role": role}
    if target_language:
        params["targetLanguage"] = target_language
    if token:
        params["token"] = token
    return _url(endpoint, params)
