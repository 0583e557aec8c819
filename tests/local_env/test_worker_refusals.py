"""A local Lambda environment prints a traceback for a crash, never for an expected refusal.

An authorizer refuses a connection by raising ``Exception("Unauthorized")`` (API Gateway's
contract for 401); the handler has logged that refusal in one structured line, so the worker
answers the error without a traceback. Any other exception is a crash and keeps its traceback.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from local import worker


def refuse(event: Any, context: Any) -> None:
    raise Exception(worker.AUTHORIZER_REFUSAL)  # API Gateway's contract for 401


def crash(event: Any, context: Any) -> None:
    raise ValueError("a real bug")


def _invoke(entry_point: str) -> dict[str, Any]:
    request = {"requestId": "r-1", "deadlineMs": time.time() * 1000 + 10_000, "event": {}}
    answers = io.StringIO()
    worker.serve(entry_point, io.StringIO(json.dumps(request) + "\n"), answers)
    ready, answer = (json.loads(line) for line in answers.getvalue().splitlines())
    assert ready == {"ready": True, "initError": None}
    return answer


def test_an_authorizer_refusal_is_answered_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = _invoke(f"{__name__}.refuse")
    assert (answer["ok"], answer["errorMessage"]) == (False, "Unauthorized")
    assert "Traceback" not in capsys.readouterr().err


def test_a_crash_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    answer = _invoke(f"{__name__}.crash")
    assert (answer["ok"], answer["errorType"]) == (False, "ValueError")
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "a real bug" in err
