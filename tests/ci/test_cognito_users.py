"""The one test-user helper: a user who signs in at once, for ci/, local/ and bench/ alike."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.stack import CognitoTokens, StackTarget
from ci.cognito_users import (
    create_confirmed_user,
    throwaway_password,
    throwaway_username,
)
from local.cognito import UserPool, create_test_user


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


def pool(cognito: Any) -> UserPool:
    pool_id = cognito.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return UserPool(pool_id=pool_id, client_id=client_id, endpoint_url=None)


def usernames(cognito: Any, pool_id: str) -> list[str]:
    """The users' emails (a pool with email usernames lists each user under its sub)."""
    return [
        next(a["Value"] for a in u["Attributes"] if a["Name"] == "email")
        for u in cognito.list_users(UserPoolId=pool_id)["Users"]
    ]


def test_a_created_user_is_confirmed_and_signs_in_with_its_password(cognito: Any) -> None:
    p = pool(cognito)
    username, password = throwaway_username("t-"), throwaway_password("Tt")
    user = create_confirmed_user(cognito, p.pool_id, username, password)
    assert user.username == username
    assert user.sub
    assert password not in repr(user)
    listed = cognito.admin_get_user(UserPoolId=p.pool_id, Username=username)
    assert listed["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in listed["UserAttributes"]
    result = cognito.initiate_auth(
        ClientId=p.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    assert result["AuthenticationResult"]["IdToken"].count(".") == 2


def test_throwaway_names_and_passwords_differ_each_time_and_say_who_made_them() -> None:
    names = {throwaway_username("ci-smoke-") for _ in range(5)}
    assert len(names) == 5
    assert all(n.startswith("ci-smoke-") and n.endswith("@example.com") for n in names)
    password = throwaway_password("Ci")
    assert password.startswith("Ci-")
    assert password.endswith("-7a!")
    assert len(password) >= 30
    assert password != throwaway_password("Ci")


class _PasswordRefused:
    """A client whose AdminSetUserPassword fails, as a stricter password policy would."""

    def __init__(self, cognito: Any) -> None:
        self._cognito = cognito

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cognito, name)

    def admin_set_user_password(self, **kwargs: Any) -> None:
        raise RuntimeError("password refused")


def test_a_user_whose_password_cannot_be_set_is_not_left_behind(cognito: Any) -> None:
    p = pool(cognito)
    with pytest.raises(RuntimeError, match="password refused"):
        create_confirmed_user(_PasswordRefused(cognito), p.pool_id, "x@example.com", "Pw-1a!xyzzy")
    assert usernames(cognito, p.pool_id) == []


def test_the_local_environment_and_the_load_test_create_users_through_it(cognito: Any) -> None:
    p = pool(cognito)
    local_user = create_test_user(cognito, p)
    assert local_user.password.startswith("Local-")
    target = StackTarget("dev", "us-east-1", "wss://x", p.pool_id, p.client_id)
    tokens = CognitoTokens(target, cognito=cognito)
    assert tokens(0).count(".") == 2
    made = [u for u in usernames(cognito, p.pool_id) if u.startswith("loadtest-")]
    assert len(made) == 1
    tokens.close()
    assert usernames(cognito, p.pool_id) == [local_user.username]


def test_the_helper_imports_neither_boto3_nor_the_checks() -> None:
    code = (
        "import sys, json; import ci.cognito_users; "
        "print(json.dumps([m for m in ('boto3', 'botocore', 'ci.checks') if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
