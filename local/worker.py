"""One Lambda execution environment: ``python -m local.worker <module.function>``.

The parent (:mod:`local.runtime`) starts this process with exactly the environment the
template gives the function, so the handler's cold start reads its own settings, as in Lambda.
Requests and answers travel as JSON lines on stdin and on a private copy of stdout; the
handler's own output (its structured logs, EMF metrics) goes to stderr, which the parent logs.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any, TextIO


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline_ms: float) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        region = os.environ.get("AWS_REGION", "us-east-1")
        account = os.environ.get("LOCAL_ACCOUNT_ID", "123456789012")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


# A Lambda authorizer refuses by raising this exact message (API Gateway answers 401): an
# expected outcome, which the handler has already logged in one line, not a crash to trace.
AUTHORIZER_REFUSAL = "Unauthorized"


def _is_expected_refusal(exc: BaseException) -> bool:
    return type(exc) is Exception and str(exc) == AUTHORIZER_REFUSAL


def _load(entry_point: str) -> Any:
    module_name, _, function_name = entry_point.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


# Test-only: JSON {limit: [low, high]} replacing the bounds config_rules.LIMITS gives a limit, so
# that a test may run the handlers with a value no environment may deploy (local.profiles).
TEST_LIMIT_BOUNDS = "LOCAL_TEST_LIMIT_BOUNDS"


def _widen_limit_bounds() -> None:
    raw = os.environ.get(TEST_LIMIT_BOUNDS)
    if not raw:
        return
    from session_service import config_rules

    for name, (low, high) in json.loads(raw).items():
        if name not in config_rules.LIMITS:
            raise KeyError(f"{TEST_LIMIT_BOUNDS}: no limit {name!r}")
        config_rules.LIMITS[name] = config_rules.Bounds(int(low), int(high))


def serve(entry_point: str, requests: TextIO, answers: TextIO) -> None:
    """Answer invocations until stdin closes (the parent stopping this environment)."""
    init_error: dict[str, Any] | None = None
    handler = None
    try:
        _widen_limit_bounds()
        handler = _load(entry_point)
    except Exception as exc:  # an init error fails every invocation, as in Lambda
        traceback.print_exc()
        init_error = _error(exc)
        init_error["errorType"] = f"Runtime.ImportModuleError: {init_error['errorType']}"
    answers.write(json.dumps({"ready": True, "initError": init_error}) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            answer = init_error
        else:
            context = LambdaContext(request["requestId"], request["deadlineMs"])
            try:
                answer = {"ok": True, "result": handler(request["event"], context)}  # type: ignore[misc]
            except Exception as exc:
                if not _is_expected_refusal(exc):
                    traceback.print_exc()
                answer = _error(exc)
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


def main() -> None:
    entry_point = sys.argv[1]
    # Keep a private copy of stdout for answers; whatever the handler prints goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", closefd=False)
    requests = sys.stdin
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
    serve(entry_point, requests, answers)


if __name__ == "__main__":
    main()
