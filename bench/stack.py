"""A deployed stage: its endpoint from the stack's outputs, and speaker tokens from its pool.

``--endpoint-from-stack --env ENV`` reads the ``WebSocketUrl``, ``UserPoolId`` and ``AppClientId``
outputs of ``SessionManagement-{env}`` (CloudFormation ``DescribeStacks``) with the credentials
boto3 finds (in the pipeline: the OIDC role of that environment).

Speaker tokens, first that applies:

1. ``BENCH_SPEAKER_TOKEN``: a Cognito token obtained beforehand (ID token unless the
   authorizer is built for access tokens);
2. ``BENCH_USERNAME`` / ``BENCH_PASSWORD``: a test user signed in with ``USER_PASSWORD_AUTH``;
3. otherwise a throwaway user is created in the pool (``AdminCreateUser`` with a random
   password, ``ADMIN_USER_PASSWORD_AUTH``) and deleted when the run ends. This needs the
   app client to allow ``ALLOW_ADMIN_USER_PASSWORD_AUTH`` and the caller to hold
   ``cognito-idp:AdminCreateUser/AdminSetUserPassword/AdminInitiateAuth/AdminDeleteUser``.

One user creates every session of the run: a deployed run stays far below the per-user
``sessionCreateLimitPerHour``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from ci.cognito_users import create_confirmed_user, throwaway_password, throwaway_username
from session_service import constants


class StackError(RuntimeError):
    """The stack or one of its outputs is missing."""


@dataclass(frozen=True)
class StackTarget:
    env: str
    region: str
    endpoint: str
    user_pool_id: str
    app_client_id: str


def _output(outputs: dict[str, str], key: str, stack: str) -> str:
    if key in outputs:
        return outputs[key]
    # CDK appends a hash to the id of an output defined inside a construct.
    matches = [v for k, v in outputs.items() if k.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    raise StackError(f"stack {stack} has no output {key} (outputs: {', '.join(sorted(outputs))})")


def from_stack(env: str, region: str, cloudformation: Any = None) -> StackTarget:
    """The endpoint and pool of ``SessionManagement-{env}``, from its outputs."""
    import boto3

    stack = constants.STACK_NAME_TEMPLATE.format(env=env)
    client = cloudformation or boto3.client("cloudformation", region_name=region)
    try:
        described = client.describe_stacks(StackName=stack)["Stacks"]
    except Exception as err:  # ClientError "does not exist", credentials, network
        raise StackError(f"cannot describe stack {stack} in {region}: {err}") from err
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described[0].get("Outputs", [])}
    return StackTarget(
        env=env,
        region=region,
        # SESSION_WEBSOCKET_URL: the endpoint when it is not the stack's output (a custom
        # domain in front, or the local gateway of the rehearsal), as for ci.verify's smoke test.
        endpoint=os.environ.get("SESSION_WEBSOCKET_URL")
        or _output(outputs, constants.OUTPUT_WEBSOCKET_URL, stack),
        user_pool_id=_output(outputs, constants.OUTPUT_USER_POOL_ID, stack),
        app_client_id=_output(outputs, constants.OUTPUT_APP_CLIENT_ID, stack),
    )


class CognitoTokens:
    """Token provider for a deployed pool (see the module docstring for where tokens come from)."""

    def __init__(
        self,
        target: StackTarget,
        token_use: str = "id",  # noqa: S107 (which Cognito token, not a secret)
        cognito: Any = None,
    ) -> None:
        self.target = target
        self._key = "IdToken" if token_use == "id" else "AccessToken"  # noqa: S105
        self._cognito = cognito
        self._token: str | None = os.environ.get("BENCH_SPEAKER_TOKEN") or None
        self._temp_user: str | None = None
        self._lock = threading.Lock()

    @property
    def cognito(self) -> Any:
        if self._cognito is None:
            import boto3

            self._cognito = boto3.client("cognito-idp", region_name=self.target.region)
        return self._cognito

    def __call__(self, speaker_index: int) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._sign_in()
            return self._token

    def _sign_in(self) -> str:
        username = os.environ.get("BENCH_USERNAME")
        password = os.environ.get("BENCH_PASSWORD")
        if username and password:
            result = self.cognito.initiate_auth(
                ClientId=self.target.app_client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
            return str(result["AuthenticationResult"][self._key])
        return self._temporary_user()

    def _temporary_user(self) -> str:
        pool = self.target.user_pool_id
        username, password = throwaway_username("loadtest-"), throwaway_password("Lt")
        create_confirmed_user(self.cognito, pool, username, password)
        self._temp_user = username
        result = self.cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=self.target.app_client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return str(result["AuthenticationResult"][self._key])

    def close(self) -> None:
        """Deletes the throwaway user, if one was made."""
        if self._temp_user is not None:
            self.cognito.admin_delete_user(
                UserPoolId=self.target.user_pool_id, Username=self._temp_user
            )
            self._temp_user = None
