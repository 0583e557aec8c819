"""Before any check: can this verification read the deployment at all?

Without credentials, with refused ones, or with no stack, every check would fail on the same
cause, each with its own retries and, where a report then reads the stack, a traceback. One
probe (``sts get-caller-identity``, then ``describe-stacks`` when the chosen sections read the
stack) finds that cause once, and :class:`AccessProblem` says it in one line: what is missing
and how to provide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

if TYPE_CHECKING:
    from ci.deployment import Deployment

# Sections whose checks read only the machine, the configuration and the account: they run
# before the first deploy (the pipeline's pre-deployment job), when there is no stack yet.
STACKLESS_SECTIONS = frozenset({"pre-deployment"})

# Error codes of AWS refusing who is asking (not what is asked for).
_CREDENTIALS_REFUSED = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "AuthFailure",
    }
)
_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_NO_CREDENTIALS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
)
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError)


@dataclass(frozen=True)
class AccessProblem:
    """Why nothing could be verified: ``what`` is missing, ``how`` to provide it."""

    what: str
    how: str

    def line(self) -> str:
        return f"{self.what}: {self.how}"


def _credentials_how(env: str) -> str:
    return (
        f"sign in (e.g. `aws sso login --profile NAME`, then `AWS_PROFILE=NAME make verify "
        f"ENV={env}`) or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; to verify the "
        "local system instead: `make local`, then `make verify ENV=local`"
    )


def _client_error(dep: Deployment, err: ClientError, doing: str) -> AccessProblem:
    info = err.response.get("Error", {})
    code, message = str(info.get("Code", "")), str(info.get("Message", ""))
    if code in _CREDENTIALS_REFUSED:
        return AccessProblem(
            f"AWS refused the credentials for {dep.env} ({code}: {message})",
            "refresh them (`aws sso login`, or new access keys) and run again",
        )
    if code in _ACCESS_DENIED:
        return AccessProblem(
            f"the credentials may not {doing} in {dep.region} ({code}: {message})",
            f"use a role that may read the deployment, e.g. session-management-verify-{dep.env} "
            "(docs/pipelines.md, the roles)",
        )
    return AccessProblem(
        f"AWS answered {code} to {doing} in {dep.region}: {message}",
        "fix what the message names and run again",
    )


def failure(dep: Deployment, err: Exception, doing: str) -> AccessProblem:
    if isinstance(err, ProfileNotFound):
        return AccessProblem(
            f"AWS profile not found ({err})",
            "create it (`aws configure --profile NAME` or `aws configure sso`) or unset "
            "AWS_PROFILE",
        )
    if isinstance(err, _NO_CREDENTIALS):
        return AccessProblem(f"no AWS credentials for {dep.env} ({err})", _credentials_how(dep.env))
    if isinstance(err, _UNREACHABLE):
        where = dep.endpoint_url or f"AWS in {dep.region}"
        return AccessProblem(
            f"cannot reach {where} to {doing} ({type(err).__name__})",
            "check the network, the region (--region, infra/config/"
            f"{dep.env}.json) or --endpoint-url; for the local system, is `make local` running?",
        )
    if isinstance(err, ClientError):
        return _client_error(dep, err, doing)
    return AccessProblem(
        f"AWS could not be asked to {doing} ({type(err).__name__}: {err})",
        "fix what the message names and run again",
    )


def probe(dep: Deployment, sections: tuple[str, ...]) -> AccessProblem | None:
    """``None`` when the deployment can be read; else the one reason it cannot."""
    try:
        dep.clients("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        return failure(dep, err, "read the caller's identity")
    if set(sections) <= STACKLESS_SECTIONS:
        return None
    try:
        stack = dep.stack
    except (BotoCoreError, ClientError) as err:
        return failure(dep, err, f"read stack {dep.stack_name}")
    if stack is None:
        where = f" at {dep.endpoint_url}" if dep.endpoint_url else ""
        deploy = (
            "start it with `make local`"
            if dep.is_local
            else f"deploy it (`make deploy ENV={dep.env}`)"
        )
        return AccessProblem(
            f"stack {dep.stack_name} not found in {dep.region}{where}",
            f"{deploy}, or check the region (--region, infra/config/{dep.env}.json)",
        )
    return None
