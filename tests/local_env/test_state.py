"""The local state file: one writer and one reader (local/state.py), which ci/ uses too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ci import local_state
from local.state import (
    NOT_RUNNING,
    LocalEnvironmentMissing,
    LocalState,
    Speaker,
    read_state,
    running_state,
    write_state,
)


def written(path: Path, pid: int | None = None) -> LocalState:
    state = LocalState(
        endpoint_url="http://127.0.0.1:5000",
        websocket_url="ws://127.0.0.1:8001/prod",
        region="us-east-1",
        pid=os.getpid() if pid is None else pid,
        stack_name="SessionManagement-local",
        callback_url="http://127.0.0.1:8002/prod",
        user_pool_id="us-east-1_abc",
        app_client_id="client",
        outputs={"WebSocketUrl": "wss://x/prod"},
        speakers=(Speaker("speaker@example.com", "Throwaway-1!"),),
    )
    write_state(path, state)
    return state


def test_what_is_written_is_what_every_reader_reads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = written(path)
    assert read_state(path) == state
    assert local_state.read_state(path) == state  # ci/ reads through the same reader
    assert local_state.read_state is read_state


def test_the_file_keeps_the_keys_other_tools_read(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    written(path)
    data = json.loads(path.read_text())
    assert {"pid", "motoEndpoint", "websocketEndpoint", "region", "userPoolId"} <= set(data)
    assert data["speakers"] == [{"username": "speaker@example.com", "password": "Throwaway-1!"}]


def test_a_state_left_by_a_gone_process_is_no_environment(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    written(path, pid=2**22 + 12345)
    with pytest.raises(LocalEnvironmentMissing, match="gone"):
        read_state(path)
    assert running_state(path) is None


def test_no_state_file_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(LocalEnvironmentMissing) as missing:
        read_state(tmp_path / "none.json")
    assert str(missing.value) == NOT_RUNNING


def test_a_state_without_moto_endpoint_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"pid": os.getpid(), "websocketEndpoint": "ws://h/prod"}))
    with pytest.raises(LocalEnvironmentMissing, match=r"no moto endpoint.*make local"):
        read_state(path)
