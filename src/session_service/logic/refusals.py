"""The refusals more than one flow gives, each worded once.

The data layer reports what the tables found (:mod:`session_service.data.errors`); what that
means to a client, and in which words, is decided here.
"""

from __future__ import annotations

from session_service.exceptions import Forbidden, InvalidAction, SessionFull, SessionNotFound


def not_found(session_id: str) -> SessionNotFound:
    return SessionNotFound(
        f"session {session_id} does not exist or has ended", {"sessionId": session_id}
    )


def not_the_speaker() -> Forbidden:
    return Forbidden("only the speaker who created the session may refresh it")


def full(capacity: int) -> SessionFull:
    return SessionFull("the session has no free listener seat", {"maxListeners": capacity})


def taken() -> InvalidAction:
    return InvalidAction("this connection already belongs to a session")


def not_connected() -> SessionNotFound:
    return SessionNotFound("this connection is not part of a live session")
