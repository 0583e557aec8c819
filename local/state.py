"""The running local environment's state file (``.local/state.json``), written and read here only.

``make local`` writes it so that other terminals find the environment: ``make verify ENV=local``
(:mod:`ci.verify`), ``python -m local.client``, a second ``make local`` (which refuses to start
beside a running one). Each key is spelled once, in :class:`LocalState`'s ``to_json`` and
``from_json``; every reader gets the same typed object and the same one-line instruction when no
environment runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# LOCAL_STATE_FILE moves it (tests run the printed examples against an environment of their own).
STATE_FILE = Path(os.environ.get("LOCAL_STATE_FILE") or REPO_ROOT / ".local" / "state.json")
NOT_RUNNING = "no local environment running: start it with `make local`"


class LocalEnvironmentMissing(RuntimeError):
    """The state file is absent or unreadable: the local environment is not running."""


@dataclass(frozen=True)
class Speaker:
    """A local throwaway user, for ``python -m local.client token``."""

    username: str
    password: str


@dataclass(frozen=True)
class LocalState:
    """What a running ``make local`` tells other processes about itself."""

    endpoint_url: str  # moto's endpoint (AWS_ENDPOINT_URL)
    websocket_url: str | None = None
    region: str | None = None
    pid: int | None = None
    stack_name: str | None = None
    callback_url: str | None = None
    user_pool_id: str | None = None
    app_client_id: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    speakers: tuple[Speaker, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "region": self.region,
            "stackName": self.stack_name,
            "motoEndpoint": self.endpoint_url,
            "websocketEndpoint": self.websocket_url,
            "callbackUrl": self.callback_url,
            "userPoolId": self.user_pool_id,
            "appClientId": self.app_client_id,
            "outputs": dict(self.outputs),
            "speakers": [{"username": s.username, "password": s.password} for s in self.speakers],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LocalState:
        """The state in ``data``; :class:`ValueError` when it names no moto endpoint."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        endpoint = text("motoEndpoint")
        if endpoint is None:
            raise ValueError("no moto endpoint in the state file")
        pid = data.get("pid")
        speakers = data.get("speakers")
        outputs = data.get("outputs")
        return cls(
            endpoint_url=endpoint,
            websocket_url=text("websocketEndpoint"),
            region=text("region"),
            pid=pid if isinstance(pid, int) else None,
            stack_name=text("stackName"),
            callback_url=text("callbackUrl"),
            user_pool_id=text("userPoolId"),
            app_client_id=text("appClientId"),
            outputs=dict(outputs) if isinstance(outputs, dict) else {},
            speakers=tuple(
                Speaker(str(s["username"]), str(s["password"]))
                for s in (speakers if isinstance(speakers, list) else [])
                if isinstance(s, dict) and "username" in s and "password" in s
            ),
            raw=data,
        )


def _alive(pid: int | None) -> bool:
    """Whether the process that wrote the state still runs (no pid recorded: assume it does)."""
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except (OSError, ValueError, OverflowError):
        return False
    return True


def read_state(path: Path = STATE_FILE) -> LocalState:
    """The state of the running environment; :class:`LocalEnvironmentMissing` says what to do."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LocalEnvironmentMissing(NOT_RUNNING) from None
    except (OSError, ValueError) as err:
        raise LocalEnvironmentMissing(f"{path}: unreadable ({err}); {NOT_RUNNING}") from None
    if not isinstance(data, dict):
        raise LocalEnvironmentMissing(f"{path}: not a JSON object; {NOT_RUNNING}")
    try:
        state = LocalState.from_json(data)
    except ValueError as err:
        raise LocalEnvironmentMissing(f"{path}: {err}; {NOT_RUNNING}") from None
    if not _alive(state.pid):
        raise LocalEnvironmentMissing(f"{path} was left by a process that is gone; {NOT_RUNNING}")
    return state


def running_state(path: Path = STATE_FILE) -> LocalState | None:
    """The state of the running environment, or None when none runs."""
    try:
        return read_state(path)
    except LocalEnvironmentMissing:
        return None


def write_state(path: Path, state: LocalState) -> None:
    """Replace the state file at once, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    partial.replace(path)
