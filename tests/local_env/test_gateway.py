"""The local gateway on its own, with stand-in integrations, over real sockets.

The gateway is the unit under test here: its integrations are small Python callables that
record the events they get and call the management API through boto3, as the real handlers do.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.gateway import Gateway, GatewayConfig, HandshakeRefused, Route, evaluate_policy
from local.runtime import InvokeResult

API_ID = "abc123defg"
STAGE = "prod"
METHOD_ARN = f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/{STAGE}/$connect"


def allow(principal: str = "user-1", **context: Any) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
        },
        "context": context,
    }


class StandIns:
    """Integrations that record their events; behaviour chosen by the connect query string."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.callback_url = ""
        self.post_during_connect: list[str] = []

    def record(self, name: str, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.setdefault(name, []).append(event)

    def of(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events.get(name, []))

    def client(self) -> Any:
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.callback_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )

    def authorizer(self, event: dict[str, Any]) -> InvokeResult:
        self.record("authorizer", event)
        mode = (event.get("queryStringParameters") or {}).get("auth", "allow")
        if mode == "unauthorized":
            return InvokeResult(False, error_type="Exception", error_message="Unauthorized")
        if mode == "crash":
            return InvokeResult(False, error_type="KeyError", error_message="'boom'")
        if mode == "deny":
            output = allow()
            output["policyDocument"]["Statement"][0]["Effect"] = "Deny"
            return InvokeResult(True, payload=output)
        if mode == "nested":
            return InvokeResult(True, payload=allow(nested={"a": 1}))
        return InvokeResult(True, payload=allow("user-1", rateLimited=False, retryAfter=7))

    def connect(self, event: dict[str, Any]) -> InvokeResult:
        self.record("connect", event)
        query = event.get("queryStringParameters") or {}
        if "post" in query:
            try:
                self.client().post_to_connection(
                    ConnectionId=event["requestContext"]["connectionId"], Data=b"early"
                )
                self.post_during_connect.append("delivered")
            except ClientError as exc:
                self.post_during_connect.append(exc.response["Error"]["Code"])
        if query.get("sleep"):
            time.sleep(float(query["sleep"]))
        if query.get("status") and "retry" in query:
            # As the connection handler refuses: the error message as the body.
            details = {"retryAfter": int(query["retry"])} if query["retry"] else {}
            error = {"type": "error", "code": "REFUSED", "message": "why", "details": details}
            payload = {"statusCode": int(query["status"]), "body": json.dumps(error)}
            return InvokeResult(True, payload=payload)
        if query.get("status"):
            return InvokeResult(True, payload={"statusCode": int(query["status"])})
        if query.get("crash"):
            return InvokeResult(False, error_type="RuntimeError", error_message="boom")
        return InvokeResult(True, payload={"statusCode": 200})

    def echo(self, event: dict[str, Any]) -> InvokeResult:
        """The 'echo' route: sends the body back through the management API."""
        self.record("echo", event)
        body = json.loads(event["body"])
        self.client().post_to_connection(
            ConnectionId=event["requestContext"]["connectionId"],
            Data=json.dumps({"echo": body.get("data")}).encode(),
        )
        return InvokeResult(True, payload={"statusCode": 200})

    def fail(self, event: dict[str, Any]) -> InvokeResult:
        self.record("fail", event)
        return InvokeResult(False, error_type="ValueError", error_message="bad")

    def disconnect(self, event: dict[str, Any]) -> InvokeResult:
        self.record("disconnect", event)
        return InvokeResult(True, payload={"statusCode": 200})


def start_gateway(stand_ins: StandIns, **overrides: Any) -> Gateway:
    routes = {
        "$connect": Route("$connect", stand_ins.connect, authorizer=stand_ins.authorizer),
        "$disconnect": Route("$disconnect", stand_ins.disconnect),
        "echo": Route("echo", stand_ins.echo),
        "fail": Route("fail", stand_ins.fail),
    }
    gateway = Gateway(GatewayConfig(api_id=API_ID, stage=STAGE, **overrides), routes)
    gateway.start()
    stand_ins.callback_url = gateway.callback_url
    return gateway


@pytest.fixture(scope="module")
def stand_ins() -> StandIns:
    return StandIns()


@pytest.fixture(scope="module")
def gateway(stand_ins: StandIns) -> Iterator[Gateway]:
    gw = start_gateway(stand_ins)
    yield gw
    gw.stop()


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=20))


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def disconnects_of(stand_ins: StandIns, connection_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in stand_ins.of("disconnect")
        if e["requestContext"]["connectionId"] == connection_id
    ]


