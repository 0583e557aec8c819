"""Server-to-client messages of protocol v1: JSON objects with ``type`` and ``timestamp``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from session_service.protocol import MessageType

if TYPE_CHECKING:
    from session_service.exceptions import ServiceError
    from session_service.models import Connection

Message = dict[str, Any]


def _message(kind: MessageType, now_ms: int, **fields: Any) -> Message:
    return {"type": kind.value, "timestamp": now_ms, **fields}


def encode(message: Message) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def session_created(conn: Connection, expires_at: int, now_ms: int) -> Message:
    return _message(
        MessageType.SESSION_CREATED,
        now_ms,
        sessionId=conn.session_id,
        sourceLanguage=conn.source_language,
        qualityTier=conn.quality_tier,
        connectionId=conn.connection_id,
        expiresAt=expires_at,
    )


def session_joined(conn: Connection, now_ms: int) -> Message:
    return _message(
        MessageType.SESSION_JOINED,
        now_ms,
        sessionId=conn.session_id,
        sourceLanguage=conn.source_language,
        targetLanguage=conn.target_language,
        connectionId=conn.connection_id,
    )


def heartbeat_ack(now_ms: int) -> Message:
    return _message(MessageType.HEARTBEAT_ACK, now_ms)


def _role_fields(conn: Connection) -> dict[str, Any]:
    fields: dict[str, Any] = {"sessionId": conn.session_id, "role": conn.role.value}
    if conn.target_language is not None:
        fields["targetLanguage"] = conn.target_language
    return fields


def connection_refresh_required(conn: Connection, now_ms: int) -> Message:
    return _message(MessageType.CONNECTION_REFRESH_REQUIRED, now_ms, **_role_fields(conn))


def connection_warning(remaining_minutes: int, now_ms: int) -> Message:
    return _message(MessageType.CONNECTION_WARNING, now_ms, remainingMinutes=remaining_minutes)


def connection_refresh_complete(conn: Connection, now_ms: int) -> Message:
    return _message(MessageType.CONNECTION_REFRESH_COMPLETE, now_ms, **_role_fields(conn))


def session_ended(session_id: str, reason: str, now_ms: int) -> Message:
    return _message(MessageType.SESSION_ENDED, now_ms, sessionId=session_id, reason=reason)


def error(exc: ServiceError, now_ms: int) -> Message:
    return _message(
        MessageType.ERROR, now_ms, code=exc.code, message=exc.message, details=exc.details
    )
