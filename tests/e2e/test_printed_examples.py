"""The commands ``make local`` prints run as printed, without an activated venv.

Each command is taken from the banner itself and run in a shell-free subprocess whose PATH has
no venv on it, from the repository root, against this package's local environment (found
through its state file, as a reader's terminal finds ``make local``'s).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.__main__ import banner
from local.environment import LocalEnvironment
from local.state import write_state

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
def example_env(local_env: LocalEnvironment, tmp_path: Path) -> dict[str, str]:
    """A reader's environment: no venv activated, the state file of ``local_env``."""
    state_file = tmp_path / "state.json"
    write_state(state_file, local_env.state())
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"
    env["LOCAL_STATE_FILE"] = str(state_file)
    return env


def printed(local_env: LocalEnvironment, subcommand: str) -> list[str]:
    """The banner's ``… -m local.client <subcommand> …`` command, split as a shell would."""
    text = banner(local_env, "TOKEN")
    pattern = rf"^\s*(\S+ -m local\.client {subcommand}\b.*)$|`(\S+ -m local\.client {subcommand})`"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"the banner prints no `local.client {subcommand}` example:\n{text}"
    return shlex.split(match.group(1) or match.group(2))


def first_message(argv: list[str], env: dict[str, str], kind: str) -> Iterator[dict[str, object]]:
    """Run a participant until it prints a message of type ``kind``; then stop it."""
    process = subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            if message.get("type") == kind:
                yield message
                return
        _, err = process.communicate(timeout=5)
        raise AssertionError(f"{argv} printed no {kind}: exit {process.returncode}\n{err}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_printed_token_command_prints_a_token(
    local_env: LocalEnvironment, example_env: dict[str, str]
) -> None:
    argv = printed(local_env, "token")
    done = subprocess.run(
        argv, cwd=REPO_ROOT, env=example_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().count(".") == 2  # a JWT


def test_printed_speaker_and_listener_commands_create_and_join_a_session(
    local_env: LocalEnvironment, example_env: dict[str, str]
) -> None:
    speaker = first_message(printed(local_env, "speaker"), example_env, "sessionCreated")
    created = next(speaker)
    listener_argv = [
        str(created["sessionId"]) if part == "SESSION_ID" else part
        for part in printed(local_env, "listener")
    ]
    joined = next(first_message(listener_argv, example_env, "sessionJoined"))
    assert joined["sessionId"] == created["sessionId"]
    speaker.close()