async def handshake_status(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


# --- handshake ---------------------------------------------------------------------------------
def test_authorizer_and_connect_get_real_shaped_events(
    gateway: Gateway, stand_ins: StandIns
) -> None:
    async def scenario() -> str:
        async with connect(f"{gateway.endpoint}?tag=shape&x=1&x=2") as ws:
            await ws.send(json.dumps({"action": "echo", "data": "hi"}))
            assert json.loads(await ws.recv()) == {"echo": "hi"}
        return ""

    run(scenario())
    auth = next(e for e in stand_ins.of("authorizer") if e["queryStringParameters"].get("tag"))
    assert auth["type"] == "REQUEST"
    assert auth["methodArn"] == METHOD_ARN
    assert auth["multiValueQueryStringParameters"]["x"] == ["1", "2"]
    assert auth["queryStringParameters"]["x"] == "2"
    context = auth["requestContext"]
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["apiId"] == API_ID
    assert context["stage"] == STAGE
    assert context["domainName"] == f"{API_ID}.execute-api.us-east-1.amazonaws.com"
    assert "Sec-WebSocket-Key" in auth["headers"]

    connect_event = next(
        e for e in stand_ins.of("connect") if (e["queryStringParameters"] or {}).get("tag")
    )
    connection_id = connect_event["requestContext"]["connectionId"]
    assert connection_id == context["connectionId"]
    authorizer = connect_event["requestContext"]["authorizer"]
    # Context values reach the integration as strings, with principalId beside them.
    assert authorizer["principalId"] == "user-1"
    assert authorizer["rateLimited"] == "false"
    assert authorizer["retryAfter"] == "7"

    echo = next(
        e for e in stand_ins.of("echo") if e["requestContext"]["connectionId"] == connection_id
    )
    assert echo["requestContext"]["routeKey"] == "echo"
    assert echo["requestContext"]["eventType"] == "MESSAGE"
    assert echo["requestContext"]["authorizer"]["principalId"] == "user-1"
    assert echo["requestContext"]["connectedAt"] == connect_event["requestContext"]["connectedAt"]

    [gone] = wait_for(lambda: disconnects_of(stand_ins, connection_id))
    assert gone["requestContext"]["eventType"] == "DISCONNECT"
    assert gone["requestContext"]["disconnectStatusCode"] == 1000


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("auth=unauthorized", 401),
        ("auth=deny", 403),
        ("auth=crash", 500),
        ("auth=nested", 500),
        ("status=429", 429),
        ("status=503", 503),
        ("crash=1", 500),
    ],
)
def test_refused_handshake_carries_the_status(gateway: Gateway, query: str, status: int) -> None:
    assert run(handshake_status(f"{gateway.endpoint}?{query}")) == status


