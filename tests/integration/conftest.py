"""Fixtures for the integration tests: moto's DynamoDB (tables from constants.TABLES), a real
local Management API and JWKS server, a controllable clock, and every handler wired to them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from session_service.auth.jwt_verifier import JwksCache
from session_service.data.schema import create_tables
from session_service.handlers import authorizer, connect, disconnect, heartbeat, janitor, refresh

from .servers import JwksServer, ManagementApiServer

ENV = "test"
REGION = "us-east-1"
POOL_ID = "us-east-1_TestPool1"
CLIENT_ID = "testclient123"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
KID = "test-key-1"


def environment(callback_url: str, jwks_url: str, **overrides: str) -> dict[str, str]:
    """A superset of every handler's variables, as the stack sets them."""
    env = {
        "AWS_REGION": REGION,
        "ENVIRONMENT": ENV,
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "session-management",
        "POWERTOOLS_METRICS_NAMESPACE": "SessionManagement",
        "SESSIONS_TABLE": f"Sessions-{ENV}",
        "CONNECTIONS_TABLE": f"Connections-{ENV}",
        "RATE_LIMITS_TABLE": f"RateLimits-{ENV}",
        "CALLBACK_URL": callback_url,
        "SUPPORTED_LANGUAGES": "en,es,fr,de",
        "MAX_LISTENERS_PER_SESSION": "5",
        "MAX_ACTIVE_SESSIONS": "10",
        "SESSION_DURATION_MINUTES": "120",
        "CONNECTION_TTL_MINUTES": "180",
        "CONNECTION_REFRESH_MINUTES": "100",
        "CONNECTION_WARNING_MINUTES": "105",
        "SESSION_CREATE_LIMIT_PER_HOUR": "50",
        "LISTENER_JOIN_LIMIT_PER_MINUTE": "10",
        "SPEAKER_STALENESS_SECONDS": "105",
        "CONNECTION_ATTEMPT_LIMIT_PER_MINUTE": "20",
        "HEARTBEAT_LIMIT_PER_MINUTE": "10",
        "USER_POOL_ID": POOL_ID,
        "APP_CLIENT_ID": CLIENT_ID,
        "JWKS_URL": jwks_url,
    }
    env.update(overrides)
    return env


class Clock:
    """A clock the test moves; starts at the real time."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RequestCounter:
    """Counts the DynamoDB API calls a client makes (botocore ``before-call`` hook)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def reset(self) -> None:
        self.operations.clear()

    @property
    def count(self) -> int:
        return len(self.operations)


