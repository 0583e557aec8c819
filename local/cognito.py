"""The Cognito user pool, app client and test users of the local environment, in the emulator.

moto's Cognito signs RS256 tokens and serves their keys at ``/<pool-id>/.well-known/jwks.json``,
so the authorizer verifies local tokens exactly as it verifies real ones. Every password and
token made here is a local throwaway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ci.cognito_users import create_confirmed_user, throwaway_password

POOL_NAME = "session-management-local"
CLIENT_NAME = "session-management-local-client"
DEFAULT_SPEAKER = "speaker@example.com"


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    client_id: str
    endpoint_url: str | None

    @property
    def jwks_url(self) -> str:
        """Where the emulator serves the pool's signing keys (what JWKS_URL is set to)."""
        if not self.endpoint_url:
            raise RuntimeError("in-process moto has no JWKS URL")
        return f"{self.endpoint_url}/{self.pool_id}/.well-known/jwks.json"


@dataclass(frozen=True)
class TestUser:
    username: str
    password: str
    sub: str


def create_user_pool(
    cognito: Any,
    endpoint_url: str | None,
    pool_name: str = POOL_NAME,
    client_name: str = CLIENT_NAME,
) -> UserPool:
    """Create the pool and an app client that allows password sign-in (as the SPEC's clients do)."""
    pool_id = cognito.create_user_pool(
        PoolName=pool_name,
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
        UsernameAttributes=["email"],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=client_name,
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]["ClientId"]
    return UserPool(pool_id=pool_id, client_id=client_id, endpoint_url=endpoint_url)


def create_test_user(
    cognito: Any, pool: UserPool, username: str = DEFAULT_SPEAKER, password: str | None = None
) -> TestUser:
    """Create a confirmed user with a permanent (throwaway) password."""
    user = create_confirmed_user(
        cognito, pool.pool_id, username, password or throwaway_password("Local")
    )
    return TestUser(username=user.username, password=user.password, sub=user.sub)


def sign_in(cognito: Any, pool: UserPool, user: TestUser) -> dict[str, str]:
    """Sign the user in (USER_PASSWORD_AUTH, as a client app does); return IdToken, AccessToken…"""
    result = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.username, "PASSWORD": user.password},
    )["AuthenticationResult"]
    return {k: v for k, v in result.items() if isinstance(v, str)}
