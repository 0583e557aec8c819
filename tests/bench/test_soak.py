"""``--soak``: the phase file between a level's child and its parent, and what is weighed."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import psutil
import pytest

from bench import soak
from bench.cli import build_parser, minutes


def test_soak_minutes_must_be_a_positive_number() -> None:
    assert minutes("1.5") == 1.5
    for bad in ("0", "-2", "abc", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number of minutes"):
            minutes(bad)


def test_a_bad_soak_argument_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--soak", "ten"])
    assert exited.value.code == 2
    assert "'ten': expected a positive number of minutes" in capsys.readouterr().err


def test_connections_beat_every_30_s_for_the_soak() -> None:
    assert soak.heartbeats(10) == 20
    assert soak.heartbeats(0.1) == 1


def test_memory_is_weighed_when_the_heartbeat_phase_begins_and_ends(tmp_path) -> None:
    """A child that grows by 64 MiB between the phase's begin and end shows it; the phase file
    is written as the generator's observer writes it."""
    phases = tmp_path / "phases.jsonl"
    observer = soak.PhaseFile(phases)
    grower = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nsys.stdin.readline()\n"
            "grown = bytearray(64 * 2**20)\ngrown[::4096] = b'x' * len(grown[::4096])\n"
            "print('grown', flush=True)\ntime.sleep(60)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with soak.MemoryWatch(phases, psutil.Process()) as watch:
            asyncio.run(observer.begin("join"))
            asyncio.run(observer.begin("heartbeat"))
            deadline = time.monotonic() + 10
            while "begin" not in watch.snapshots and time.monotonic() < deadline:
                time.sleep(0.05)
            assert grower.stdin is not None
            assert grower.stdout is not None
            grower.stdin.write("grow\n")
            grower.stdin.flush()
            assert grower.stdout.readline().strip() == "grown"
            asyncio.run(observer.end("heartbeat", 1))
            while "end" not in watch.snapshots and time.monotonic() < deadline:
                time.sleep(0.05)
        result = watch.result()
    finally:
        grower.kill()
        grower.wait()
    assert result["complete"]
    rows = {row["pid"]: row for row in result["processes"]}
    assert grower.pid in rows
    assert rows[grower.pid]["endMiB"] - rows[grower.pid]["startMiB"] >= 60
    table = soak.memory_table(result)
    assert table[-1].startswith("| all running at both ends |")


def test_a_phase_that_never_ended_is_reported_incomplete(tmp_path) -> None:
    phases = tmp_path / "phases.jsonl"
    with soak.MemoryWatch(phases, psutil.Process()) as watch:
        asyncio.run(soak.PhaseFile(phases).begin("heartbeat"))
        time.sleep(0.5)
    assert watch.result() == {"complete": False, "processes": []}
