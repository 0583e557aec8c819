"""moto's server on 127.0.0.1 and a free port, in this process or in a child process of its own.

Two modes of :class:`MotoServer`:

- in this process (the default): moto's ``ThreadedMotoServer`` in a thread of the caller.
  ``local.pipeline_aws.PipelineAws`` needs it so: ``local/stack_operations.py`` and
  ``local/change_sets.py`` act on moto's backend objects, which exist only in the process that
  serves them.
- in a child process (``separate_process=True``), for ``local.environment.LocalEnvironment``:
  ``python -m local.moto_server --host 127.0.0.1 --port N --parent-pid P`` (:func:`main`), so
  moto's request handling (and its locks, its garbage, its GIL) does not share the interpreter
  of the local gateway; everything reaches it over HTTP. The child installs the same patches
  (:func:`install_patches`), binds the port the parent chose (:func:`free_port`; a port taken
  meanwhile is retried on another), and exits when it is stopped (SIGTERM, then SIGKILL after a
  timeout), when its stdin reaches EOF (the parent closed it, or died), or when its parent pid
  changes. Its log records (werkzeug's line per request, ``Error on request``, moto's warnings)
  travel as JSON lines on a private copy of its stdout and are logged again in the parent under
  the same logger names and levels, so the parent's logging configuration decides what is
  shown or counted (``bench.counting.MotoLogCounter``), as if moto ran in the parent; its stderr
  is logged as ``local.moto_server`` warnings, and its tail ends the error when it fails to
  start.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import errno
import fcntl
import importlib
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from moto.server import ThreadedMotoServer

from local import moto_apigatewayv2, moto_cloudwatch, moto_dispatch, moto_transactions

logger = logging.getLogger(__name__)

# moto's server logs every request through werkzeug at INFO; the local environment's logs are
# about the system, not about each emulated API call.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

REPO_ROOT = Path(__file__).resolve().parent.parent
PORT_TAKEN = 98  # the child's exit status when its port is taken (errno EADDRINUSE on Linux)
START_ATTEMPTS = 3  # ports tried when the OS picks them (another process may take one first)
STDERR_TAIL = 5  # stderr lines that end a start-up error


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def install_patches() -> None:
    """What this repository patches in moto's server (local/README.md says why)."""
    moto_transactions.install()  # transactions that do not copy whole tables
    moto_dispatch.install()  # a host's backend looked up once, not on every request
    moto_apigatewayv2.install()  # get-authorizers, which the checklist's command calls
    moto_cloudwatch.install()  # PutCompositeAlarm: the stack's deployment-health alarm


class MotoServerError(RuntimeError):
    """moto's server process did not start (one line: the cause, the child's stderr tail)."""


