"""The client side of protocol v1 (shared/SPEC.md), as much as the load generator needs."""

from __future__ import annotations

from urllib.parse import urlencode

# A rejected $connect fails the handshake with the status of its error code. 400 stands for
# several codes (INVALID_PARAMETERS, INVALID_SESSION_ID, UNSUPPORTED_LANGUAGE, INVALID_ACTION), so
# it is reported as HTTP_400 rather than guessed.
STATUS_CODES: dict[int, str] = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "SESSION_NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    503: "SESSION_FULL",
}

RATE_LIMITED = "RATE_LIMIT_EXCEEDED"

# Message types the server sends.
SESSION_CREATED = "sessionCreated"
SESSION_JOINED = "sessionJoined"
HEARTBEAT_ACK = "heartbeatAck"
REFRESH_COMPLETE = "connectionRefreshComplete"
SESSION_ENDED = "sessionEnded"
ERROR = "error"

HEARTBEAT = {"action": "heartbeat"}
REFRESH = {"action": "refreshConnection"}


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
            "action": "createSession",
            "sourceLanguage": source_language,
            "qualityTier": quality_tier,
            "token": token,
        },
    )


def join_url(endpoint: str, session_id: str, target_language: str) -> str:
    return _url(
        endpoint,
        {"action": "joinSession", "sessionId": session_id, "targetLanguage": target_language},
    )


def refresh_url(
    endpoint: str,
    session_id: str,
    role: str,
    *,
    target_language: str | None = None,
    token: str | None = None,
) -> str:
    params = {"action": "refreshConnection", "sessionId": session_id, "role": role}
    if target_language:
        params["targetLanguage"] = target_language
    if token:
        params["token"] = token
    return _url(endpoint, params)
