"""Confirmed test users in a Cognito user pool, created the one way every tool here needs them.

The local environment (its default speaker and the users tests ask for), the smoke test of
``ci/`` (its throwaway user on the local environment) and the load test of ``bench/`` (its
throwaway user in a deployed pool) all need a user who can sign in at once: no invitation
mail, a verified email, a permanent password. This module does that with two admin calls and
imports only the standard library, so the three can use it without loading boto3 or the checks;
the caller passes its own ``cognito-idp`` client (moto's, the emulator's or AWS's).
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from typing import Any

THROWAWAY_DOMAIN = "example.com"  # reserved for examples (RFC 2606): no mail reaches anyone


@dataclass(frozen=True)
class CreatedUser:
    """A user who can sign in now with ``password``; ``sub`` is Cognito's id of the user."""

    username: str
    password: str
    sub: str

    def __repr__(self) -> str:  # never the password, wherever the object is shown
        return f"CreatedUser(username={self.username!r}, password='***', sub={self.sub!r})"


def throwaway_username(prefix: str) -> str:
    """An email-shaped username no one owns, e.g. ``ci-smoke-1a2b3c4d5e6f@example.com``.

    A pool whose usernames are email addresses requires the shape; the prefix tells an
    administrator which tool left a user behind.
    """
    return f"{prefix}{secrets.token_hex(6)}@{THROWAWAY_DOMAIN}"


def throwaway_password(prefix: str) -> str:
    """A random password of 30 characters or more that Cognito's password policies accept.

    Give a prefix that starts with an upper-case letter; the suffix brings a digit, a lower-case
    letter and a symbol, and 24 random URL-safe characters sit between them.
    """
    return f"{prefix}-{secrets.token_urlsafe(18)}-7a!"


def create_confirmed_user(cognito: Any, pool_id: str, username: str, password: str) -> CreatedUser:
    """Create ``username`` (its email verified, no invitation sent) with a permanent ``password``.

    If the password cannot be set, the half-made user is deleted before the error propagates, so
    a failed run leaves no user that cannot sign in.
    """
    created = cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": username},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    try:
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
    except Exception:
        with contextlib.suppress(Exception):
            cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
        raise
    attributes = {a["Name"]: a["Value"] for a in created["User"].get("Attributes", [])}
    return CreatedUser(username=username, password=password, sub=attributes.get("sub", ""))
