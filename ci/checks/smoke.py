"""Post-Deployment > Testing: smoke tests over a real WebSocket, in the order a client lives.

One runner for the whole section, because the steps build on each other (the user's token opens
the speaker's socket, whose session the listener joins...). A step whose prerequisite failed is
skipped with that reason.

Who signs in: in the pipelines the smoke test runs in the deploy job (for prod behind the
approval) as the environment's pre-provisioned smoke-test user, ``SMOKE_TEST_USERNAME`` (a
GitHub environment variable) and ``SMOKE_TEST_PASSWORD`` (a secret), plus
``SMOKE_TEST_CLIENT_SECRET`` when the app client has a secret. It signs in with ``InitiateAuth``
(``USER_PASSWORD_AUTH``), an unauthenticated API, and never creates, changes or deletes a user,
so no role needs Cognito admin rights for it. Only the local environment, without those
variables, creates a throwaway user and deletes it at the end whatever happened. Elsewhere the
missing variables fail the user step with one line saying how to provide them.

No password or token ever reaches the evidence: only the token's kind and lifetime are reported,
and every step's text is scrubbed of the password, the client secret and the token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from botocore.exceptions import BotoCoreError, ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from ci.checks import section_runner
from ci.model import Outcome, Status, failed, passed, skipped
from session_service.protocol import ACTION_FIELD, Action, ErrorCode, QualityTier, Role
from session_service.protocol import MessageType as T

if TYPE_CHECKING:
    from ci.checklist import Item
    from ci.deployment import Deployment

TIMEOUT_S = 10.0
QUIET_S = 1.0  # how long to listen for a message that must not come
USER_PREFIX = "ci-smoke-"
USERNAME_VARIABLE = "SMOKE_TEST_USERNAME"  # a variable of the GitHub environment {env}
PASSWORD_VARIABLE = "SMOKE_TEST_PASSWORD"  # noqa: S105 - the name of a secret of {env}
CLIENT_SECRET_VARIABLE = "SMOKE_TEST_CLIENT_SECRET"  # noqa: S105 - when the client has one
SETUP_SECTION = 'docs/pipelines.md, "Setup, once per repository" §3 (the smoke-test user)'


@dataclass(frozen=True)
class ProvisionedUser:
    """The environment's smoke-test user, created once by an administrator."""

    username: str
    password: str
    client_secret: str | None

    def __repr__(self) -> str:  # never the password, wherever the object is shown
        return f"ProvisionedUser(username={self.username!r}, password='***')"


def provisioned_user(environ: Mapping[str, str]) -> ProvisionedUser | None:
    """The user of ``SMOKE_TEST_USERNAME``/``SMOKE_TEST_PASSWORD``, or None when either is unset."""
    username = environ.get(USERNAME_VARIABLE, "").strip()
    password = environ.get(PASSWORD_VARIABLE, "")
    if not (username and password):
        return None
    return ProvisionedUser(username, password, environ.get(CLIENT_SECRET_VARIABLE) or None)


