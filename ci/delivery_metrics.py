"""Delivery metrics from the workflow runs: lead time, deployment frequency, change failure rate,
time to restore (the four DORA keys), as Markdown.

The facts come from GitHub's REST API through ``gh api`` (``make delivery-metrics`` and the weekly
``delivery-metrics.yml``): the runs of ``deploy.yml`` (a tag's run deploys to prod) and of
``rollback.yml``, and each run's jobs, since only the job says whether prod was reached. A prod
deployment is a job named ``deploy (prod)`` (``prod / deploy (prod)`` in a tag run,
``redeploy / deploy (prod)`` in a rollback) that succeeded or failed.

- **Lead time**: from the commit (``head_commit.timestamp``) to the end of its successful prod
  deploy job; the median over the window.
- **Deployment frequency**: successful prod deploys of releases per week of the window.
- **Change failure rate**: of the releases' prod deploys, those whose run failed (the deploy, the
  production checks or the sign-off) or that a prod rollback followed before the next release.
- **Time to restore**: from such a failure to the next successful prod deploy job (a rollback or a
  new release); the median.

``--from-file`` reads a recorded listing (``{"runs": {workflow: [run…]}, "jobs": {run id:
[job…]}}``, the shapes GitHub answers) instead of calling GitHub: the tests use it, and so can
anyone re-computing a past week.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEPLOY_WORKFLOW = "deploy.yml"
ROLLBACK_WORKFLOW = "rollback.yml"
_PROD_DEPLOY_JOB = re.compile(r"(^|/ )deploy \(prod\)$")
_RELEASE_TAG = re.compile(r"^v\d+\.\d+\.\d+$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class MetricsError(Exception):
    """The runs could not be read (the message says what and how to fix it)."""


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ProdDeploy:
    """One prod deploy job: of a release (a tag run of deploy.yml) or of a rollback."""

    run_id: int
    release: str
    rollback: bool
    succeeded: bool  # the job and, for a release, its whole run
    finished: datetime
    committed: datetime


@dataclass(frozen=True)
class Metrics:
    window_days: int
    deploys: int
    lead_time: timedelta | None
    per_week: float
    failures: int
    change_failure_rate: float | None
    time_to_restore: timedelta | None
    unrestored: int


def prod_deploys(listing: dict[str, Any]) -> list[ProdDeploy]:
    """Every prod deploy job of the listing, oldest first."""
    found = []
    for workflow in (DEPLOY_WORKFLOW, ROLLBACK_WORKFLOW):
        for run in listing["runs"].get(workflow, []):
            if run.get("status") != "completed":
                continue
            rollback = workflow == ROLLBACK_WORKFLOW
            if not rollback and not _RELEASE_TAG.match(run.get("head_branch") or ""):
                continue  # a push of main deploys dev only
            for job in listing["jobs"].get(str(run["id"]), []):
                if not _PROD_DEPLOY_JOB.search(job["name"]):
                    continue
                if job.get("conclusion") not in ("success", "failure"):
                    continue  # skipped, cancelled: nothing reached prod
                succeeded = job["conclusion"] == "success" and run["conclusion"] == "success"
                found.append(
                    ProdDeploy(
                        run_id=int(run["id"]),
                        release=run.get("head_branch") or "",
                        rollback=rollback,
                        succeeded=succeeded,
                        finished=_time(job["completed_at"]),
                        committed=_time(run["head_commit"]["timestamp"]),
                    )
                )
    return sorted(found, key=lambda d: d.finished)


def compute(listing: dict[str, Any], now: datetime, window_days: int) -> Metrics:
    """The four metrics over the ``window_days`` before ``now``."""
    start = now - timedelta(days=window_days)
    deploys = [d for d in prod_deploys(listing) if start <= d.finished <= now]
    releases = [d for d in deploys if not d.rollback]
    failed: list[ProdDeploy] = []
    for index, deploy in enumerate(releases):
        following = releases[index + 1].finished if index + 1 < len(releases) else now
        rolled_back = any(d.rollback and deploy.finished < d.finished <= following for d in deploys)
        if not deploy.succeeded or rolled_back:
            failed.append(deploy)
    restores = []
    for failure in failed:
        restored = next(
            (d for d in deploys if d.succeeded and d.finished > failure.finished),
            None,
        )
        if restored is not None:
            restores.append(restored.finished - failure.finished)
    lead_times = [d.finished - d.committed for d in releases if d.succeeded]
    return Metrics(
        window_days=window_days,
        deploys=len(releases),
        lead_time=_median(lead_times),
        per_week=sum(d.succeeded for d in releases) / (window_days / 7),
        failures=len(failed),
        change_failure_rate=len(failed) / len(releases) if releases else None,
        time_to_restore=_median(restores),
        unrestored=len(failed) - len(restores),
    )


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "n/a"
    minutes = round(value.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def markdown(metrics: Metrics, repository: str, now: datetime) -> str:
    """The metrics as the Markdown the job summary and ``reports/`` show."""
    rate = metrics.change_failure_rate
    rows = [
        ("Lead time for changes (median, commit to prod)", _duration(metrics.lead_time)),
        ("Deployment frequency (successful prod releases)", f"{metrics.per_week:.2f} per week"),
        (
            "Change failure rate",
            "n/a" if rate is None else f"{rate:.0%} ({metrics.failures} of {metrics.deploys})",
        ),
        ("Time to restore (median)", _duration(metrics.time_to_restore)),
    ]
    lines = [
        f"# Delivery metrics: {repository}",
        "",
        f"The {metrics.window_days} days to {now:%Y-%m-%d %H:%M} UTC; "
        f"{metrics.deploys} prod deploys of releases.",
        "",
        "| metric | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    if metrics.unrestored:
        lines += ["", f"**{metrics.unrestored} failed deploy(s) not yet restored.**"]
    return "\n".join(lines) + "\n"


def _gh_lines(path: str, jq: str) -> list[Any]:
    command = ["gh", "api", "--paginate", path, "--jq", jq]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as err:
        raise MetricsError("gh (the GitHub CLI) is not installed: https://cli.github.com") from err
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MetricsError(
            f"gh api {path} failed: {detail} (is GH_TOKEN set, may it read Actions?)"
        )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def fetch(repository: str, since: datetime) -> dict[str, Any]:
    """The listing of ``repository`` since ``since``, through ``gh api``."""
    listing: dict[str, Any] = {"runs": {}, "jobs": {}}
    created = f"created=>={since:%Y-%m-%d}"
    for workflow in (DEPLOY_WORKFLOW, ROLLBACK_WORKFLOW):
        runs = _gh_lines(
            f"repos/{repository}/actions/workflows/{workflow}/runs?per_page=100&{created}",
            ".workflow_runs[]",
        )
        listing["runs"][workflow] = runs
        for run in runs:
            if workflow == DEPLOY_WORKFLOW and not _RELEASE_TAG.match(run.get("head_branch") or ""):
                continue
            listing["jobs"][str(run["id"])] = _gh_lines(
                f"repos/{repository}/actions/runs/{run['id']}/jobs?per_page=100", ".jobs[]"
            )
    return listing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--days", type=int, default=28, help="window (days before now)")
    parser.add_argument("--output", type=Path, help="also write the Markdown here")
    parser.add_argument("--from-file", type=Path, help="a recorded listing instead of GitHub")
    parser.add_argument("--now", help="end of the window, ISO 8601 (default: now)")
    args = parser.parse_args(argv)
    if not _REPOSITORY.match(args.repo):
        parser.error(
            f"--repo must be OWNER/NAME (e.g. REPO=acme/session-management), got {args.repo!r}"
        )
    if args.days < 1:
        parser.error(f"--days must be at least 1, got {args.days}")
    now = _time(args.now) if args.now else datetime.now(UTC)
    try:
        if args.from_file:
            listing = json.loads(args.from_file.read_text(encoding="utf-8"))
        else:
            listing = fetch(args.repo, now - timedelta(days=args.days))
    except (MetricsError, OSError, json.JSONDecodeError) as err:
        print(f"delivery metrics: {err}", file=sys.stderr)
        return 1
    text = markdown(compute(listing, now, args.days), args.repo, now)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
