"""The service's errors: one base class carrying the protocol code and the HTTP status.

Every refusal the protocol knows (SPEC.md, "Errors") is a subclass of :class:`ServiceError`;
``handlers/_runtime.py`` is the one place that turns them into a `$connect` response or an
``error`` message. A subclass names its code; the status comes from the protocol's table
(:data:`session_service.protocol.ERROR_STATUS`, re-exported here for its readers).
:class:`ConfigurationError` is separate: it stops a cold start and is never shown to a client.
"""

from __future__ import annotations

from typing import Any, ClassVar

from session_service.protocol import ERROR_STATUS, ErrorCode

__all__ = [
    "ERROR_STATUS",
    "ConfigurationError",
    "Forbidden",
    "InternalError",
    "InvalidAction",
    "InvalidParameters",
    "InvalidSessionId",
    "RateLimitExceeded",
    "ServiceError",
    "SessionFull",
    "SessionNotFound",
    "Unauthorized",
    "UnsupportedLanguage",
]


class ServiceError(Exception):
    """A refusal with a protocol error code, an HTTP status, a message and details."""

    code: ClassVar[str] = ErrorCode.INTERNAL_ERROR
    status: ClassVar[int] = ERROR_STATUS[ErrorCode.INTERNAL_ERROR]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass names its code only; its status is the protocol's for that code."""
        super().__init_subclass__(**kwargs)
        cls.status = ERROR_STATUS[cls.code]

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class Unauthorized(ServiceError):
    code = ErrorCode.UNAUTHORIZED


class Forbidden(ServiceError):
    code = ErrorCode.FORBIDDEN


class InvalidParameters(ServiceError):
    code = ErrorCode.INVALID_PARAMETERS


class InvalidSessionId(ServiceError):
    code = ErrorCode.INVALID_SESSION_ID


class UnsupportedLanguage(ServiceError):
    code = ErrorCode.UNSUPPORTED_LANGUAGE


class InvalidAction(ServiceError):
    code = ErrorCode.INVALID_ACTION


class SessionNotFound(ServiceError):
    code = ErrorCode.SESSION_NOT_FOUND


class RateLimitExceeded(ServiceError):
    code = ErrorCode.RATE_LIMIT_EXCEEDED

    def __init__(self, message: str, retry_after: int, details: dict[str, Any] | None = None):
        merged = {**(details or {}), "retryAfter": max(1, int(retry_after))}
        super().__init__(message, merged)
        self.retry_after = merged["retryAfter"]


class SessionFull(ServiceError):
    code = ErrorCode.SESSION_FULL


class InternalError(ServiceError):
    code = ErrorCode.INTERNAL_ERROR


class ConfigurationError(Exception):
    """An environment variable is missing or malformed; raised at cold start."""

    def __init__(self, variable: str, expected: str, got: str | None) -> None:
        shown = "is not set" if got is None else f"is {got!r}"
        super().__init__(f"environment variable {variable} {shown}; expected {expected}")
        self.variable = variable
        self.expected = expected
