"""Fixtures of the workflow tests. The repository root goes on sys.path (infra/, ci/, tests/)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.workflows.workflow_files import read_composite_actions, read_workflows  # noqa: E402


@pytest.fixture(scope="session")
def workflows() -> dict[str, dict[str, Any]]:
    return read_workflows()


@pytest.fixture(scope="session")
def composite_actions() -> dict[str, dict[str, Any]]:
    return read_composite_actions()
