"""Who the smoke test signs in as: the environment's pre-provisioned user, never a created one.

Outside the local environment the smoke test runs in the deploy job with no Cognito permission:
it signs in with USER_PASSWORD_AUTH as SMOKE_TEST_USERNAME / SMOKE_TEST_PASSWORD and leaves the
pool as it found it; without those variables the user step fails with how to provide them. The
provisioned path end to end (real sockets, the local pool) is in test_verify_local_e2e.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cognitoidp.utils import check_secret_hash

from ci import runner
from ci.checks import smoke
from ci.model import Status

PASSWORD = "Provisioned-Pa55word-only-in-tests!"
USERNAME = "smoke-test@example.com"


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


def pool_with_user(cognito: Any, *, client_secret: bool) -> tuple[str, dict[str, Any]]:
    """A pool, an app client allowing USER_PASSWORD_AUTH, a confirmed user: an admin's setup."""
    pool_id = cognito.create_user_pool(PoolName="smoke", UsernameAttributes=["email"])["UserPool"][
        "Id"
    ]
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        GenerateSecret=client_secret,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool_id, Username=USERNAME, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=USERNAME, Password=PASSWORD, Permanent=True
    )
    return pool_id, client


def users(cognito: Any, pool_id: str) -> list[tuple[str, str, bool, Any]]:
    listed = cognito.list_users(UserPoolId=pool_id)["Users"]
    return sorted(
        (u["Username"], u["UserStatus"], u["Enabled"], u["UserLastModifiedDate"]) for u in listed
    )


def fake_deployment(cognito: Any, pool_id: str, client_id: str, env: str = "prod") -> Any:
    """What Smoke reads of a Deployment: clients, ids, URL, config, whether it is local."""
    return SimpleNamespace(
        clients=lambda service: cognito,
        user_pool_id=pool_id,
        app_client_id=client_id,
        websocket_url=None,
        config=None,
        env=env,
        is_local=env == "local",
    )


def test_the_provisioned_user_signs_in_and_the_pool_is_left_as_it_was(cognito) -> None:
    pool_id, client = pool_with_user(cognito, client_secret=False)
    before = users(cognito, pool_id)
    environ = {"SMOKE_TEST_USERNAME": USERNAME, "SMOKE_TEST_PASSWORD": PASSWORD}
    run = smoke.Smoke(fake_deployment(cognito, pool_id, client["ClientId"]), environ)
    user = smoke._step(run, "create_user")
    signed_in = smoke._step(run, "sign_in")
    cleaned = run.cleanup()
    assert user.status is Status.PASS, user
    assert f"pre-provisioned user {USERNAME}" in user.evidence
    assert signed_in.status is Status.PASS, signed_in
    assert cleaned == ""  # nothing to delete: the user belongs to the environment
    assert users(cognito, pool_id) == before
    for text in (user.evidence, signed_in.evidence, repr(run.provisioned)):
        assert PASSWORD not in text
        assert "eyJ" not in text


def test_a_client_secret_is_sent_as_cognitos_secret_hash(cognito) -> None:
    pool_id, client = pool_with_user(cognito, client_secret=True)
    sent: list[dict[str, str]] = []
    cognito.meta.events.register(
        "provide-client-params.cognito-idp.InitiateAuth",
        lambda params, **_: sent.append(dict(params["AuthParameters"])),
    )
    environ = {
        "SMOKE_TEST_USERNAME": USERNAME,
        "SMOKE_TEST_PASSWORD": PASSWORD,
        "SMOKE_TEST_CLIENT_SECRET": client["ClientSecret"],
    }
    run = smoke.Smoke(fake_deployment(cognito, pool_id, client["ClientId"]), environ)
    smoke._step(run, "create_user")
    signed_in = smoke._step(run, "sign_in")
    assert signed_in.status is Status.PASS, signed_in
    assert len(sent) == 1
    assert check_secret_hash(
        client["ClientSecret"], client["ClientId"], USERNAME, sent[0]["SECRET_HASH"]
    )


def test_a_wrong_password_fails_sign_in_without_showing_it(cognito) -> None:
    pool_id, client = pool_with_user(cognito, client_secret=False)
    wrong = "Not-The-Password-42!"
    environ = {"SMOKE_TEST_USERNAME": USERNAME, "SMOKE_TEST_PASSWORD": wrong}
    run = smoke.Smoke(fake_deployment(cognito, pool_id, client["ClientId"]), environ)
    smoke._step(run, "create_user")
    signed_in = smoke._step(run, "sign_in")
    assert signed_in.status is Status.FAIL
    assert "NotAuthorized" in signed_in.evidence
    assert wrong not in signed_in.evidence + signed_in.expected + signed_in.note


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, "SMOKE_TEST_USERNAME and SMOKE_TEST_PASSWORD not set"),
        ({"SMOKE_TEST_USERNAME": USERNAME}, "SMOKE_TEST_PASSWORD not set"),
        ({"SMOKE_TEST_PASSWORD": PASSWORD}, "SMOKE_TEST_USERNAME not set"),
    ],
)
def test_without_the_variables_outside_local_the_user_step_fails_with_how_to_provide_them(
    cognito, environ: dict[str, str], missing: str
) -> None:
    pool_id, client = pool_with_user(cognito, client_secret=False)
    before = users(cognito, pool_id)
    run = smoke.Smoke(fake_deployment(cognito, pool_id, client["ClientId"], env="staging"), environ)
    user = smoke._step(run, "create_user")
    assert user.status is Status.FAIL
    assert user.evidence.startswith(missing)
    assert "GitHub environment staging" in user.evidence
    assert 'docs/pipelines.md, "Setup, once per repository" §3' in user.evidence
    assert "\n" not in user.evidence
    assert users(cognito, pool_id) == before
    assert PASSWORD not in user.evidence


def test_the_smoke_section_of_a_real_stack_without_the_variables_fails_and_creates_no_user(
    aws, deployment_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SMOKE_TEST_USERNAME", "SMOKE_TEST_PASSWORD", "SMOKE_TEST_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    stack = aws("dev")
    results = {r.id: r for r in runner.run(deployment_of("dev"), ["smoke"])}
    user = results["smoke.test-user"]
    assert user.status is Status.FAIL
    assert user.evidence.startswith("SMOKE_TEST_USERNAME and SMOKE_TEST_PASSWORD not set")
    assert results["smoke.jwt"].status is Status.SKIPPED
    assert "smoke.test-user" in results["smoke.jwt"].note
    cognito = stack.client("cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert all(cognito.list_users(UserPoolId=p["Id"])["Users"] == [] for p in pools)