def missing_user_line(env: str, environ: Mapping[str, str]) -> str:
    """What is missing and how to provide it, in one line."""
    missing = [
        name for name in (USERNAME_VARIABLE, PASSWORD_VARIABLE) if not environ.get(name, "").strip()
    ]
    return (
        f"{' and '.join(missing)} not set: the smoke test of {env} signs in as a pre-provisioned "
        f"user; set {USERNAME_VARIABLE} (variable) and {PASSWORD_VARIABLE} (secret) of the GitHub "
        f"environment {env}, see {SETUP_SECTION}"
    )


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(client secret, username + client id))."""
    digest = hmac.new(
        client_secret.encode(), (username + client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class StepFailed(Exception):
    """A smoke step did not see what the protocol promises; the message is the evidence."""


class Smoke:
    """The smoke run's state: the URL, the test user, the open sockets."""

    def __init__(self, dep: Deployment, environ: Mapping[str, str] | None = None) -> None:
        self.dep = dep
        self.environ = os.environ if environ is None else environ
        self.url = (dep.websocket_url or "").rstrip("/")
        self.cognito = dep.clients("cognito-idp")
        self.pool_id, self.client_id = dep.user_pool_id, dep.app_client_id
        self.provisioned = provisioned_user(self.environ)
        self.username: str | None = None
        self.created = False  # whether this run created the user (and so must delete it)
        self._password: str | None = None
        self._token: str | None = None
        self.session_id: str | None = None
        self.sockets: dict[str, ClientConnection] = {}
        self._opened = contextlib.ExitStack()  # websockets' connect() is a context manager
        self._last_beat: dict[int, float] = {}
        # The service refuses heartbeats closer together than 60 s / limit on one connection.
        limit = dep.config.limits.heartbeat_limit_per_minute if dep.config else 10
        self.beat_interval = 60.0 / limit + 0.25
        languages = dep.config.supported_languages if dep.config else ("en", "es")
        self.target = next((code for code in languages if code != "en"), "en")

    # --- sockets -----------------------------------------------------------------------
    def open(self, name: str, **params: str) -> ClientConnection:
        socket = self._opened.enter_context(
            connect(f"{self.url}?{urlencode(params)}", open_timeout=TIMEOUT_S, close_timeout=2)
        )
        self.sockets[name] = socket
        return socket

    def close(self, name: str) -> None:
        socket = self.sockets.pop(name, None)
        if socket is not None:
            socket.close()

    @staticmethod
    def receive(socket: ClientConnection, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        try:
            return json.loads(socket.recv(timeout=timeout))
        except TimeoutError:
            raise StepFailed(f"no message within {timeout:g} s") from None
        except ConnectionClosed as err:
            raise StepFailed(
                f"socket closed ({err.rcvd.code if err.rcvd else 'no close frame'})"
            ) from None

    def expect(self, socket: ClientConnection, *types: str) -> list[dict[str, Any]]:
        """Read until the given message types arrived in order; anything else is reported."""
        seen: list[dict[str, Any]] = []
        for wanted in types:
            message = self.receive(socket)
            seen.append(message)
            if message.get("type") != wanted:
                shown = ", ".join(f"{m.get('type')}({m.get('code', '')})" for m in seen)
                raise StepFailed(f"received {shown}; expected {', '.join(types)}")
        return seen

    def heartbeat(
        self, socket: ClientConnection, *types: str
    ) -> tuple[list[dict[str, Any]], float]:
        wait = self._last_beat.get(id(socket), 0.0) + self.beat_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        started = time.monotonic()
        socket.send(json.dumps({ACTION_FIELD: Action.HEARTBEAT}))
        messages = self.expect(socket, *types)
        # The service timed this heartbeat somewhere before its answer arrived: count from here.
        self._last_beat[id(socket)] = time.monotonic()
        return messages, (time.monotonic() - started) * 1000

    # --- steps -------------------------------------------------------------------------
    def connectivity(self) -> Outcome:
        if not self.url:
            return failed("no WebSocket URL (stack output or --websocket-url)", "a WebSocket URL")
        params = {
            ACTION_FIELD: Action.JOIN_SESSION,
            "sessionId": "unknown-session-100",
            "targetLanguage": self.target,
        }
        try:
            socket = self._opened.enter_context(
                connect(f"{self.url}?{urlencode(params)}", open_timeout=TIMEOUT_S)
            )
        except InvalidStatus as err:
            status = err.response.status_code
            return (
                passed(f"{self.url}: handshake answered HTTP {status} for an unknown session")
                if status in (400, 404)
                else failed(
                    f"{self.url}: handshake answered HTTP {status}",
                    f"HTTP 404 ({ErrorCode.SESSION_NOT_FOUND})",
                )
            )
        except (OSError, TimeoutError, WebSocketException) as err:
            return failed(f"{self.url}: {type(err).__name__}: {err}", "a WebSocket handshake")
        socket.close()
        return failed(f"{self.url}: joined an unknown session", "HTTP 404 for an unknown session")

    def redact(self, text: str) -> str:
        """``text`` without the password, client secret or token (a second line of defence)."""
        secrets_ = [self._password, self._token]
        if self.provisioned:
            secrets_ += [self.provisioned.password, self.provisioned.client_secret]
        for value in secrets_:
            if value:
                text = text.replace(value, "***")
        return text

    def create_user(self) -> Outcome:
        """The user to sign in as: the provisioned one, or (local only) a throwaway one."""
        if not (self.pool_id and self.client_id):
            return failed("no user pool / app client id", "UserPoolId and AppClientId outputs")
        if self.provisioned is not None:
            self.username, self._password = self.provisioned.username, self.provisioned.password
            return passed(
                f"pre-provisioned user {self.username} ({USERNAME_VARIABLE}) of {self.pool_id}; "
                "no user created, changed or deleted"
            )
        if not self.dep.is_local:
            return failed(
                missing_user_line(self.dep.env, self.environ),
                f"{USERNAME_VARIABLE} and {PASSWORD_VARIABLE} in the job's environment",
            )
        return self._create_throwaway_user()

    def _create_throwaway_user(self) -> Outcome:
        """The local environment's user: created here, deleted by :meth:`cleanup`."""
        username = f"{USER_PREFIX}{secrets.token_hex(6)}@example.com"
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        self.username, self.created = username, True
        self._password = f"Ci-{secrets.token_urlsafe(18)}-7a!"
        self.cognito.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=self._password, Permanent=True
        )
        return passed(f"user {username} created in {self.pool_id}")

    def sign_in(self) -> Outcome:
        user = self.provisioned
        result = self._provisioned_auth(user) if user else self._throwaway_auth()
        tokens = result.get("AuthenticationResult", {})
        self._token = tokens.get("IdToken")
        if not self._token or self._token.count(".") != 2:
            challenge = result.get("ChallengeName")
            shown = f" (challenge {challenge})" if challenge else ""
            return failed(
                f"no IdToken in the authentication result{shown}",
                "a JWT (IdToken); a permanent password (admin-set-user-password --permanent)",
            )
        return passed(f"IdToken obtained (JWT, expires in {tokens.get('ExpiresIn')} s; not shown)")

    def _provisioned_auth(self, user: ProvisionedUser) -> dict[str, Any]:
        """USER_PASSWORD_AUTH: unauthenticated, so the job needs no Cognito permission."""
        auth = {"USERNAME": user.username, "PASSWORD": user.password}
        if user.client_secret:
            auth["SECRET_HASH"] = secret_hash(
                user.username, self.client_id or "", user.client_secret
            )
        return dict(
            self.cognito.initiate_auth(
                ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth
            )
        )

    def _throwaway_auth(self) -> dict[str, Any]:
        auth = {"USERNAME": self.username or "", "PASSWORD": self._password or ""}
        try:
            result = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters=auth,
            )
        except self.cognito.exceptions.InvalidParameterException:
            result = self.cognito.initiate_auth(
                ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth
            )
        return dict(result)

    def speaker(self) -> Outcome:
        socket = self._open_speaker()
        messages, _ = self.heartbeat(socket, T.SESSION_CREATED, T.HEARTBEAT_ACK)
        created = messages[0]
        self.session_id = created.get("sessionId")
        if not self.session_id:
            raise StepFailed(f"{T.SESSION_CREATED} without a sessionId")
        return passed(
            f"{T.SESSION_CREATED} {self.session_id} ({created.get('sourceLanguage')}, "
            f"{created.get('qualityTier')}), then {T.HEARTBEAT_ACK}"
        )

    def _open_speaker(self) -> ClientConnection:
        try:
            return self.open(
                "speaker",
                action=Action.CREATE_SESSION,
                sourceLanguage="en",
                qualityTier=QualityTier.STANDARD,
                token=self._token or "",
            )
        except InvalidStatus as err:
            raise StepFailed(
                f"{Action.CREATE_SESSION} handshake refused: HTTP {err.response.status_code}"
            ) from None

    def listener(self) -> Outcome:
        try:
            socket = self.open(
                "listener",
                action=Action.JOIN_SESSION,
                sessionId=self.session_id or "",
                targetLanguage=self.target,
            )
        except InvalidStatus as err:
            raise StepFailed(
                f"{Action.JOIN_SESSION} handshake refused: HTTP {err.response.status_code}"
            ) from None
        messages, _ = self.heartbeat(socket, T.SESSION_JOINED, T.HEARTBEAT_ACK)
        joined = messages[0]
        return passed(
            f"{T.SESSION_JOINED} {joined.get('sessionId')} ({joined.get('sourceLanguage')} -> "
            f"{joined.get('targetLanguage')}), then {T.HEARTBEAT_ACK}"
        )

    def heartbeat_step(self) -> Outcome:
        _, elapsed = self.heartbeat(self.sockets["speaker"], T.HEARTBEAT_ACK)
        return passed(f"{T.HEARTBEAT_ACK} in {elapsed:.0f} ms")

    def refresh(self) -> Outcome:
        try:
            socket = self.open(
                "speaker-new",
                action=Action.REFRESH_CONNECTION,
                sessionId=self.session_id or "",
                role=Role.SPEAKER,
                token=self._token or "",
            )
        except InvalidStatus as err:
            raise StepFailed(
                f"{Action.REFRESH_CONNECTION} handshake refused: HTTP {err.response.status_code}"
            ) from None
        socket.send(json.dumps({ACTION_FIELD: Action.REFRESH_CONNECTION}))
        done = self.expect(socket, T.CONNECTION_REFRESH_COMPLETE)[0]
        self.close("speaker")  # the old socket; its $disconnect must not end the session
        self.heartbeat(socket, T.HEARTBEAT_ACK)
        self._assert_quiet(self.sockets["listener"], T.SESSION_ENDED)
        self.sockets["speaker"] = self.sockets.pop("speaker-new")
        return passed(
            f"{T.CONNECTION_REFRESH_COMPLETE} ({done.get('role')}); old socket closed, session "
            f"{self.session_id} still live ({T.HEARTBEAT_ACK}, no {T.SESSION_ENDED} to the "
            "listener)"
        )

    def _assert_quiet(self, socket: ClientConnection, forbidden: str) -> None:
        try:
            message = json.loads(socket.recv(timeout=QUIET_S))
        except TimeoutError:
            return
        if message.get("type") == forbidden:
            raise StepFailed(f"listener received {forbidden} after the old speaker socket closed")

    def disconnect(self) -> Outcome:
        self.close("speaker")
        ended = self.expect(self.sockets["listener"], T.SESSION_ENDED)[0]
        self.close("listener")
        return passed(
            f"speaker closed; listener received {T.SESSION_ENDED} ({ended.get('reason')})"
        )

    def cleanup(self) -> str:
        """Close every socket and delete the user this run created; what happened, for the evidence.

        A provisioned user is never deleted: it belongs to the environment, not to the run.
        """
        for name in list(self.sockets):
            with contextlib.suppress(OSError, WebSocketException):
                self.close(name)
        with contextlib.suppress(OSError, WebSocketException):
            self._opened.close()
        if not (self.username and self.created):
            return ""
        try:
            self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=self.username)
        except Exception as err:  # the report must say the user is left behind
            return f"could not delete {self.username}: {err}"
        return f"deleted {self.username} at the end"


