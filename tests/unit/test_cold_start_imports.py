"""Cold start: a handler module imports nothing it does not need."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["jwt", "cryptography", "pydantic", "requests", "aws_lambda_powertools.utilities.parser"]


@pytest.mark.parametrize("module", ["connect", "heartbeat", "disconnect", "refresh", "authorizer"])
def test_handler_module_imports_only_what_it_needs(module: str) -> None:
    code = (
        f"import sys, json; import session_service.handlers.{module}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    if module == "authorizer":
        assert loaded == {"jwt", "cryptography"}
    else:
        assert loaded == set()
