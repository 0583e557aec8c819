"""The running local environment's state file (``.local/state.json``, by ``make local``).

The file belongs to the local environment; it is read leniently (a few spellings of each key) so
that a renamed key does not break verification, and its absence gives one clear instruction.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOT_RUNNING = "no local environment running: start it with `make local`"

_ENDPOINT_KEYS = (
    "endpoint_url",
    "endpointUrl",
    "moto_endpoint",
    "motoEndpoint",
    "moto_url",
    "aws_endpoint_url",
)
_WEBSOCKET_KEYS = (
    "websocketEndpoint",
    "websocket_url",
    "websocketUrl",
    "gateway_url",
    "gatewayUrl",
    "ws_url",
    "wsUrl",
)
_REGION_KEYS = ("region", "aws_region")


class LocalEnvironmentMissing(RuntimeError):
    """The state file is absent or unreadable: the local environment is not running."""


@dataclass(frozen=True)
class LocalState:
    endpoint_url: str
    websocket_url: str | None
    region: str | None
    raw: dict[str, Any]


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for source in (data, *(v for v in data.values() if isinstance(v, dict))):
        for key in keys:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _alive(pid: Any) -> bool:
    """Whether the process that wrote the state still runs (no pid recorded: assume it does)."""
    if pid is None:
        return True
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def read_state(path: Path) -> LocalState:
    """Parse the state file; :class:`LocalEnvironmentMissing` with the fix when it is absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LocalEnvironmentMissing(NOT_RUNNING) from None
    except (OSError, json.JSONDecodeError) as err:
        raise LocalEnvironmentMissing(f"{path}: unreadable ({err}); {NOT_RUNNING}") from None
    if not isinstance(data, dict):
        raise LocalEnvironmentMissing(f"{path}: not a JSON object; {NOT_RUNNING}")
    if not _alive(data.get("pid")):
        raise LocalEnvironmentMissing(f"{path} was left by a process that is gone; {NOT_RUNNING}")
    endpoint = _first(data, _ENDPOINT_KEYS)
    if not endpoint:
        raise LocalEnvironmentMissing(f"{path}: no moto endpoint in the state file; {NOT_RUNNING}")
    return LocalState(
        endpoint_url=endpoint,
        websocket_url=_first(data, _WEBSOCKET_KEYS),
        region=_first(data, _REGION_KEYS),
        raw=data,
    )
