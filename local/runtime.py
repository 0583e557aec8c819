"""Lambda functions run locally: each function in its own worker processes, with its own env.

A worker (:mod:`local.worker`) is one execution environment: it imports the handler once (cold
start) under the function's environment and then serves one invocation at a time. A function
keeps a pool of them, grown on demand up to ``max_concurrency``, so two functions never share
``os.environ`` and concurrent invocations of one function run in parallel, as in Lambda.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# What a worker inherits from this process besides the function's own environment: enough to
# start Python, nothing that points at a real AWS account (no profile, no credentials files).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")


@dataclass(frozen=True)
class FunctionSpec:
    """What the local runtime needs to know about one deployed function."""

    name: str  # the function's physical name
    entry_point: str  # module.function, e.g. session_service.handlers.connect.handler
    environment: Mapping[str, str]  # resolved Environment.Variables plus the local settings
    timeout_seconds: float = 30.0
    memory_mb: int = 128


@dataclass
class InvokeResult:
    ok: bool
    payload: Any = None  # the handler's return value when ok
    error_type: str = ""
    error_message: str = ""
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class InvocationError(RuntimeError):
    pass


class _Worker:
    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "local.worker", spec.entry_point],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=REPO_ROOT,
        )
        self._log_thread = threading.Thread(
            target=self._relay_logs, name=f"logs-{spec.name}", daemon=True
        )
        self._log_thread.start()
        self.ready = False
        self.init_error: dict[str, Any] | None = None

    def _relay_logs(self) -> None:
        fn_logger = logging.getLogger(f"lambda.{self.spec.name}")
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                fn_logger.info("%s", line)

    def _read_line(self, deadline: float) -> bytes | None:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
        return self.process.stdout.readline()

    def wait_ready(self, timeout: float) -> None:
        line = self._read_line(time.monotonic() + timeout)
        if not line:
            self.kill()
            raise InvocationError(f"{self.spec.name}: worker did not start within {timeout} s")
        hello = json.loads(line)
        self.init_error = hello.get("initError")
        self.ready = True

    def invoke(self, event: dict[str, Any], timeout: float) -> InvokeResult:
        assert self.process.stdin is not None
        started = time.monotonic()
        request = {
            "requestId": str(uuid.uuid4()),
            "deadlineMs": time.time() * 1000 + timeout * 1000,
            "event": event,
        }
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            return InvokeResult(False, error_type="Runtime.ExitError", error_message=str(exc))
        line = self._read_line(started + timeout)
        duration_ms = (time.monotonic() - started) * 1000
        if line is None:
            self.kill()
            return InvokeResult(
                False,
                error_type="Sandbox.Timedout",
                error_message=f"Task timed out after {timeout:.2f} seconds",
                duration_ms=duration_ms,
            )
        if not line:
            self.kill()
            return InvokeResult(
                False,
                error_type="Runtime.ExitError",
                error_message=f"worker exited with {self.process.wait()}",
                duration_ms=duration_ms,
            )
        answer = json.loads(line)
        if answer.get("ok"):
            return InvokeResult(True, payload=answer.get("result"), duration_ms=duration_ms)
        return InvokeResult(
            False,
            error_type=answer.get("errorType", "Error"),
            error_message=answer.get("errorMessage", ""),
            duration_ms=duration_ms,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self, timeout: float = 5.0) -> None:
        self.signal_stop()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log_thread.join(timeout=1)

    def signal_stop(self) -> None:
        """Close the worker's stdin: it finishes its call, if any, and exits."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()


def worker_environment(spec: FunctionSpec) -> dict[str, str]:
    """The process environment of one of ``spec``'s workers: Lambda's own variables, then the
    function's, with the repository on PYTHONPATH so ``local.worker`` is importable."""
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": spec.entry_point,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # Never read the developer's AWS configuration or credentials.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    env.update(spec.environment)
    pythonpath = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    return env


class FunctionRuntime:
    """The execution environments of one function: a pool of workers, used one call at a time."""

    def __init__(self, spec: FunctionSpec, max_concurrency: int = 8) -> None:
        self.spec = spec
        self._env = worker_environment(spec)
        self._max = max_concurrency
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self._stopping: list[_Worker] = []

    def warm(self) -> None:
        """Start one execution environment now (cold start at startup, not on first call)."""
        worker = self._acquire()
        if worker.init_error:
            logger.error(
                "%s: init error %s: %s",
                self.spec.name,
                worker.init_error.get("errorType"),
                worker.init_error.get("errorMessage"),
            )
        self._release(worker)

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise InvocationError(f"{self.spec.name}: runtime is stopped")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._all.remove(worker)
                if len(self._all) < self._max:
                    break
                self._cond.wait()
            worker = _Worker(self.spec, self._env)
            self._all.append(worker)
        try:
            worker.wait_ready(timeout=60)
        except InvocationError:
            with self._cond:
                self._all.remove(worker)
                self._cond.notify()
            raise
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._all.remove(worker)
                worker.close()
            self._cond.notify()

    def invoke(
        self,
        event: dict[str, Any],
        *,
        on_worker: Callable[[Callable[[], None]], None] | None = None,
    ) -> InvokeResult:
        """Run the handler on ``event`` (blocking) and return its result or its error.

        Test-only: ``on_worker`` is given the kill switch of the worker that runs this call
        (the gateway's kill fault, ``local.gateway.faults``); a killed worker ends the call
        with ``Runtime.ExitError``, as a Lambda execution environment that dies.
        """
        try:
            worker = self._acquire()
        except InvocationError as exc:
            return InvokeResult(False, error_type="Runtime.Unavailable", error_message=str(exc))
        if on_worker is not None:
            on_worker(worker.kill)
        try:
            return worker.invoke(event, self.spec.timeout_seconds)
        finally:
            self._release(worker)

    def signal_stop(self) -> None:
        """Stop taking calls and tell every worker to exit (without waiting)."""
        with self._cond:
            self._closed = True
            self._stopping = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in self._stopping:
            worker.signal_stop()

    def close(self) -> None:
        """Stop and wait for every worker to exit."""
        self.signal_stop()
        for worker in self._stopping:
            worker.close()
