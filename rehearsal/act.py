"""One workflow run under act: the event, the stand-ins, the environment, and what each job did.

act runs in host mode (``-P ubuntu-latest=-self-hosted``), offline: every third-party action the
workflows pin is mapped to its stand-in with ``--local-repository``, checkouts included
(``--no-skip-checkout``: act would otherwise copy this machine's work tree, which GitHub never
does). No cache or artifact server is started (they would bind outside loopback); artifacts go
through the stand-ins. The log is act's JSON, kept per run, and read back into job results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rehearsal.github import GitHub
from rehearsal.sandbox import REPOSITORY, Sandbox

ACTIONS_DIR = Path(__file__).resolve().parent / "actions"
BIN_DIR = Path(__file__).resolve().parent / "bin"
_USES = re.compile(r"^\s*-?\s*uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})\b", re.MULTILINE)


@dataclass
class JobResult:
    name: str  # as act names it: "Workflow/caller job/Called workflow/job name"
    result: str  # success, failure, skipped
    errors: list[str] = field(default_factory=list)  # the job's ::error:: lines and step failures

    @property
    def short_name(self) -> str:
        """The job's own name: act prefixes the caller's path and suffixes matrix jobs with -N."""
        return re.sub(r"-\d+$", "", self.name.rsplit("/", 1)[-1]).strip()


@dataclass
class Run:
    run_id: int
    workflow: str
    event: str
    ref: str
    sha: str
    exit_code: int
    seconds: float
    jobs: list[JobResult]
    log: Path

    @property
    def conclusion(self) -> str:
        return (
            "failure"
            if self.exit_code or any(j.result == "failure" for j in self.jobs)
            else "success"
        )

    def job(self, name: str, within: str | None = None) -> JobResult | None:
        """The job named ``name`` (e.g. ``"deploy (dev)"``; a matrix job by its own name).

        ``within`` names the caller job on its path (act names a job by its nearest caller
        only, e.g. ``redeploy/Deploy one environment/deploy (staging)``): a run that calls
        deploy-environment.yml twice for one environment (a release and its undo) has two
        ``deploy (staging)``; without it, the first to finish.
        """
        return next(
            (
                j
                for j in self.jobs
                if j.short_name == name and (within is None or within in j.name.split("/")[:-1])
            ),
            None,
        )

    def result(self, fragment: str, within: str | None = None) -> str:
        job = self.job(fragment, within)
        return job.result if job else "not run"


def stand_in_mappings(workflows: Path) -> list[str]:
    """``--local-repository`` arguments for every pinned action of the workflows and actions."""
    pins: set[tuple[str, str]] = set()
    for path in [*workflows.rglob("*.yml"), *(workflows.parent / "actions").rglob("*.yml")]:
        pins.update(_USES.findall(path.read_text()))
    args = []
    for action, sha in sorted(pins):
        folder = ACTIONS_DIR / action.split("/", 1)[1]
        if not (folder / "action.yml").exists():
            raise RuntimeError(f"no rehearsal stand-in for {action} (add rehearsal/actions/...)")
        args += ["--local-repository", f"{action}@{sha}={folder}"]
    return args


def _event(kind: str, ref: str, sha: str, extra: dict[str, Any]) -> dict[str, Any]:
    owner, name = REPOSITORY.split("/")
    repository = {
        "full_name": REPOSITORY,
        "name": name,
        "owner": {"login": owner},
        "default_branch": "main",
    }
    event: dict[str, Any] = {"repository": repository, "ref": ref}
    if kind == "push":
        event.update({"before": "0" * 40, "after": sha, "head_commit": {"id": sha}})
    event.update(extra)
    return event


class Act:
    """Runs workflows of the sandbox under act with the rehearsal's environment."""

    def __init__(
        self,
        *,
        sandbox: Sandbox,
        github: GitHub,
        home: Path,
        environment: dict[str, str],
        secrets: dict[str, str],
        variables: dict[str, str],
    ) -> None:
        self.sandbox = sandbox
        self.github = github
        self.home = home
        self.environment = environment
        self.secrets = secrets
        self.variables = variables
        self.act = home / ".venv" / "bin" / "act"

    def run(
        self,
        workflow: str,
        event: str,
        *,
        ref: str,
        sha: str,
        actor: str = "developer",
        approvals: list[dict[str, Any]] | None = None,
        payload: dict[str, Any] | None = None,
        head_repository: str | None = None,
        timeout: float = 1500,
    ) -> Run:
        self.sandbox.at(sha)
        head_branch = ref.split("/", 2)[-1]
        run_id = self.github.start_run(
            repository=REPOSITORY,
            workflow_path=f".github/workflows/{workflow}",
            event=event,
            head_sha=sha,
            head_branch=head_branch,
            actor=actor,
            head_repository=head_repository,
            approvals=approvals,
        )
        folder = self.github.root / "runs" / str(run_id)
        shutil.copytree(self.sandbox.work / ".github" / "workflows", folder / "workflows")
        event_file = folder / "event.json"
        event_file.write_text(json.dumps(_event(event, ref, sha, payload or {})))
        log = folder / "act.log"
        env = {
            **self.environment,
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_REPOSITORY": REPOSITORY,
        }
        args = [
            str(self.act), event,
            "-W", f".github/workflows/{workflow}",
            "-e", str(event_file),
            "-P", "ubuntu-latest=-self-hosted",
            "--no-skip-checkout",
            "--no-cache-server",
            "--defaultbranch", "main",
            "--actor", actor,
            "--action-cache-path", str(self.github.root / "act-cache"),
            "--json",
            *stand_in_mappings(self.sandbox.work / ".github" / "workflows"),
        ]  # fmt: skip
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        for key, value in self.secrets.items():
            args += ["-s", f"{key}={value}"]
        for key, value in self.variables.items():
            args += ["--var", f"{key}={value}"]
        started = time.monotonic()
        with log.open("w") as out:
            done = subprocess.run(  # noqa: S603
                args,
                cwd=self.sandbox.work,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                env={**os.environ, "PATH": f"{BIN_DIR}:{os.environ['PATH']}"},
                check=False,
            )
        seconds = time.monotonic() - started
        jobs = read_jobs(log)
        run = Run(run_id, workflow, event, ref, sha, done.returncode, seconds, jobs, log)
        self.github.finish_run(run_id, run.conclusion)
        return run


def read_jobs(log: Path) -> list[JobResult]:
    """Job results, in the order the jobs finished, from act's JSON log."""
    jobs: dict[str, JobResult] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        name = str(entry.get("job") or "").strip()  # act pads names to align its log
        if not name:
            continue
        job = jobs.setdefault(name, JobResult(name, "running"))
        message = str(entry.get("msg", ""))
        for hit in re.findall(r"::error::(.*)", message):
            job.errors.append(hit.strip())
        if "jobResult" in entry:
            job.result = entry["jobResult"]
            # Keep the dict ordered by completion.
            jobs[name] = jobs.pop(name)
    return list(jobs.values())


def workflow_jobs(path: Path) -> list[str]:
    """The job ids of a workflow file (for the report: jobs that never ran were skipped)."""
    return list((yaml.safe_load(path.read_text()) or {}).get("jobs", {}))
