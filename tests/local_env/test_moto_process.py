"""moto's server in a process of its own (``MotoServer(separate_process=True)``), as the local
environment runs it: real child processes, real sockets, boto3 against them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.counting import MotoLogCounter
from local import moto_server
from local.moto_server import MotoServer, MotoServerError
from tests.local_env.moto_clients import client

REPO_ROOT = Path(__file__).resolve().parents[2]


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not: it has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def listeners(port: int) -> list[tuple[str, int]]:
    """(local IPv4 address, socket inode) of every TCP socket listening on ``port``."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
            ip = socket.inet_ntoa(bytes.fromhex(address)[::-1])
            found.append((ip, int(fields[9])))
    return found


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue  # closed meanwhile (the child imports moto's backends as it starts)
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    moto = MotoServer(separate_process=True)
    moto.start()
    yield moto
    moto.shutdown()


def test_serves_boto3_from_a_live_child_process_on_loopback_only(server: MotoServer) -> None:
    pid = server.pid
    assert pid is not None
    assert pid != os.getpid()
    assert running(pid)
    dynamodb = client(server, "dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert dynamodb.list_tables()["TableNames"] == ["t"]

    assert server.port is not None
    found = listeners(server.port)
    assert [ip for ip, _ in found] == ["127.0.0.1"]  # not 0.0.0.0, nothing else
    assert {inode for _, inode in found} <= socket_inodes(pid)  # the child is the listener
    with pytest.raises(ConnectionRefusedError):  # another loopback address is not served
        socket.create_connection(("127.0.0.2", server.port), timeout=2).close()


def test_the_patches_are_installed_in_the_child(server: MotoServer) -> None:
    cloudwatch = client(server, "cloudwatch")
    rule = 'ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors")'
    cloudwatch.put_composite_alarm(AlarmName="health", AlarmRule=rule)
    found = cloudwatch.describe_alarms(AlarmNames=["health"], AlarmTypes=["CompositeAlarm"])
    assert [a["AlarmRule"] for a in found["CompositeAlarms"]] == [rule]

    apigatewayv2 = client(server, "apigatewayv2")
    api = apigatewayv2.create_api(
        Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    created = apigatewayv2.create_authorizer(
        ApiId=api,
        Name="auth",
        AuthorizerType="REQUEST",
        AuthorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations",
        IdentitySource=["route.request.querystring.token"],
    )
    items = apigatewayv2.get_authorizers(ApiId=api)["Items"]
    assert [a["AuthorizerId"] for a in items] == [created["AuthorizerId"]]


def settled(counter: MotoLogCounter, quiet_s: float = 0.5) -> int:
    """The counter's requests once no line has arrived for ``quiet_s`` (as bench's Drain waits)."""
    last = -1
    while counter.requests != last:
        last = counter.requests
        time.sleep(quiet_s)
    return last


@pytest.mark.parametrize("separate_process", [True, False], ids=["child", "in-process"])
def test_the_counter_counts_requests_and_errors_alike_in_both_modes(
    separate_process: bool,
) -> None:
    """bench.counting.MotoLogCounter sees the child's lines as it sees the in-process server's."""
    server = MotoServer(separate_process=separate_process)
    counter = MotoLogCounter()
    counter.install()  # before the start, so that no readiness line is counted below
    try:
        server.start()
        before = settled(counter)  # the readiness requests (one, or more on a slow start)
        assert before >= 1
        apigatewayv2 = client(server, "apigatewayv2", retries={"total_max_attempts": 1})
        api = apigatewayv2.create_api(Name="counted", ProtocolType="HTTP")["ApiId"]
        # moto 5.2.5 routes GetModels but fails on it: werkzeug's "Error on request"
        with pytest.raises(Exception, match="500"):
            apigatewayv2.get_models(ApiId=api)
        after = settled(counter)
    finally:
        counter.uninstall()
        server.shutdown()
    assert (after - before, counter.errors) == (2, 1)


def test_the_recorder_setting_reaches_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = tmp_path / "recording.jsonl"
    monkeypatch.setenv("MOTO_RECORDER_FILEPATH", str(recording))
    moto = MotoServer(separate_process=True)
    moto.start()
    try:
        base = f"{moto.endpoint}/moto-api/recorder"
        for action in ("reset-recording", "start-recording"):
            urllib.request.urlopen(urllib.request.Request(f"{base}/{action}", data=b""))
        client(moto, "sqs").create_queue(QueueName="recorded")
        urllib.request.urlopen(urllib.request.Request(f"{base}/stop-recording", data=b""))
    finally:
        moto.shutdown()
    entries = [json.loads(line) for line in recording.read_text().splitlines() if line]
    assert any("CreateQueue" in json.dumps(entry) for entry in entries)


def test_stop_leaves_no_process_behind() -> None:
    moto = MotoServer(separate_process=True)
    moto.start()
    pid = moto.pid
    assert pid is not None
    assert running(pid)
    moto.shutdown()
    assert not running(pid)
    assert moto.pid is None
    assert moto.port is None


def test_a_parent_that_dies_leaves_no_process_behind() -> None:
    script = textwrap.dedent("""
        import os, signal
        from local.moto_server import MotoServer
        moto = MotoServer(separate_process=True)
        moto.start()
        print(moto.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no stop(), no atexit: a crashed test
        """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == -9, done.stderr
    pid = int(done.stdout.split()[0])
    assert wait_gone(pid), f"moto server {pid} outlived its parent"


def test_the_childs_request_lines_do_not_reach_the_terminal() -> None:
    script = textwrap.dedent("""
        import boto3
        from local.__main__ import configure_logging
        from local.moto_server import MotoServer
        configure_logging(quiet=False)  # as make local
        moto = MotoServer(separate_process=True)
        moto.start()
        boto3.client("sqs", endpoint_url=moto.endpoint, region_name="us-east-1",
                     aws_access_key_id="x", aws_secret_access_key="x").list_queues()
        moto.shutdown()
        """)
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'src'}"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "moto server listening on" in done.stderr
    assert "HTTP/1.1" not in done.stderr + done.stdout, done.stderr


def test_a_taken_port_fails_in_one_line_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        moto = MotoServer(port=port, separate_process=True)
        with pytest.raises(MotoServerError) as failure:
            moto.start()
    message = str(failure.value)
    assert "\n" not in message
    assert f"port {port} on 127.0.0.1 is taken" in message
    assert "exited with status 98" in message
    assert moto.pid is None
    assert moto.port is None


def test_an_address_it_cannot_bind_fails_in_one_line_naming_the_cause() -> None:
    # TEST-NET-1, not this host's address; a fixed port, so that the child is the one to bind
    moto = MotoServer(port=moto_server.free_port(), host="192.0.2.1", separate_process=True)
    with pytest.raises(MotoServerError) as failure:
        moto.start()
    message = str(failure.value)
    assert "\n" not in message
    assert "cannot listen on 192.0.2.1:" in message
    assert "Cannot assign requested address" in message


def test_a_port_taken_before_the_child_binds_it_is_retried_on_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chosen = iter([port])  # the race: the first free port is taken by the time moto binds
        real_free_port = moto_server.free_port
        monkeypatch.setattr(
            moto_server, "free_port", lambda host: next(chosen, None) or real_free_port(host)
        )
        moto = MotoServer(separate_process=True)
        moto.start()
        try:
            assert moto.port not in (None, port)
            assert client(moto, "sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
        finally:
            moto.shutdown()


def test_the_default_mode_still_serves_in_this_process() -> None:
    moto = MotoServer()
    moto.start()
    try:
        assert moto.pid == os.getpid()
        assert client(moto, "sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        moto.shutdown()


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT by hand", "stdin EOF", "parent changed"])
def test_the_child_exits_cleanly_when_told_to(how: str) -> None:
    port = moto_server.free_port()
    parent = ["--parent-pid", "1"] if how == "parent changed" else []  # 1 is not its parent
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "local.moto_server", "--port", str(port), *parent],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert json.loads(child.stdout.readline()) == {"event": "listening", "port": port}
        if how == "SIGTERM":
            child.terminate()
        elif how == "SIGINT by hand":
            child.send_signal(signal.SIGINT)
        elif how == "stdin EOF":
            assert child.stdin is not None
            child.stdin.close()
        assert child.wait(timeout=10) == 0
        assert child.stderr is not None
        assert child.stderr.read() == b""  # no traceback, no fatal error at shutdown
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_child_that_does_not_answer_in_time_is_stopped_and_named() -> None:
    moto = MotoServer(separate_process=True, start_timeout=0.01)  # it takes longer to import
    with pytest.raises(MotoServerError, match=r"did not answer within 0\.01 s") as failure:
        moto.start()
    assert "\n" not in str(failure.value)
    assert moto.pid is None
