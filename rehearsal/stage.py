"""The rehearsal's stage: the sandbox repository, GitHub's state, the local AWS, and act.

:class:`Stage` sets up once what every scenario shares, in the order a team sets it up: the
repository (pushed to its origin), the GitHub environments applied from
``infra/config/github-settings.json``, the OIDC roles synthesized from ``infra/github_oidc`` (their
trust policies decide which job may assume which role), and the AWS accounts (bootstrapped, each
with its Cognito pool and smoke-test user).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci.cognito_users import throwaway_password
from local.pipeline_aws import ControlError, PipelineAws
from rehearsal.act import Act, Run
from rehearsal.github import GitHub
from rehearsal.sandbox import REPOSITORY, Sandbox

HOME = Path(__file__).resolve().parent.parent
SMOKE_USER = "ci-smoke@example.com"
# pytest arguments of `make test` in the rehearsed CI: the whole suite is what `make test` runs on
# this machine already; the rehearsal proves the pipeline's behaviour around it (a red test stops
# everything) with the fast unit tests.
REHEARSAL_TESTS = "tests/unit -q -p no:cacheprovider"
# p95 latencies (ms) the load test accepts from the local emulator instead of AWS's targets.
EMULATOR_P95_MS = {"join": 5000, "heartbeat": 1000}


def trust_policies(assembly: Path) -> dict[str, dict[str, Any]]:
    """Role ARN -> the OIDC subjects its trust policy admits and its maximum session, per stack.

    Read from the synthesized OIDC stacks (``make oidc-synth``): the same templates an
    administrator deploys, so the rehearsal's role assumption is decided by the real policies.
    """
    manifest = json.loads((assembly / "manifest.json").read_text())
    roles: dict[str, dict[str, Any]] = {}
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        account = artifact["environment"].split("/")[2]
        template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            props = resource["Properties"]
            subjects = []
            for statement in props["AssumeRolePolicyDocument"]["Statement"]:
                for condition in statement.get("Condition", {}).values():
                    subject = condition.get("token.actions.githubusercontent.com:sub")
                    if subject:
                        subjects += subject if isinstance(subject, list) else [subject]
            roles[f"arn:aws:iam::{account}:role/{props['RoleName']}"] = {
                "subjects": subjects,
                "maxSessionDuration": int(props.get("MaxSessionDuration", 3600)),
            }
    return roles


# The rollback triggers' monitoring period (deploySafety.rollbackMonitoringMinutes, staging 5 and
# prod 10) lasts this many seconds a minute in the local deployer's emulation (report says so).
MONITORING_SECONDS_PER_MINUTE = 1


@dataclass
class Stage:
    root: Path
    runs: list[Run] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)  # what a scenario leaves for the next

    def __post_init__(self) -> None:
        self.sandbox = Sandbox(self.root / "repository")
        self.github = GitHub(self.root / "github")
        # Cognito's policy needs a digit, which 24 random characters lack 1.7% of the time.
        self.smoke_password = throwaway_password("Rh")
        self.token = "ghs_" + secrets.token_hex(16)
        self.aws: PipelineAws | None = None
        self.act: Act | None = None
        self.base = ""

    def make(self, *targets: str, cwd: Path | None = None) -> None:
        """A make target of the sandbox with the rehearsal's tools (as a job would run it)."""
        env = {
            **os.environ,
            "VENV": str(HOME / ".venv"),
            "TASKCAT_VENV": str(HOME / ".venv-taskcat"),
            "NODE_PREFIX": str(HOME),
        }
        done = subprocess.run(  # noqa: S603
            ["make", "--no-print-directory", *targets],  # noqa: S607
            cwd=cwd or self.sandbox.work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"make {' '.join(targets)}: {done.stderr.strip()[-2000:]}")

    def __enter__(self) -> Stage:
        if self.github.root.exists():
            shutil.rmtree(self.github.root)
        self.github.root.mkdir(parents=True)
        # Every job shares these tools: bring them in line with this tree first (incremental).
        self.make("install", cwd=HOME)
        self.aws = PipelineAws(
            smoke_user=(SMOKE_USER, self.smoke_password),
            seconds_per_monitoring_minute=MONITORING_SECONDS_PER_MINUTE,
        ).start()
        pools = {
            name: (env.pool.pool_id, env.pool.client_id)
            for name, env in self.aws.environments.items()
        }
        self.base = self.sandbox.create(HOME, pools)
        self.make("oidc-synth")
        trust = trust_policies(self.sandbox.work / "cdk.out" / "github-oidc")
        (self.github.root / "trust.json").write_text(json.dumps(trust, indent=1))
        # `make github-settings` applies this file to GitHub; the rehearsal's GitHub takes it so.
        shutil.copy(
            self.sandbox.work / "infra" / "config" / "github-settings.json",
            self.github.root / "github-settings.json",
        )
        environment = {
            "BENCH_TARGETS_FILE": str(self._emulator_targets()),
            "REHEARSAL_HOME": str(HOME),
            "REHEARSAL_PYTHON": str(HOME / ".venv" / "bin" / "python"),
            "REHEARSAL_STATE": str(self.github.root),
            "REHEARSAL_REPOSITORY": REPOSITORY,
            "REHEARSAL_ORIGIN": self.sandbox.origin_url,
            "REHEARSAL_AWS_ENDPOINT": self.aws.moto_endpoint,
            "LOCAL_AWS_CONTROL_URL": self.aws.control_url,
            # The deploy and destroy steps: moto's CloudFormation cannot create the stack's
            # API Gateway v2, alarms or subscriptions, so the local deployer does (local/cdk.py).
            "CDK": f"{HOME / '.venv' / 'bin' / 'python'} -m local.cdk",
            "LOCAL_CDK_REAL_CLI": str(HOME / "node_modules" / ".bin" / "cdk"),
            "TESTS": REHEARSAL_TESTS,
        }
        self.act = Act(
            sandbox=self.sandbox,
            github=self.github,
            home=HOME,
            environment=environment,
            secrets={"GITHUB_TOKEN": self.token, "SMOKE_TEST_PASSWORD": self.smoke_password},
            variables={"SMOKE_TEST_USERNAME": SMOKE_USER},
        )
        return self

    def _emulator_targets(self) -> Path:
        """The load test's targets with latencies the emulator can meet (report: substituted).

        Staging's p95 targets are AWS's; on this machine moto and the local gateway set the
        latency (docs/scaling.md). Every other target of the load test stays as it is: no error
        but the provoked rate limit, the 429 probe refused, sessionEnded to every listener.
        """
        targets = json.loads((HOME / "bench" / "targets.json").read_text())
        for entry in targets.values():
            if isinstance(entry, dict) and "p95Ms" in entry:
                entry["p95Ms"].update(EMULATOR_P95_MS)
        path = self.github.root / "emulator-targets.json"
        path.write_text(json.dumps(targets, indent=1))
        return path

    def __exit__(self, *exc: object) -> None:
        if self.aws is not None:
            self.aws.stop()

    def run(self, workflow: str, event: str, **kwargs: Any) -> Run:
        assert self.act is not None
        run = self.act.run(workflow, event, **kwargs)
        self.runs.append(run)
        return run

    def stack(self, env: str) -> dict[str, Any] | None:
        """The local AWS's view of ``SessionManagement-<env>`` (None: not deployed)."""
        assert self.aws is not None
        try:
            return self.aws.stack(f"SessionManagement-{env}")
        except ControlError:  # no such stack
            return None
