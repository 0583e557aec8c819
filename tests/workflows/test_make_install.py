"""A target installs the tools it runs first, once: on a fresh clone `make demo` and `make test` set
up and run; where the stamps of the same dependency files exist (an installed checkout, CI after
`make install`, the rehearsal's shared tools) nothing installs again.

`make -n` prints what a target would run, its prerequisites' installs included, and runs nothing;
the tool locations are pointed at a temporary folder through the Makefile's own variables.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# The stamp each tool set leaves, and the files its name is the hash of (as the Makefile names it).
STAMPS = {
    "python": (".venv/.installed", ("requirements.lock", "pyproject.toml")),
    "node": ("node_modules/.installed", ("package.json", "package-lock.json")),
    "taskcat": (".venv-taskcat/.installed", ("requirements-taskcat.lock",)),
}
INSTALLS = {
    "python": "python3 -m venv {tools}/.venv",
    "node": "npm ci --prefix {tools}",
    "taskcat": "python3 -m venv {tools}/.venv-taskcat",
}


def _hash(names: tuple[str, ...]) -> str:
    data = b"".join((REPO_ROOT / name).read_bytes() for name in names)
    return hashlib.sha256(data).hexdigest()[:16]


def _make_n(target: str, tools: Path) -> list[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MAKE") and k not in ("VENV", "NODE_PREFIX", "TASKCAT_VENV")
    }
    done = subprocess.run(
        [
            "make",
            "-n",
            "--no-print-directory",
            target,
            f"VENV={tools}/.venv",
            f"NODE_PREFIX={tools}",
            f"TASKCAT_VENV={tools}/.venv-taskcat",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def _installed(tools: Path, *sets: str, stale: bool = False) -> None:
    for name in sets:
        stamp, files = STAMPS[name]
        path = tools / f"{stamp}-{'0' * 16 if stale else _hash(files)}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        if name != "node":  # a venv: its interpreter is what tells an update from a first install
            (path.parent / "bin").mkdir(exist_ok=True)
            (path.parent / "bin" / "python").touch()


def _index(lines: list[str], fragment: str) -> int:
    hits = [i for i, line in enumerate(lines) if fragment in line]
    assert hits, f"{fragment!r} not in:\n" + "\n".join(lines)
    return hits[0]


def _installs(lines: list[str], tools: Path) -> set[str]:
    return {
        name
        for name, command in INSTALLS.items()
        if any((line + " ").startswith(command.format(tools=tools) + " ") for line in lines)
    }


@pytest.mark.parametrize(
    ("target", "command", "needs"),
    [
        ("demo", "-m local --demo", {"python", "node"}),
        ("local", "/.venv/bin/python -m local", {"python", "node"}),
        ("test", "/.venv/bin/pytest", {"python", "node", "taskcat"}),
        ("synth", "cdk synth --quiet", {"python", "node"}),
        ("verify", "-m ci.verify --env dev", {"python", "node"}),
    ],
)
def test_on_a_fresh_clone_a_target_installs_what_it_runs_before_it_runs(
    tmp_path, target, command, needs
):
    lines = _make_n(target, tmp_path)
    assert _installs(lines, tmp_path) == needs
    runs = _index(lines, command)
    for name in needs:
        assert _index(lines, INSTALLS[name].format(tools=tmp_path)) < runs, name


def test_only_the_targets_that_run_taskcat_install_it(tmp_path):
    _installed(tmp_path, "python", "node")
    for target in ("lint", "taskcat-lint", "taskcat", "test", "install"):
        assert _installs(_make_n(target, tmp_path), tmp_path) == {"taskcat"}, target
    for target in ("demo", "local", "synth", "bench", "format"):
        assert _installs(_make_n(target, tmp_path), tmp_path) == set(), target


def test_with_the_stamps_of_these_dependency_files_nothing_installs_again(tmp_path):
    _installed(tmp_path, "python", "node", "taskcat")
    for target in ("demo", "local", "test", "lint", "install", "rehearse"):
        lines = _make_n(target, tmp_path)
        assert _installs(lines, tmp_path) == set(), target
        assert not [line for line in lines if "pip install" in line or "npm ci" in line], target


def test_each_install_step_says_what_it_installs_and_whether_it_is_the_first_time(tmp_path):
    lines = _make_n("install", tmp_path)
    assert any(f"installing the Python tools into {tmp_path}/.venv (first time" in x for x in lines)
    assert any(
        f"installing the CDK CLI into {tmp_path}/node_modules (first time" in x for x in lines
    )
    assert any(f"installing taskcat into {tmp_path}/.venv-taskcat (first time" in x for x in lines)
    # pip and npm print their own progress: neither is told to be quiet.
    commands = [x for x in lines if "pip install" in x or "npm ci" in x]
    assert len(commands) == 4, commands
    assert not [x for x in commands if "--quiet" in x or " -q" in x or "--loglevel" in x]


def test_a_dependency_file_changed_since_the_install_installs_again_and_says_so(tmp_path):
    _installed(tmp_path, "python", "node", "taskcat", stale=True)
    lines = _make_n("test", tmp_path)
    assert _installs(lines, tmp_path) == {"python", "node", "taskcat"}
    note = lines[_index(lines, "installing the Python tools")]
    assert "updating: not yet installed from this requirements.lock and pyproject.toml" in note
