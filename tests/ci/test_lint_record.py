"""The line "Code linted successfully (`make lint`)" is ticked only when `make lint` ran here.

``make lint`` runs each gate through ``python -m ci.gates``, which records it with the tree's
fingerprint; ``pre.lint`` passes on a complete record of this very tree, fails on a record whose
gate failed, and otherwise says that only ruff ran here and leaves the line to a person. Each
test lints a small checkout of its own, so the repository's state cannot decide the outcome.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci import gates
from ci.checks import REGISTRY, load_all
from ci.deployment import REPO_ROOT, Deployment, Options
from ci.model import Outcome, Status

OK = (sys.executable, "-c", "pass")


def _git(root: Path, *args: str) -> None:
    identity = ("-c", "user.email=lint@example.com", "-c", "user.name=lint")
    subprocess.run(["git", "-C", str(root), *identity, *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "a.py").write_text("x = 1\n")
    (root / ".gitignore").write_text(".venv\n")
    (root / ".venv").symlink_to(REPO_ROOT / ".venv")  # the repository's own ruff
    _git(root, "add", "a.py", ".gitignore")
    _git(root, "commit", "-qm", "a")
    return root


def _gates(checkout: Path, *args: str) -> int:
    record = checkout.parent / "reports" / "lint.json"
    argv = [sys.executable, "-m", "ci.gates", "--record", str(record), "--root", str(checkout)]
    return subprocess.run([*argv, *args], cwd=REPO_ROOT, timeout=120, check=False).returncode


def _lint_line(checkout: Path) -> Outcome:
    load_all()
    options = Options(env="dev", report_dir=checkout.parent / "reports", repo_root=checkout)
    return REGISTRY["pre.lint"](Deployment(options))


def test_a_complete_record_of_this_code_ticks_the_line_naming_every_gate(checkout: Path) -> None:
    assert _gates(checkout, "begin") == 0
    for name in ("ruff", "black", "mypy", "actionlint", "shellcheck", "zizmor", "taskcat-lint"):
        assert _gates(checkout, "run", name, "--", *OK) == 0
    assert _gates(checkout, "end") == 0
    line = _lint_line(checkout)
    assert line.status is Status.PASS, line
    assert "ruff, black, mypy, actionlint, shellcheck, zizmor, taskcat-lint" in line.evidence


def test_a_gate_that_failed_fails_the_line_and_the_run(checkout: Path) -> None:
    assert _gates(checkout, "begin") == 0
    assert _gates(checkout, "run", "ruff", "--", *OK) == 0
    assert _gates(checkout, "run", "mypy", "--", sys.executable, "-c", "raise SystemExit(1)") == 1
    line = _lint_line(checkout)
    assert line.status is Status.FAIL
    assert "mypy failed (exit 1)" in line.evidence


def test_a_record_of_other_code_does_not_count_and_the_line_says_only_ruff_ran(
    checkout: Path,
) -> None:
    assert _gates(checkout, "begin") == 0
    assert _gates(checkout, "run", "ruff", "--", *OK) == 0
    assert _gates(checkout, "end") == 0
    (checkout / "a.py").write_text("x = 2\n")  # the code changed after `make lint`
    line = _lint_line(checkout)
    assert line.status is Status.MANUAL, line
    assert line.evidence.startswith("only ruff ran here: no findings")
    assert "run `make lint`" in line.note


def test_ruff_findings_fail_the_line_without_a_record(checkout: Path) -> None:
    (checkout / "b.py").write_text("import os\n")  # F401: imported but unused
    line = _lint_line(checkout)
    assert line.status is Status.FAIL
    assert "F401" in line.evidence


def test_the_fingerprint_follows_commits_edits_and_untracked_files(checkout: Path) -> None:
    before = gates.fingerprint(checkout)
    (checkout / "b.py").write_text("y = 2\n")
    with_new_file = gates.fingerprint(checkout)
    (checkout / "a.py").write_text("x = 3\n")
    with_edit = gates.fingerprint(checkout)
    assert None not in (before, with_new_file, with_edit)
    assert len({before, with_new_file, with_edit}) == 3
    assert gates.fingerprint(checkout.parent) is None  # not a checkout: nothing to tie to


def test_the_record_is_json_a_person_can_read(checkout: Path) -> None:
    assert _gates(checkout, "begin") == 0
    data = json.loads((checkout.parent / "reports" / "lint.json").read_text())
    assert data["tree"] == gates.fingerprint(checkout)
    assert data["gates"] == []
    assert data["complete"] is False
