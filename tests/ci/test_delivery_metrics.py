"""Delivery metrics computed from a recorded listing of workflow runs with known answers.

The listing has GitHub's shapes (``workflow_runs`` entries and ``jobs`` entries, as ``gh api``
returns them): four releases reach prod in the window, one of them fails its production checks
and is rolled back within 30 minutes, one succeeds and is rolled back a day later; one release
stops at staging (its prod job is skipped), a push of main deploys dev only, and one release is
older than the window.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ci import delivery_metrics

NOW = datetime(2026, 11, 29, tzinfo=UTC)
_ids = iter(range(1000, 2000))


def _run(listing, workflow, ref, committed, jobs, conclusion="success", status="completed"):
    run_id = next(_ids)
    listing["runs"].setdefault(workflow, []).append(
        {
            "id": run_id,
            "path": f".github/workflows/{workflow}",
            "head_branch": ref,
            "event": "workflow_dispatch" if workflow == "rollback.yml" else "push",
            "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "head_commit": {"timestamp": committed},
        }
    )
    listing["jobs"][str(run_id)] = [
        {"name": name, "conclusion": job_conclusion, "completed_at": completed}
        for name, job_conclusion, completed in jobs
    ]


def recorded_listing() -> dict:
    listing: dict = {"runs": {}, "jobs": {}}
    deploy, rollback = "deploy.yml", "rollback.yml"
    prod, redeploy = "prod / deploy (prod)", "redeploy / deploy (prod)"
    _run(
        listing,
        deploy,
        "v0.9.0",
        "2026-10-01T00:00:00Z",
        [(prod, "success", "2026-10-01T05:00:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.0.0",
        "2026-11-02T10:00:00Z",
        [(prod, "success", "2026-11-02T12:00:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.1.0",
        "2026-11-09T09:00:00Z",
        [
            (prod, "success", "2026-11-09T10:00:00Z"),
            ("prod / verify production (prod)", "failure", "2026-11-09T10:05:00Z"),
        ],
        conclusion="failure",
    )
    _run(
        listing,
        rollback,
        "main",
        "2026-11-09T10:10:00Z",
        [(redeploy, "success", "2026-11-09T10:30:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.2.0",
        "2026-11-16T08:00:00Z",
        [(prod, "success", "2026-11-16T12:00:00Z")],
    )
    _run(
        listing,
        rollback,
        "main",
        "2026-11-17T11:00:00Z",
        [(redeploy, "success", "2026-11-17T12:00:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.3.0",
        "2026-11-20T00:00:00Z",
        [
            ("staging / deploy (staging)", "failure", "2026-11-20T01:00:00Z"),
            (prod, "skipped", "2026-11-20T01:00:00Z"),
        ],
        conclusion="failure",
    )
    _run(
        listing,
        deploy,
        "main",
        "2026-11-22T00:00:00Z",
        [("dev / deploy (dev)", "success", "2026-11-22T01:00:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.4.0",
        "2026-11-23T00:00:00Z",
        [(prod, "success", "2026-11-23T06:00:00Z")],
    )
    _run(
        listing,
        deploy,
        "v1.5.0",
        "2026-11-28T20:00:00Z",
        [(prod, None, "2026-11-28T21:00:00Z")],
        status="in_progress",
    )
    return listing


def test_the_four_metrics_of_the_recorded_listing():
    metrics = delivery_metrics.compute(recorded_listing(), NOW, window_days=28)
    assert metrics.deploys == 4  # v1.0.0, v1.1.0, v1.2.0, v1.4.0 reached prod
    assert metrics.lead_time == timedelta(hours=4)  # median of 2 h, 4 h, 6 h (successes only)
    assert metrics.per_week == pytest.approx(3 / 4)  # three successful releases in four weeks
    assert metrics.failures == 2  # v1.1.0 failed its checks; v1.2.0 was rolled back
    assert metrics.change_failure_rate == pytest.approx(0.5)
    assert metrics.time_to_restore == timedelta(hours=12, minutes=15)  # median of 30 min, 24 h
    assert metrics.unrestored == 0


def test_a_failure_not_yet_restored_is_reported():
    listing = recorded_listing()
    # v1.2.0's run fails and nothing deploys prod after it: no second rollback, no v1.4.0.
    listing["runs"]["rollback.yml"] = listing["runs"]["rollback.yml"][:1]
    listing["runs"]["deploy.yml"] = [
        r for r in listing["runs"]["deploy.yml"] if r["head_branch"] != "v1.4.0"
    ]
    next(r for r in listing["runs"]["deploy.yml"] if r["head_branch"] == "v1.2.0")[
        "conclusion"
    ] = "failure"
    metrics = delivery_metrics.compute(listing, NOW, window_days=28)
    assert metrics.failures == 2
    assert metrics.unrestored == 1
    assert metrics.time_to_restore == timedelta(minutes=30)  # v1.1.0's rollback only
    text = delivery_metrics.markdown(metrics, "acme/session-management", NOW)
    assert "**1 failed deploy(s) not yet restored.**" in text


def test_an_empty_window_says_not_applicable():
    metrics = delivery_metrics.compute({"runs": {}, "jobs": {}}, NOW, window_days=7)
    text = delivery_metrics.markdown(metrics, "acme/session-management", NOW)
    assert "| Change failure rate | n/a |" in text
    assert "| Lead time for changes (median, commit to prod) | n/a |" in text
    assert "0.00 per week" in text


def test_the_cli_writes_the_markdown_from_a_recorded_listing(tmp_path: Path):
    recorded = tmp_path / "runs.json"
    recorded.write_text(json.dumps(recorded_listing()))
    output = tmp_path / "reports" / "delivery-metrics.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ci.delivery_metrics",
            "--repo",
            "acme/session-management",
            "--from-file",
            str(recorded),
            "--now",
            NOW.isoformat(),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == output.read_text()
    assert "| Lead time for changes (median, commit to prod) | 4.0 h |" in done.stdout
    assert "| Change failure rate | 50% (2 of 4) |" in done.stdout
    assert "| Time to restore (median) | 12.2 h |" in done.stdout


def test_without_gh_the_cli_says_so_in_one_line(monkeypatch, capsys, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    code = delivery_metrics.main(["--repo", "acme/session-management"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "delivery metrics: gh (the GitHub CLI) is not installed: https://cli.github.com"
    ]


def test_a_missing_repository_is_refused_naming_what_is_expected(capsys):
    with pytest.raises(SystemExit) as exited:
        delivery_metrics.main(["--repo", ""])
    assert exited.value.code == 2
    assert "--repo must be OWNER/NAME (e.g. REPO=acme/session-management), got ''" in (
        capsys.readouterr().err
    )
