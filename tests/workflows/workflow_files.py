"""The workflow files, the composite actions and the Makefile's targets, as the tests read them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
ACTIONS_DIR = REPO_ROOT / ".github" / "actions"
ACTION_PINS = REPO_ROOT.parent / "shared" / "ACTION_PINS.md"


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    if True in data:
        data["on"] = data.pop(True)
    return data


def makefile_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets: set[str] = set()
    for match in re.finditer(
        r"^([A-Za-z0-9_./$()-]+(?:\s+[A-Za-z0-9_./$()-]+)*)\s*:(?!=)", text, re.M
    ):
        for name in match.group(1).split():
            if not name.startswith((".", "$")):
                targets.add(name)
    return targets


def all_steps(
    workflows: dict[str, dict[str, Any]], composite: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, job id, step) of every step, composite actions included."""
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                yield name, job_id, step
    for name, action in composite.items():
        for step in action["runs"].get("steps", []):
            yield name, "(composite)", step


def read_workflows() -> dict[str, dict[str, Any]]:
    found = {path.name: load_yaml(path) for path in sorted(WORKFLOWS_DIR.glob("*.yml"))}
    assert found, f"no workflows under {WORKFLOWS_DIR}"
    return found


def read_composite_actions() -> dict[str, dict[str, Any]]:
    return {
        str(path.relative_to(REPO_ROOT)): load_yaml(path)
        for path in sorted(ACTIONS_DIR.glob("*/action.yml"))
    }
