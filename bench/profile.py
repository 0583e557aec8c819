"""``python -m bench.profile`` (``make profile``): where the local system spends a load level.

It runs ``python -m bench`` at one level and, once that level's load generator has started and
``--after`` seconds have passed, attaches ``py-spy record`` to every process of the system (moto's
server, the gateway's process, each function's workers, the generator) for ``--seconds``. Then
it reports, per role, the CPU the role's processes used in that window (psutil, so the share of
the machine's cores is a measurement, not a sampler's estimate) and py-spy's top frames by own
time. One py-spy per process: a single ``py-spy --subprocesses`` falls seconds behind on the
forty-odd processes of a large level and writes nothing in the end.

py-spy reads the processes' memory (ptrace): it needs to run as root or with
``kernel.yama.ptrace_scope`` 0, as it says when it cannot.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.cli import parse_levels
from bench.processes import LOAD_GENERATOR, python_tree, role

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "profile"


@dataclass
class Sampled:
    """One process in the window: its role, CPU seconds used, and py-spy's collapsed stacks."""

    pid: int
    role: str
    cpu_s: float = 0.0
    stacks: Path | None = None
    error: str = ""  # py-spy's last line when it failed on this process


@dataclass
class RoleProfile:
    role: str
    processes: int = 0
    cpu_s: float = 0.0
    samples: int = 0
    own: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)


def _cpu(process: psutil.Process) -> float | None:
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return float(times.user + times.system)
    return None


def _wait_for_generator(bench: subprocess.Popen[bytes], level: str, timeout: float) -> None:
    root = psutil.Process(bench.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bench.poll() is not None:
            raise SystemExit(f"bench ended (exit {bench.returncode}) before level {level} began")
        for process in python_tree(root):
            with contextlib.suppress(psutil.Error):
                cmdline = process.cmdline()
                if role(cmdline) == LOAD_GENERATOR and level in cmdline:
                    return
        time.sleep(0.5)
    raise SystemExit(f"level {level} did not begin within {timeout:.0f} s")


def sample(bench: subprocess.Popen[bytes], seconds: float, rate: int, tmp: Path) -> list[Sampled]:
    """py-spy on every Python process under ``bench`` for ``seconds``, with their CPU time."""
    root = psutil.Process(bench.pid)
    processes = python_tree(root)
    started = {p.pid: _cpu(p) for p in processes}
    spies = []
    for process in processes:
        out = tmp / f"{process.pid}.txt"
        command = [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(process.pid),
        ]
        command += ["--duration", str(int(seconds)), "--rate", str(rate), "--nonblocking"]
        command += ["--format", "raw", "-o", str(out)]
        with (tmp / f"{process.pid}.log").open("wb") as log:
            spy = subprocess.Popen(  # noqa: S603 (py-spy from this venv, our own processes)
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        spies.append((process, out, spy))
    time.sleep(seconds)
    sampled = []
    for process, out, _ in spies:
        with contextlib.suppress(psutil.Error):
            before, after = started.get(process.pid), _cpu(process)
            entry = Sampled(process.pid, role(process.cmdline()), stacks=out)
            if before is not None and after is not None:
                entry.cpu_s = after - before
            sampled.append(entry)
    by_pid = {entry.pid: entry for entry in sampled}
    for process, _, spy in spies:
        try:
            # a py-spy that fell behind (moto's threads) writes its file late; killed, none
            spy.wait(timeout=seconds + 180)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
        failed = by_pid.get(process.pid)
        if failed is not None and spy.returncode != 0:
            said = (tmp / f"{process.pid}.log").read_text(encoding="utf-8", errors="replace")
            last = [line for line in said.splitlines() if line.strip()][-1:] or ["no output"]
            failed.error = f"py-spy exited with {spy.returncode}: {last[0].strip()}"
    return sampled


def aggregate(sampled: list[Sampled]) -> list[RoleProfile]:
    """Per role: processes, CPU seconds, samples and own-time frames (the stack's last frame)."""
    roles: dict[str, RoleProfile] = {}
    for entry in sampled:
        profile = roles.setdefault(entry.role, RoleProfile(entry.role))
        profile.processes += 1
        profile.cpu_s += entry.cpu_s
        if entry.error:
            profile.errors.append(f"pid {entry.pid}: {entry.error}")
        if entry.stacks is None or not entry.stacks.exists():
            continue
        for line in entry.stacks.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            profile.samples += int(count)
            profile.own[_frame(stack.split(";")[-1])] += int(count)
    return sorted(roles.values(), key=lambda r: r.cpu_s, reverse=True)


def _frame(frame: str) -> str:
    """``function (path/to/module.py:line)``, the path cut to what follows site-packages."""
    return re.sub(r"\((?:[^()]*/site-packages/|[^()]*/lib/python3\.\d+/)", "(", frame).strip()


def markdown(profiles: list[RoleProfile], level: str, seconds: float, top: int) -> str:
    cores = psutil.cpu_count() or 1
    total = sum(p.cpu_s for p in profiles) or 1.0
    lines = [
        f"# Profile: level {level}, {seconds:g} s of its load",
        "",
        f"Command: `python -m bench.profile --level {level} --seconds {seconds:g}`  ",
        f"Machine: {cores} cores. CPU is psutil's, per role, over the window; the machine offers "
        f"{cores * seconds:g} CPU seconds in it. Frames are py-spy's, by own time (the frame "
        "a sample was in); a frame waiting on a socket is a process waiting for another one.",
        "",
        "| role | processes | CPU s | share of the CPU used | share of the machine |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in profiles:
        lines.append(
            f"| {p.role} | {p.processes} | {p.cpu_s:.1f} | {100 * p.cpu_s / total:.0f}% "
            f"| {100 * p.cpu_s / (cores * seconds):.0f}% |"
        )
    for p in profiles:
        lines += ["", f"## {p.role}: top {top} frames by own time ({p.samples} samples)", ""]
        lines += [f"Not sampled: {error}" for error in p.errors] + ([""] if p.errors else [])
        lines += ["| share | frame |", "| --- | --- |"]
        for frame, count in p.own.most_common(top):
            lines.append(f"| {100 * count / max(1, p.samples):.1f}% | `{frame or '?'}` |")
    return "\n".join(lines) + "\n"


def one_level(text: str) -> str:
    """``--level``: one level, as the bench's ``--levels`` spells it."""
    if len(parse_levels(text)) != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected one level, e.g. 50x40")
    return text.strip().lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--level", type=one_level, default="50x40", help="SESSIONSxLISTENERS")
    parser.add_argument("--after", type=float, default=10.0, help="seconds into the level")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the window")
    parser.add_argument("--rate", type=int, default=20, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=12, help="frames per role")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for profile.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        command = ["-m", "bench", "--levels", args.level, "--no-cold-start", "--no-progress"]
        command += ["--no-request-count", "--out", str(Path(tmp) / "bench")]
        bench = subprocess.Popen(  # noqa: S603 (this interpreter, the bench module)
            [sys.executable, *command],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_for_generator(bench, args.level, timeout=300)
            time.sleep(args.after)
            sampled = sample(bench, args.seconds, args.rate, Path(tmp))
            bench.wait(timeout=900)
        finally:
            if bench.poll() is None:
                bench.terminate()
                bench.wait(timeout=60)
        report = markdown(aggregate(sampled), args.level, args.seconds, args.top)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {args.out / 'profile.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