# (check id, step, check ids it needs to have passed)
_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("smoke.connectivity", "connectivity", ()),
    ("smoke.test-user", "create_user", ()),
    ("smoke.jwt", "sign_in", ("smoke.test-user",)),
    ("smoke.speaker", "speaker", ("smoke.jwt",)),
    ("smoke.listener", "listener", ("smoke.speaker",)),
    ("smoke.heartbeat", "heartbeat_step", ("smoke.speaker",)),
    ("smoke.refresh", "refresh", ("smoke.speaker", "smoke.listener")),
    ("smoke.disconnect", "disconnect", ("smoke.speaker", "smoke.listener")),
)


def _step(smoke: Smoke, name: str) -> Outcome:
    """Run one step; its outcome scrubbed of the password, client secret and token."""
    outcome = _run_step(smoke, name)
    return Outcome(
        outcome.status,
        smoke.redact(outcome.evidence),
        smoke.redact(outcome.expected),
        smoke.redact(outcome.note),
    )


def _run_step(smoke: Smoke, name: str) -> Outcome:
    try:
        return getattr(smoke, name)()
    except StepFailed as err:
        return failed(str(err), "the protocol's answer (SPEC.md, protocol v1)")
    except (OSError, WebSocketException) as err:
        return failed(f"{type(err).__name__}: {err}", "an open WebSocket")
    except (BotoCoreError, ClientError) as err:
        return failed(f"{type(err).__name__}: {err}", "the Cognito call to succeed")


