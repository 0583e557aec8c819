"""GitHub as the workflows see it through its API: workflow runs, artifacts and approvals.

One JSON file (``state.json`` under the rehearsal's directory) that the rehearsal and every job
process of an act run share, guarded by a lock file: the rehearsal records a run before act starts
and its conclusion after; the upload-artifact stand-in records artifacts; the ``gh`` stand-in
answers the API calls of the workflows from it. Artifact files live beside it, one folder per run
and artifact, and are kept between runs, as GitHub keeps them for their retention period.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_DIR_VARIABLE = "REHEARSAL_STATE"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class GitHub:
    """The state folder: ``state.json``, its lock, and ``artifacts/<run>/<name>/``."""

    root: Path

    @classmethod
    def from_environment(cls) -> GitHub:
        value = os.environ.get(STATE_DIR_VARIABLE)
        if not value:
            raise RuntimeError(f"{STATE_DIR_VARIABLE} is not set: run this through make rehearse")
        return cls(Path(value))

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def artifact_dir(self, run_id: int, name: str) -> Path:
        return self.root / "artifacts" / str(run_id) / name

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "state.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self.state_file.read_text())
            except FileNotFoundError:
                state = {"next_run_id": 1001, "runs": [], "artifacts": [], "next_artifact_id": 1}
            yield state
            partial = self.state_file.with_suffix(".tmp")
            partial.write_text(json.dumps(state, indent=1))
            partial.replace(self.state_file)

    def read(self) -> dict[str, Any]:
        with self._locked() as state:
            return json.loads(json.dumps(state))

    # --- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        *,
        repository: str,
        workflow_path: str,
        event: str,
        head_sha: str,
        head_branch: str,
        actor: str,
        head_repository: str | None = None,
        approvals: list[dict[str, Any]] | None = None,
    ) -> int:
        """Record a run as GitHub lists it (``status`` in_progress) and return its id."""
        with self._locked() as state:
            run_id = int(state["next_run_id"])
            state["next_run_id"] = run_id + 1
            state["runs"].append(
                {
                    "id": run_id,
                    "path": workflow_path,
                    "event": event,
                    "head_sha": head_sha,
                    "head_branch": head_branch,
                    "repository": {"full_name": repository},
                    "head_repository": {"full_name": head_repository or repository},
                    "triggering_actor": {"login": actor},
                    "status": "in_progress",
                    "conclusion": None,
                    "run_started_at": now(),
                    "approvals": approvals or [],
                }
            )
        return run_id

    def finish_run(self, run_id: int, conclusion: str) -> None:
        with self._locked() as state:
            for run in state["runs"]:
                if run["id"] == run_id:
                    run["status"], run["conclusion"] = "completed", conclusion

    def run(self, run_id: int) -> dict[str, Any] | None:
        return next((r for r in self.read()["runs"] if r["id"] == run_id), None)

    # --- artifacts --------------------------------------------------------------------------
    def add_artifact(self, run_id: int, name: str, size: int) -> dict[str, Any]:
        """Record an upload; refuses a second artifact of the same name in one run, as v4+ does."""
        with self._locked() as state:
            for artifact in state["artifacts"]:
                if artifact["workflow_run"]["id"] == run_id and artifact["name"] == name:
                    raise FileExistsError(
                        f"Failed to CreateArtifact: an artifact with the name {name!r} already "
                        f"exists on run {run_id} (names are unique per run; use overwrite or "
                        "another name)"
                    )
            run = next((r for r in state["runs"] if r["id"] == run_id), None)
            if run is None:
                raise LookupError(f"no run {run_id}")
            artifact = {
                "id": int(state["next_artifact_id"]),
                "name": name,
                "size_in_bytes": size,
                "expired": False,
                "created_at": now(),
                "workflow_run": {
                    "id": run_id,
                    "head_sha": run["head_sha"],
                    "head_branch": run["head_branch"],
                    "repository_id": run["repository"]["full_name"],
                    "head_repository_id": run["head_repository"]["full_name"],
                },
            }
            state["next_artifact_id"] = artifact["id"] + 1
            state["artifacts"].append(artifact)
            return artifact

    def artifacts(self, run_id: int | None = None, name: str | None = None) -> list[dict[str, Any]]:
        found = self.read()["artifacts"]
        if run_id is not None:
            found = [a for a in found if a["workflow_run"]["id"] == run_id]
        if name is not None:
            found = [a for a in found if a["name"] == name]
        return found

    def expire(self, name: str) -> None:
        """Let every artifact called ``name`` expire (GitHub deletes its files)."""
        with self._locked() as state:
            for artifact in state["artifacts"]:
                if artifact["name"] == name:
                    artifact["expired"] = True
