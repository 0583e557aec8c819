"""The wire vocabulary of session protocol v1, spelled once (docs/protocol.md explains it).

Everything a client or the service puts on the wire that is a fixed word lives here: the actions
a client sends, the API Gateway route keys they arrive on, the message types the service sends,
roles, quality tiers, why a session ended, and the error codes with the HTTP status each one
becomes. The handlers, the CDK app, the checklist, the local environment and the load bench all
read these names, so a new word is added here and nowhere else.

The words are :class:`~enum.StrEnum` members: they compare equal to, hash like, format and
serialize as the plain strings, so ``message["type"] == MessageType.HEARTBEAT_ACK``, f-strings and
``json.dumps`` work unchanged; their ``repr`` is the string's too, so an error text written with
``{action!r}`` reads the same whether it got a word from here or from the wire. The module imports
nothing beyond ``enum``: handlers import it at cold start.
"""

from __future__ import annotations

from enum import StrEnum


class Word(StrEnum):
    """A protocol word: a string that is also a member of its vocabulary."""

    __repr__ = str.__repr__


class Action(Word):
    """What a client asks for: in the ``$connect`` query string or as a message's ``action``."""

    CREATE_SESSION = "createSession"
    JOIN_SESSION = "joinSession"
    REFRESH_CONNECTION = "refreshConnection"
    HEARTBEAT = "heartbeat"


# The actions that open a socket (``action=`` in the ``$connect`` query string).
CONNECT_ACTIONS: tuple[Action, ...] = (
    Action.CREATE_SESSION,
    Action.JOIN_SESSION,
    Action.REFRESH_CONNECTION,
)
# The actions a client sends on an open socket; each is the key of a message route.
MESSAGE_ACTIONS: tuple[Action, ...] = (Action.HEARTBEAT, Action.REFRESH_CONNECTION)

# The body field API Gateway selects a message route by.
ACTION_FIELD = "action"
ROUTE_SELECTION_EXPRESSION = f"$request.body.{ACTION_FIELD}"

# API Gateway's own route keys: the handshake, the close, and messages that match no route.
CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"


class MessageType(Word):
    """The ``type`` of a message the service sends."""

    SESSION_CREATED = "sessionCreated"
    SESSION_JOINED = "sessionJoined"
    HEARTBEAT_ACK = "heartbeatAck"
    CONNECTION_REFRESH_REQUIRED = "connectionRefreshRequired"
    CONNECTION_WARNING = "connectionWarning"
    CONNECTION_REFRESH_COMPLETE = "connectionRefreshComplete"
    SESSION_ENDED = "sessionEnded"
    ERROR = "error"


class Role(Word):
    """Who holds a connection: the session's one speaker or one of its listeners."""

    SPEAKER = "speaker"
    LISTENER = "listener"


class QualityTier(Word):
    """The ``qualityTier`` a speaker asks for (``standard`` when omitted)."""

    STANDARD = "standard"
    PREMIUM = "premium"


class EndReason(Word):
    """The ``reason`` of a ``sessionEnded`` message."""

    SPEAKER_DISCONNECTED = "speakerDisconnected"
    # The speaker went unheard past the staleness limit (its socket died, or its `$disconnect`
    # never ran): the janitor ended the session.
    SPEAKER_TIMEOUT = "speakerTimeout"


class ErrorCode(Word):
    """The ``code`` of an ``error`` message (docs/protocol.md, "Errors")."""

    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_PARAMETERS = "INVALID_PARAMETERS"
    INVALID_SESSION_ID = "INVALID_SESSION_ID"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
    INVALID_ACTION = "INVALID_ACTION"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    SESSION_FULL = "SESSION_FULL"
    INTERNAL_ERROR = "INTERNAL_ERROR"


# code -> HTTP status: a refused `$connect` fails its handshake with it. The table of SPEC.md.
ERROR_STATUS: dict[str, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.INVALID_PARAMETERS: 400,
    ErrorCode.INVALID_SESSION_ID: 400,
    ErrorCode.UNSUPPORTED_LANGUAGE: 400,
    ErrorCode.INVALID_ACTION: 400,
    ErrorCode.SESSION_NOT_FOUND: 404,
    ErrorCode.RATE_LIMIT_EXCEEDED: 429,
    ErrorCode.SESSION_FULL: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}