@section_runner("smoke")
def run(dep: Deployment, items: tuple[Item, ...]) -> Iterator[tuple[str, Outcome]]:
    wanted = {item.id for item in items}
    dep.require_stack()
    smoke = Smoke(dep)
    outcomes: dict[str, Outcome] = {}
    user_outcome: Outcome | None = None
    try:
        for check_id, step, needs in _STEPS:
            blocked = [n for n in needs if outcomes[n].status is not Status.PASS]
            outcome = (
                skipped(f"needs {', '.join(blocked)}, which did not pass")
                if blocked
                else _step(smoke, step)
            )
            outcomes[check_id] = outcome
            if check_id == "smoke.test-user":
                user_outcome = outcome  # reported after the cleanup, with it
            elif check_id in wanted:
                yield check_id, outcome
    finally:
        cleaned = smoke.redact(smoke.cleanup())
    if user_outcome is not None and "smoke.test-user" in wanted:
        yield "smoke.test-user", _with_cleanup(user_outcome, cleaned)


def _with_cleanup(outcome: Outcome, cleaned: str) -> Outcome:
    if cleaned.startswith("could not"):
        return failed(f"{outcome.evidence}; {cleaned}", "the test user removed at the end")
    evidence = f"{outcome.evidence}; {cleaned}" if cleaned else outcome.evidence
    return Outcome(outcome.status, evidence, outcome.expected, outcome.note)
