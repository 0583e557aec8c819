"""``python -m bench --soak MINUTES``: one level held in steady state, each process weighed.

The level's connections stay open and heartbeat every 30 s (the protocol's interval) for
``MINUTES``; the resident memory of every process of the local system (moto's server, the
gateway's process, each function's execution environments, the generator) is read when the
heartbeat phase begins and when it ends. What grows between the two, under a load that does not,
is what a long-running local system would run out of.

The level's generator runs in a child process (as every level does); it tells this process
where its phases begin and end through a file of JSON lines (:class:`PhaseFile`, ``--phase-file``),
which :class:`MemoryWatch` follows.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench import processes
from bench.stats import HEARTBEAT
from session_service.constants import HEARTBEAT_INTERVAL_SECONDS


def heartbeats(minutes: float) -> int:
    """Heartbeats per connection that keep a connection beating for ``minutes``."""
    return max(1, math.ceil(minutes * 60 / HEARTBEAT_INTERVAL_SECONDS))


class PhaseFile:
    """A :class:`bench.generator.PhaseObserver` that appends each phase's begin and end."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, phase: str, event: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"phase": phase, "event": event, "at": time.time()}) + "\n")

    async def begin(self, phase: str) -> None:
        self._write(phase, "begin")

    async def end(self, phase: str, operations: int) -> None:
        self._write(phase, "end")


class MemoryWatch:
    """Weighs every process under ``root`` when ``phase`` begins and when it ends."""

    def __init__(self, phase_file: Path, root: psutil.Process, phase: str = HEARTBEAT) -> None:
        self.phase_file = phase_file
        self.root = root
        self.phase = phase
        self.snapshots: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="memory-watch", daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _follow(self) -> None:
        offset = 0
        while not self._stop.wait(0.2) and len(self.snapshots) < 2:
            if not self.phase_file.exists():
                continue
            with self.phase_file.open(encoding="utf-8") as lines:
                lines.seek(offset)
                for line in lines:
                    entry = json.loads(line)
                    if entry["phase"] == self.phase and entry["event"] not in self.snapshots:
                        self.snapshots[entry["event"]] = {
                            "at": entry["at"],
                            "processes": processes.memory(self.root),
                        }
                offset = lines.tell()

    def result(self) -> dict[str, Any]:
        """Per process: role, pid, MiB when the phase began and ended (None: not running then)."""
        begin = self.snapshots.get("begin")
        end = self.snapshots.get("end")
        if begin is None or end is None:
            return {"complete": False, "processes": []}
        rows: dict[int, dict[str, Any]] = {}
        for when, snapshot in (("startMiB", begin), ("endMiB", end)):
            for p in snapshot["processes"]:
                row = rows.setdefault(p["pid"], {"pid": p["pid"], "role": p["role"]})
                row[when] = round(p["rssMiB"], 1)
        listed = sorted(rows.values(), key=lambda r: (r["role"], r["pid"]))
        for row in listed:
            row.setdefault("startMiB", None)
            row.setdefault("endMiB", None)
        return {
            "complete": True,
            "heldSeconds": round(end["at"] - begin["at"], 1),
            "processes": listed,
        }


def memory_table(soak: dict[str, Any]) -> list[str]:
    """The Markdown rows: one per process, then the total of those running at both ends."""
    lines = [
        "| process | pid | MiB at start | MiB at end | change |",
        "| --- | --- | --- | --- | --- |",
    ]
    both_start = both_end = 0.0
    for row in soak["processes"]:
        start, end = row["startMiB"], row["endMiB"]
        change = "-" if start is None or end is None else f"{end - start:+.1f}"
        if start is not None and end is not None:
            both_start, both_end = both_start + start, both_end + end
        lines.append(
            f"| {row['role']} | {row['pid']} | {'-' if start is None else f'{start:.1f}'} | "
            f"{'-' if end is None else f'{end:.1f}'} | {change} |"
        )
    lines.append(
        f"| all running at both ends | | {both_start:.1f} | {both_end:.1f} | "
        f"{both_end - both_start:+.1f} |"
    )
    return lines