class AtomicRequests:
    """A DynamoDB client whose every request is applied atomically, as DynamoDB applies it.

    moto checks a condition and applies the write without a lock of its own, so two threads
    can both pass a condition that only one should. DynamoDB serializes conflicting requests;
    holding one lock per request reproduces that, while the requests of concurrent handlers
    still interleave freely (which is what the race tests exercise).
    """

    _lock = threading.Lock()

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@dataclass
class Keys:
    private: rsa.RSAPrivateKey
    kid: str = KID

    def jwk(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def token(self, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "sub": "user-1",
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 3600,
            "email": "speaker@example.com",
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload, self.private, algorithm="RS256", headers={"kid": self.kid, **(headers or {})}
        )


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def _jwks_server(keys: Keys) -> Iterator[JwksServer]:
    server = JwksServer({"keys": [keys.jwk()]})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jwks_server(_jwks_server: JwksServer, keys: Keys) -> JwksServer:
    _jwks_server.document = {"keys": [keys.jwk()]}
    _jwks_server.fetches = 0
    return _jwks_server


@pytest.fixture(scope="session")
def _management() -> Iterator[ManagementApiServer]:
    server = ManagementApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def management(_management: ManagementApiServer) -> ManagementApiServer:
    _management.clear()
    _management.gone.clear()
    return _management


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def _clients(_management: ManagementApiServer) -> Iterator[dict[str, Any]]:
    """Clients made once (making one costs a tenth of a second); moto intercepts them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        session = boto3.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        yield {
            "dynamodb": dynamodb,
            "counter": RequestCounter(dynamodb),
            "management": session.client("apigatewaymanagementapi", endpoint_url=_management.url),
        }


@pytest.fixture
def aws(_clients: dict[str, Any]) -> Iterator[Any]:
    """moto's DynamoDB, fresh for each test, with the tables of constants.TABLES."""
    with mock_aws():
        create_tables(_clients["dynamodb"], ENV)
        _clients["counter"].reset()
        yield _clients["dynamodb"]


@dataclass
class App:
    """Every handler wired to moto, the local Management API and the JWKS server."""

    dynamodb: Any
    management: ManagementApiServer
    clock: Clock
    env: dict[str, str]
    counter: RequestCounter
    management_client: Any
    services: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mgmt = self.management_client
        common = {"dynamodb": AtomicRequests(self.dynamodb), "clock": self.clock}
        self.services = {
            "authorizer": authorizer.build(
                self.env, jwks=JwksCache(self.env["JWKS_URL"], monotonic=self.clock), **common
            ),
            "connection": connect.build(self.env, **common),
            "heartbeat": heartbeat.build(self.env, management=mgmt, **common),
            "disconnect": disconnect.build(self.env, management=mgmt, **common),
            "refresh": refresh.build(self.env, management=mgmt, **common),
            "janitor": janitor.build(self.env, management=mgmt, **common),
        }

    # --- events as API Gateway sends them ------------------------------------------------------
    @staticmethod
    def context(cid: str, user_id: str = "", ip: str = "198.51.100.7", **extra: Any) -> dict:
        authorizer_context = {"userId": user_id, "rateLimited": False, "retryAfter": 0}
        authorizer_context.update(extra)
        return {
            "connectionId": cid,
            "identity": {"sourceIp": ip},
            "authorizer": authorizer_context,
        }

    def authorize(self, params: dict[str, str], ip: str = "198.51.100.7") -> dict[str, Any]:
        event = {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:111111111111:abc123/prod/$connect",
            "queryStringParameters": params,
            "headers": {},
            "requestContext": {"connectionId": "pending", "identity": {"sourceIp": ip}},
        }
        return authorizer.handler(event, None, self.services["authorizer"])

    def connect(self, cid: str, params: dict[str, str], user_id: str = "", **kw: Any) -> dict:
        event = {
            "queryStringParameters": params,
            "requestContext": {"routeKey": "$connect", **self.context(cid, user_id, **kw)},
        }
        return connect.handler(event, None, self.services["connection"])

    def create(self, cid: str = "speaker-1", user_id: str = "user-1", lang: str = "en") -> str:
        response = self.connect(
            cid,
            {"action": "createSession", "sourceLanguage": lang, "qualityTier": "standard"},
            user_id=user_id,
        )
        assert response == {"statusCode": 200}, response
        return self.connection(cid)["sessionId"]

    def join(self, cid: str, session_id: str, lang: str = "es", **kw: Any) -> dict:
        return self.connect(
            cid, {"action": "joinSession", "sessionId": session_id, "targetLanguage": lang}, **kw
        )

    def send(self, route: str, cid: str, body: Any, user_id: str = "") -> dict:
        event = {
            "body": body,
            "requestContext": {"routeKey": route, **self.context(cid, user_id)},
        }
        module = heartbeat if route == "heartbeat" else refresh
        return module.handler(
            event, None, self.services[route if route == "heartbeat" else "refresh"]
        )

    def heartbeat(self, cid: str) -> dict:
        return self.send("heartbeat", cid, '{"action":"heartbeat"}')

    def refresh_message(self, cid: str, user_id: str = "") -> dict:
        return self.send("refreshConnection", cid, '{"action":"refreshConnection"}', user_id)

    def disconnect(self, cid: str) -> dict:
        event = {"requestContext": {"routeKey": "$disconnect", **self.context(cid)}}
        return disconnect.handler(event, None, self.services["disconnect"])

    def janitor(self, context: Any = None) -> dict[str, Any]:
        """One scheduled janitor run, as EventBridge invokes it."""
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        return janitor.handler(event, context, self.services["janitor"])

    # --- table state ---------------------------------------------------------------------------
    def _get(self, table: str, key: str, value: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(TableName=table, Key={key: {"S": value}}).get("Item")
        if not item:
            return None
        return {k: next(iter(v.values())) for k, v in item.items()}

    def session(self, session_id: str) -> dict[str, Any] | None:
        return self._get(self.env["SESSIONS_TABLE"], "sessionId", session_id)

    def connection(self, cid: str) -> dict[str, Any] | None:
        return self._get(self.env["CONNECTIONS_TABLE"], "connectionId", cid)

    def active_sessions(self) -> int:
        item = self._get(self.env["RATE_LIMITS_TABLE"], "identifier", "activeSessions:service:all")
        return int(item["count"]) if item else 0

    def listener_count(self, session_id: str) -> int:
        item = self.session(session_id)
        assert item is not None
        return int(item["listenerCount"])


@pytest.fixture
def env(management: ManagementApiServer, jwks_server: JwksServer) -> dict[str, str]:
    return environment(management.url, jwks_server.url)


@pytest.fixture
def make_app(
    aws: Any,
    _clients: dict[str, Any],
    management: ManagementApiServer,
    clock: Clock,
    env: dict[str, str],
) -> Any:
    """Build an App whose environment differs from the default by ``overrides``."""

    def build(**overrides: str) -> App:
        return App(
            dynamodb=aws,
            management=management,
            clock=clock,
            env={**env, **overrides},
            counter=_clients["counter"],
            management_client=_clients["management"],
        )

    return build


@pytest.fixture
def app(make_app: Any) -> App:
    return make_app()


def error_of(response: dict[str, Any]) -> dict[str, Any]:
    """The error message in a refused `$connect` response."""
    import json

    return json.loads(response["body"])
