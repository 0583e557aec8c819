"""The rehearsal itself, as CI runs it: the real workflow files through act against the local AWS.

The scenarios that fit CI's budget (`python -m rehearsal --ci`): a tag on a commit not on main is
refused, a push to main runs CI and then dev's whole chain, a commit whose test fails deploys
nothing. `make rehearse` runs every scenario (the release with its approval, the rollbacks, the
stuck stack, the bake and the rollback triggers) and takes about twenty minutes on this machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.rehearsal
@pytest.mark.timeout(1200)
def test_the_ci_scenarios_pass_through_the_real_workflows(tmp_path):
    report = tmp_path / "rehearsal.md"
    work = str(tmp_path / "work")
    done = subprocess.run(
        [sys.executable, "-m", "rehearsal", "--ci", "--workdir", work, "--report", str(report)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    text = report.read_text()
    assert "3 of 3 scenarios passed" in text
    for line in (
        "pass: deploy.yml job `check the ref` failure",  # the tag off main
        "`check the ref` says: which is not on main",
        "pass: deploy.yml job `deploy (dev)` success",  # the push to main
        "pass: deploy.yml job `sign-off (dev)` success",
        "pass: deploy.yml job `tests (unit, integration, infrastructure, end to end, workflows)` "
        "failure",  # the red commit
        "pass: deploy.yml job `deploy (dev)` not run",
    ):
        assert line in text, line