async def refusal(url: str) -> Any:
    """The HTTP response of a refused handshake."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response


def test_refused_handshake_has_no_body_of_the_integration_as_in_aws(gateway: Gateway) -> None:
    response = run(refusal(f"{gateway.endpoint}?status=429&retry=42"))
    assert response.status_code == 429
    assert response.body == b"Too Many Requests\n"
    assert "Retry-After" not in response.headers


@pytest.fixture
def explaining_gateway(stand_ins: StandIns) -> Iterator[Gateway]:
    shared = stand_ins.callback_url  # the module's gateway's, for the tests after this one
    gw = start_gateway(stand_ins, explain_refusals=True)
    yield gw
    gw.stop()
    stand_ins.callback_url = shared


def test_explained_429_carries_the_reason_and_a_retry_after(explaining_gateway: Gateway) -> None:
    response = run(refusal(f"{explaining_gateway.endpoint}?status=429&retry=42"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert response.headers["Content-Type"] == "application/json"
    error = json.loads(response.body)
    assert (error["code"], error["message"], error["details"]) == (
        "REFUSED",
        "why",
        {"retryAfter": 42},
    )


def test_explained_refusal_without_retry_after_has_no_header(explaining_gateway: Gateway) -> None:
    response = run(refusal(f"{explaining_gateway.endpoint}?status=400&retry="))
    assert response.status_code == 400
    assert "Retry-After" not in response.headers
    assert json.loads(response.body)["code"] == "REFUSED"


def test_unknown_stage_is_forbidden(gateway: Gateway) -> None:
    url = gateway.endpoint.rsplit("/", 1)[0] + "/other"
    assert run(handshake_status(url)) == 403


def test_refused_connect_never_opens_nor_disconnects(gateway: Gateway, stand_ins: StandIns) -> None:
    run(handshake_status(f"{gateway.endpoint}?status=400&tag=refused"))
    [event] = [
        e
        for e in stand_ins.of("connect")
        if (e["queryStringParameters"] or {}).get("tag") == "refused"
    ]
    time.sleep(0.2)
    assert disconnects_of(stand_ins, event["requestContext"]["connectionId"]) == []


def test_post_during_connect_is_gone(gateway: Gateway, stand_ins: StandIns) -> None:
    async def scenario() -> None:
        async with connect(f"{gateway.endpoint}?post=1") as ws:
            await ws.send(json.dumps({"action": "echo", "data": 1}))
            assert json.loads(await ws.recv()) == {"echo": 1}

    run(scenario())
    assert stand_ins.post_during_connect == ["GoneException"]


def test_abandoned_handshake_after_connect_gets_no_disconnect(
    gateway: Gateway, stand_ins: StandIns
) -> None:
    """The client sends the upgrade and goes away while $connect runs: $connect succeeds, the
    connection is never established, and (as in API Gateway) no $disconnect is called."""

    async def abandon() -> None:
        assert gateway.port is not None
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            (
                f"GET /{STAGE}?sleep=0.3&tag=abandoned HTTP/1.1\r\nHost: x\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        writer.close()

    run(abandon())
    [event] = wait_for(
        lambda: [
            e
            for e in stand_ins.of("connect")
            if (e["queryStringParameters"] or {}).get("tag") == "abandoned"
        ]
    )
    connection_id = event["requestContext"]["connectionId"]
    time.sleep(0.6)
    assert disconnects_of(stand_ins, connection_id) == []
    assert gateway.get_connection(connection_id) is None  # posts to it: 410 Gone
    assert gateway._pending == {}


def test_fault_loses_the_disconnect_of_a_connection_or_of_the_next_ones(
    gateway: Gateway, stand_ins: StandIns
) -> None:
    async def open_and_close(lose: str) -> str:
        async with connect(gateway.endpoint) as ws:
            connection_id = await connection_id_of(ws)
            if lose == "this":
                gateway.faults.lose_disconnect(connection_id)
        return connection_id

    lost = run(open_and_close("this"))
    gateway.faults.lose_next_disconnects = 1
    next_lost = run(open_and_close("next"))
    kept = run(open_and_close("none"))
    wait_for(lambda: disconnects_of(stand_ins, kept))
    assert disconnects_of(stand_ins, lost) == []
    assert disconnects_of(stand_ins, next_lost) == []
    assert gateway.faults.lose_next_disconnects == 0


# --- messages ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body", ['{"action":"nope"}', "not json", '{"data":1}', '{"action":{"x":1}}', "[]"]
)
def test_unrouted_message_is_forbidden_and_the_socket_stays_open(
    gateway: Gateway, body: str
) -> None:
    async def scenario() -> None:
        async with connect(gateway.endpoint) as ws:
            await ws.send(body)
            reply = json.loads(await ws.recv())
            assert reply["message"] == "Forbidden"
            assert reply["connectionId"]
            assert reply["requestId"]
            await ws.send(json.dumps({"action": "echo", "data": "still here"}))
            assert json.loads(await ws.recv()) == {"echo": "still here"}

    run(scenario())


def test_function_error_is_answered_internal_server_error(gateway: Gateway) -> None:
    async def scenario() -> None:
        async with connect(gateway.endpoint) as ws:
            await ws.send(json.dumps({"action": "fail"}))
            assert json.loads(await ws.recv())["message"] == "Internal server error"

    run(scenario())


def test_default_route_takes_what_no_route_matches() -> None:
    stand_ins = StandIns()
    gw = start_gateway(stand_ins)
    gw.routes["$default"] = Route("$default", stand_ins.echo)
    try:

        async def scenario() -> None:
            async with connect(gw.endpoint) as ws:
                await ws.send(json.dumps({"action": "unknown", "data": "d"}))
                assert json.loads(await ws.recv()) == {"echo": "d"}

        run(scenario())
    finally:
        gw.stop()


# --- limits ------------------------------------------------------------------------------------
def test_message_in_frames_up_to_128_kb_is_delivered(gateway: Gateway) -> None:
    data = "x" * (100 * 1024)

    async def scenario() -> None:
        async with connect(gateway.endpoint, max_size=None) as ws:
            text = json.dumps({"action": "echo", "data": data})
            await ws.send([text[i : i + 30 * 1024] for i in range(0, len(text), 30 * 1024)])
            assert json.loads(await ws.recv()) == {"echo": data}

    run(scenario())


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([33 * 1024], 1009),  # one frame over 32 KB
        ([30 * 1024] * 5, 1009),  # 150 KB message in frames of 30 KB
    ],
)
def test_oversized_frame_or_message_closes_with_1009(
    gateway: Gateway, stand_ins: StandIns, frames: list[int], code: int
) -> None:
    async def scenario() -> tuple[int, str]:
        async with connect(gateway.endpoint) as ws:
            connection_id = await connection_id_of(ws)
            parts = ["y" * n for n in frames]
            await ws.send(parts if len(parts) > 1 else parts[0])
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code, connection_id

    received, connection_id = run(scenario())
    assert received == code
    [gone] = wait_for(lambda: disconnects_of(stand_ins, connection_id))
    assert gone["requestContext"]["disconnectStatusCode"] == code


def test_binary_frame_closes_with_1003(gateway: Gateway) -> None:
    async def scenario() -> int:
        async with connect(gateway.endpoint) as ws:
            await ws.send(b"\x00\x01")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert run(scenario()) == 1003


async def connection_id_of(ws: Any) -> str:
    """The connection id as API Gateway tells it: in the Forbidden answer to an unrouted message."""
    await ws.send("{}")
    return str(json.loads(await ws.recv())["connectionId"])


# --- the management API ------------------------------------------------------------------------
def test_management_api_get_post_delete_and_gone(gateway: Gateway, stand_ins: StandIns) -> None:
    client = stand_ins.client()

    async def scenario() -> str:
        async with connect(gateway.endpoint, user_agent_header="tests/1.0") as ws:
            connection_id = await connection_id_of(ws)
            info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "tests/1.0"}
            await asyncio.to_thread(
                client.post_to_connection, ConnectionId=connection_id, Data=b'{"n":1}'
            )
            assert json.loads(await ws.recv()) == {"n": 1}
            await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return connection_id

    connection_id = run(scenario())
    wait_for(lambda: disconnects_of(stand_ins, connection_id))
    for call in (client.post_to_connection, client.get_connection, client.delete_connection):
        kwargs: dict[str, Any] = {"ConnectionId": connection_id}
        if call == client.post_to_connection:
            kwargs["Data"] = b"late"
        with pytest.raises(ClientError) as gone:
            call(**kwargs)
        assert gone.value.response["Error"]["Code"] == "GoneException"
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_post_larger_than_128_kb_is_refused(gateway: Gateway, stand_ins: StandIns) -> None:
    client = stand_ins.client()

    async def scenario() -> None:
        async with connect(gateway.endpoint) as ws:
            connection_id = await connection_id_of(ws)
            with pytest.raises(ClientError) as refused:
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=connection_id, Data=b"z" * 140_000
                )
            assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"

    run(scenario())


async def keep_busy(ws: Any) -> None:
    """Send a message every 0.2 s until the socket closes."""
    while True:
        await ws.send("{}")
        await ws.recv()
        await asyncio.sleep(0.2)


# --- timeouts ----------------------------------------------------------------------------------
def test_idle_and_long_connections_are_closed_with_1001() -> None:
    gw = start_gateway(StandIns(), idle_timeout=0.6, max_duration=1.5)
    try:

        async def idle() -> tuple[int, float]:
            async with connect(gw.endpoint) as ws:
                started = time.monotonic()
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None
                return closed.value.rcvd.code, time.monotonic() - started

        async def busy() -> tuple[int, float]:
            async with connect(gw.endpoint) as ws:
                started = time.monotonic()
                with pytest.raises(ConnectionClosed) as closed:
                    await keep_busy(ws)
                assert closed.value.rcvd is not None
                return closed.value.rcvd.code, time.monotonic() - started

        code, waited = run(idle())
        assert code == 1001
        assert 0.5 <= waited < 1.4
        code, waited = run(busy())
        assert code == 1001
        assert 1.4 <= waited < 2.5
    finally:
        gw.stop()


def test_stop_disconnects_open_connections() -> None:
    stand_ins = StandIns()
    gw = start_gateway(stand_ins)
    opened = threading.Event()
    ids: list[str] = []

    async def client() -> None:
        async with connect(gw.endpoint) as ws:
            ids.append(await connection_id_of(ws))
            opened.set()
            with pytest.raises(ConnectionClosed):
                await ws.recv()

    thread = threading.Thread(target=lambda: run(client()))
    thread.start()
    assert opened.wait(5)
    gw.stop()
    thread.join(5)
    [gone] = disconnects_of(stand_ins, ids[0])
    assert gone["requestContext"]["disconnectStatusCode"] == 1001


# --- the policy ----------------------------------------------------------------------------------
def test_policy_needs_an_allow_matching_the_method_arn() -> None:
    other = allow()
    other["policyDocument"]["Statement"][0]["Resource"] = METHOD_ARN.replace(API_ID, "zzz")
    with pytest.raises(HandshakeRefused) as refused:
        evaluate_policy(other, METHOD_ARN)
    assert refused.value.status == 403
    scoped = allow()
    scoped["policyDocument"]["Statement"][0]["Resource"] = [
        f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/*/$connect"
    ]
    assert evaluate_policy(scoped, METHOD_ARN) == ("user-1", {})
    with pytest.raises(HandshakeRefused) as malformed:
        evaluate_policy({"policyDocument": {}}, METHOD_ARN)
    assert malformed.value.status == 500
