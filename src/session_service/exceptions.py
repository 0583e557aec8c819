"""The service's errors: one base class carrying the protocol code and the HTTP status.

Every refusal the protocol knows (SPEC.md, "Errors") is a subclass of :class:`ServiceError`;
``handlers/_runtime.py`` is the one place that turns them into a `$connect` response or an
``error`` message. :class:`ConfigurationError` is separate: it stops a cold start and is never
shown to a client.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """A refusal with a protocol error code, an HTTP status, a message and details."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class Unauthorized(ServiceError):
    code = "UNAUTHORIZED"
    status = 401


class Forbidden(ServiceError):
    code = "FORBIDDEN"
    status = 403


class InvalidParameters(ServiceError):
    code = "INVALID_PARAMETERS"
    status = 400


class InvalidSessionId(ServiceError):
    code = "INVALID_SESSION_ID"
    status = 400


class UnsupportedLanguage(ServiceError):
    code = "UNSUPPORTED_LANGUAGE"
    status = 400


class InvalidAction(ServiceError):
    code = "INVALID_ACTION"
    status = 400


class SessionNotFound(ServiceError):
    code = "SESSION_NOT_FOUND"
    status = 404


class RateLimitExceeded(ServiceError):
    code = "RATE_LIMIT_EXCEEDED"
    status = 429

    def __init__(self, message: str, retry_after: int, details: dict[str, Any] | None = None):
        merged = {**(details or {}), "retryAfter": max(1, int(retry_after))}
        super().__init__(message, merged)
        self.retry_after = merged["retryAfter"]


class SessionFull(ServiceError):
    code = "SESSION_FULL"
    status = 503


class InternalError(ServiceError):
    code = "INTERNAL_ERROR"
    status = 500


# code -> status, the table of SPEC.md; tests and docs check against it.
ERROR_STATUS: dict[str, int] = {
    cls.code: cls.status
    for cls in (
        Unauthorized,
        Forbidden,
        InvalidParameters,
        InvalidSessionId,
        UnsupportedLanguage,
        InvalidAction,
        SessionNotFound,
        RateLimitExceeded,
        SessionFull,
        InternalError,
    )
}


class ConfigurationError(Exception):
    """An environment variable is missing or malformed; raised at cold start."""

    def __init__(self, variable: str, expected: str, got: str | None) -> None:
        shown = "is not set" if got is None else f"is {got!r}"
        super().__init__(f"environment variable {variable} {shown}; expected {expected}")
        self.variable = variable
        self.expected = expected
