"""``gh api`` for the rehearsal: the workflows' GitHub CLI calls, answered from :mod:`.github`.

Only what the workflows call is served, the way GitHub's REST API answers it (paths, query
filters, response shapes); anything else fails loudly, so a workflow that starts calling a new
endpoint shows up here first. Like the real CLI, it refuses to run without ``GH_TOKEN`` and
applies ``--jq`` with jq.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rehearsal.github import GitHub

REPOSITORY_VARIABLE = "REHEARSAL_REPOSITORY"


class NotFound(Exception):
    """GitHub's 404: the CLI prints ``gh: Not Found (HTTP 404)`` and exits 1."""


def _runs(github: GitHub, workflow: str, query: dict[str, str]) -> dict[str, Any]:
    runs = [r for r in github.read()["runs"] if r["path"] == f".github/workflows/{workflow}"]
    for key, field in (("event", "event"), ("branch", "head_branch"), ("head_sha", "head_sha")):
        if key in query:
            runs = [r for r in runs if r[field] == query[key]]
    if "status" in query:
        wanted = query["status"]
        runs = [r for r in runs if wanted in (r["status"], r["conclusion"])]
    runs.sort(key=lambda r: r["run_started_at"], reverse=True)
    return {"total_count": len(runs), "workflow_runs": [_public(r) for r in runs]}


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "approvals"}


def answer(github: GitHub, repository: str, path: str) -> Any:
    """The JSON GitHub answers for ``GET path`` (NotFound when it would answer 404)."""
    parts = urlsplit(path.lstrip("/"))
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    match = re.fullmatch(r"repos/([^/]+/[^/]+)/actions/(.+)", parts.path)
    if not match or match.group(1) != repository:
        raise NotFound(path)
    rest = match.group(2)
    if rest == "artifacts":
        artifacts = github.artifacts(name=query.get("name"))
        artifacts.sort(key=lambda a: a["created_at"], reverse=True)
        return {"total_count": len(artifacts), "artifacts": artifacts}
    if found := re.fullmatch(r"workflows/([^/]+)/runs", rest):
        return _runs(github, found.group(1), query)
    if found := re.fullmatch(r"runs/(\d+)", rest):
        run = github.run(int(found.group(1)))
        if run is None:
            raise NotFound(path)
        return _public(run)
    if found := re.fullmatch(r"runs/(\d+)/approvals", rest):
        run = github.run(int(found.group(1)))
        if run is None:
            raise NotFound(path)
        return run["approvals"]
    raise NotImplementedError(f"the rehearsal's gh does not serve GET {path}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not (os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")):
        print(
            "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment "
            "variable. Example:\n  env:\n    GH_TOKEN: ${{ github.token }}",
            file=sys.stderr,
        )
        return 4
    if not args or args[0] != "api":
        print(f"the rehearsal's gh serves `gh api` only, not: gh {' '.join(args)}", file=sys.stderr)
        return 2
    jq: str | None = None
    path: str | None = None
    rest = args[1:]
    while rest:
        arg = rest.pop(0)
        if arg in ("--jq", "-q"):
            jq = rest.pop(0)
        elif arg in ("-X", "--method"):
            method = rest.pop(0)
            if method.upper() != "GET":
                print(f"the rehearsal's gh serves GET only, not {method}", file=sys.stderr)
                return 2
        elif arg == "--paginate":
            continue
        elif path is None:
            path = arg
        else:
            print(f"the rehearsal's gh does not take {arg!r}", file=sys.stderr)
            return 2
    if path is None:
        print("gh api: a path is required", file=sys.stderr)
        return 2
    try:
        body = answer(GitHub.from_environment(), os.environ[REPOSITORY_VARIABLE], path)
    except NotFound:
        print("gh: Not Found (HTTP 404)", file=sys.stderr)
        return 1
    text = json.dumps(body)
    if jq is None:
        print(text)
        return 0
    done = subprocess.run(["jq", "-r", jq], input=text, text=True, check=False)  # noqa: S603,S607
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