class _ChildExited(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class MotoServer:
    """moto's server bound to 127.0.0.1; ``port=0`` lets the OS pick a free port.

    ``separate_process=True`` runs it in a child process (the module docstring); the default
    runs moto's threaded server in this process.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        separate_process: bool = False,
        start_timeout: float = 30.0,
        stop_timeout: float = 5.0,
    ) -> None:
        self._requested_port = port
        self._host = host
        self._server: ThreadedMotoServer | None = None
        self.port: int | None = None
        self.separate_process = separate_process
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._listening = threading.Event()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server is not started")
        return f"http://{self._host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process serving moto: the child's pid, or this process's; None when stopped."""
        if self._process is not None:
            return self._process.pid
        return os.getpid() if self._server is not None else None

    def start(self) -> str:
        """Start the server and wait until it answers; return its endpoint URL."""
        if self.separate_process:
            self._start_process()
            logger.info("moto server listening on %s (pid %d)", self.endpoint, self.pid)
            return self.endpoint
        install_patches()
        self._server = ThreadedMotoServer(
            ip_address=self._host, port=self._requested_port, verbose=False
        )
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self._wait_until_ready()
        logger.info("moto server listening on %s", self.endpoint)
        return self.endpoint

    def _wait_until_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint}/moto-api/"
        while True:
            if self._process is not None and not self._listening.is_set():
                # the child has not bound its port yet: whatever answers there is not it
                if self._process.poll() is not None:
                    raise _ChildExited(self._process.returncode)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self._host}:{self.port} not bound within {timeout} s")
                self._listening.wait(0.05)
                continue
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local http)
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                if self._process is not None and self._process.poll() is not None:
                    raise _ChildExited(self._process.returncode) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # --- the child process ----------------------------------------------------------------------
    def _start_process(self) -> None:
        attempts = START_ATTEMPTS if self._requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            self.port = self._requested_port or free_port(self._host)
            self._spawn(self.port)
            try:
                self._wait_until_ready(self._start_timeout)
                return
            except _ChildExited as exited:
                self._reap()
                if exited.code == PORT_TAKEN and attempt < attempts:
                    logger.info("port %d was taken before moto bound it; another port", self.port)
                    continue
                what = f"exited with status {exited.code}"
            except OSError as exc:  # TimeoutError included
                what = f"did not answer within {self._start_timeout:g} s ({exc})"
            self.stop()  # its stderr read to the end
            failure = self._failure(what)
            self.port = None
            raise MotoServerError(failure)

    def _failure(self, what: str) -> str:
        tail = " | ".join(line.strip() for line in self._stderr_tail if line.strip())
        where = f"{self._host}:{self.port}"
        return f"moto server (python -m local.moto_server, {where}) {what}: {tail or 'no stderr'}"

    def _spawn(self, port: int) -> None:
        env = dict(os.environ)  # MOTO_RECORDER_FILEPATH and any other MOTO_* setting included
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        command = [
            sys.executable,
            "-m",
            "local.moto_server",
            "--host",
            self._host,
            "--port",
            str(port),
            "--parent-pid",
            str(os.getpid()),
        ]
        self._listening.clear()
        self._stderr_tail.clear()
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command,
            stdin=subprocess.PIPE,  # never written: its EOF tells the child to exit
            stdout=subprocess.PIPE,  # JSON lines: the child's log records
            stderr=subprocess.PIPE,
            env=env,
            # a session of its own: a terminal's Ctrl-C reaches the parent, which stops moto last
            start_new_session=True,
        )
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._threads = [
            threading.Thread(
                target=self._relay_records,
                args=(self._process.stdout,),
                name="moto-records",
                daemon=True,
            ),
            threading.Thread(
                target=self._relay_stderr,
                args=(self._process.stderr,),
                name="moto-stderr",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def _relay_records(self, stream: IO[bytes]) -> None:
        """Logs the child's records again here, under their logger's name and level."""
        for raw in stream:
            try:
                entry = json.loads(raw)
            except ValueError:
                self._stderr_line(raw.decode("utf-8", "replace").rstrip())
                continue
            if entry.get("event") == "listening":
                self._listening.set()
                continue
            record_logger = logging.getLogger(str(entry.get("name", "moto")))
            level = int(entry.get("level", logging.WARNING))
            record_logger.log(level, "%s", entry.get("message", ""))

    def _relay_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self._stderr_line(raw.decode("utf-8", "replace").rstrip())

    def _stderr_line(self, line: str) -> None:
        if line:
            self._stderr_tail.append(line)
            if self._listening.is_set():  # before, the tail is the start-up error's
                logger.warning("moto server: %s", line)

    def _reap(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # EOF: the child's signal to exit
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("moto server (pid %d) ignored SIGTERM; killed", process.pid)
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = []
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    # --- both modes -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every emulated resource (moto's reset API)."""
        url = f"{self.endpoint}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 (local http)
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (local http)
            pass

    def stop(self) -> None:
        if self._process is not None:
            pid = self._process.pid
            self._reap()
            logger.info("moto server stopped (pid %d)", pid)
        if self._server is not None:
            self._server.stop()
            self._server = None
            logger.info("moto server stopped")

    def shutdown(self) -> None:
        """Reset, then stop: none of moto's state is left behind (in this process or a child)."""
        if self.port is None:
            return
        try:
            self.reset()
        except OSError:
            logger.debug("moto reset failed", exc_info=True)
        self.stop()
        self.port = None


# --- the child: python -m local.moto_server ------------------------------------------------------
_QUEUED_RECORDS = 10_000


class _RecordPipe(logging.Handler):
    """Writes each log record as a JSON line for the parent (:meth:`MotoServer._relay_records`).

    The request threads only queue their lines; one writer thread writes what has queued in one
    write. Written under the threads' own lock, one write and flush per request was a tenth of
    the server's CPU at 2,000 connections (``make profile``), every request waiting its turn.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream
        # bounded: a parent that stops reading slows the request threads (as a full pipe did)
        # instead of growing this process's memory
        self._lines: queue.Queue[str | None] = queue.Queue(maxsize=_QUEUED_RECORDS)
        self._writer = threading.Thread(target=self._write, name="records", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = {"name": record.name, "level": record.levelno, "message": self.format(record)}
            self.send(entry)
        except Exception:
            self.handleError(record)

    def send(self, entry: dict[str, Any]) -> None:
        self._lines.put(json.dumps(entry) + "\n")

    def _write(self) -> None:
        while True:
            line = self._lines.get()
            batch = []
            while line is not None:
                batch.append(line)
                try:
                    line = self._lines.get_nowait()
                except queue.Empty:
                    break
            if batch:
                with contextlib.suppress(OSError, ValueError):  # the parent gone: nothing to tell
                    self.stream.write("".join(batch))
                    self.stream.flush()
            if line is None:
                return

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._lines.put(None)
        self._writer.join(timeout=5)
        super().close()


def _records_pipe() -> IO[str]:
    """A private copy of stdout for the records; fd 1 becomes stderr, so no stray print reaches
    the parent's record stream."""
    fd = os.dup(1)
    with contextlib.suppress(AttributeError, OSError):  # Linux: room for ~8000 request lines,
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # so a busy parent does not slow moto
    pipe = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return pipe


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here: werkzeug's own bind exits on failure, saying less."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _warm_up() -> None:
    """Imports the backends of every CloudFormation resource type while the parent synthesizes
    and signs in: moto imports a service's backend on its first request, which the deployment
    makes in quick succession (in one process, the deployer's own import of this module did it)."""
    with contextlib.suppress(Exception):
        importlib.import_module("moto.cloudformation.parsing")


def serve(host: str, port: int, parent_pid: int | None) -> int:
    """Serve moto on ``host:port`` until stopped; the exit status (:data:`PORT_TAKEN`, …)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # under a parent, Ctrl-C is the parent's to handle (it stops moto last); by hand, it stops
    signal.signal(signal.SIGINT, signal.SIG_IGN if parent_pid else lambda *_: stop.set())

    pipe = _RecordPipe(_records_pipe())
    logging.raiseExceptions = False  # a broken pipe (parent gone) is not worth a traceback
    logging.basicConfig(level=logging.WARNING, handlers=[pipe], force=True)
    pipe.setFormatter(logging.Formatter("%(message)s"))  # the parent's handlers format it
    # one INFO line per request and "Error on request" lines, for the parent to count; werkzeug
    # adds no terminal handler of its own, since the root has one
    logging.getLogger("werkzeug").setLevel(logging.INFO)

    install_patches()
    try:
        listening = _listen(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"port {port} on {host} is taken: {exc.strerror}", file=sys.stderr)
            return PORT_TAKEN
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    with listening:  # werkzeug serves a duplicate of it
        server = make_server(
            host,
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
            fd=listening.fileno(),
        )

    def watch_stdin() -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdin.buffer.read()  # the parent never writes: this returns at EOF
        stop.set()

    threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    serving.start()
    with contextlib.suppress(Exception):
        pipe.send({"event": "listening", "port": server.server_address[1]})
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    while not stop.wait(0.5):
        if parent_pid is not None and os.getppid() != parent_pid:
            break  # the parent died (this process was handed to another)
    server.shutdown()
    server.server_close()
    pipe.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.moto_server",
        description="moto's server with the local environment's patches (local/README.md)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--parent-pid", type=int, default=None, help="exit when this process is no longer my parent"
    )
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.parent_pid)


if __name__ == "__main__":
    status = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # no interpreter shutdown: the thread watching stdin may still be blocked reading it
    os._exit(status)
