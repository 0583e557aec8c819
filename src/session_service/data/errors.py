"""The data layer's own exceptions: what its callers see instead of botocore's.

The logic decides what a refusal means to a client (which protocol error, in which words); the
data layer only reports what the tables said. So nothing here is a protocol error, and every
SDK failure that is not an expected condition reaches the logic as :class:`StoreError`, with the
SDK's exception as its cause (its traceback keeps the detail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from session_service.models import Session


class DataError(Exception):
    """Base of every exception the data layer raises."""


class StoreError(DataError):
    """AWS failed or refused a request for a reason no caller expects (throttling, a conflict,
    a network failure, a missing table)."""


class ConnectionTaken(DataError):
    """The connection already has an item: a second registration of one socket."""


class SessionRefused(DataError):
    """A write conditioned on the session's state was refused.

    ``session`` is the session as the refusal found it (``None`` when it does not exist, or when
    its speaker has gone silent: a session that lost its speaker is no session), so the
    caller can tell an ended session from a full one or another speaker's.
    """

    def __init__(self, session: Session | None) -> None:
        super().__init__("the session's condition failed")
        self.session = session


class DeliveryFailed(DataError):
    """The ``@connections`` API failed a post for another reason than the connection being
    gone."""
