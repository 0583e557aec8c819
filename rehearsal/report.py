"""The rehearsal's report: per scenario, its checks, the jobs of each run in the order they
finished, the time it took, and the local deployments after it; terminal and Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rehearsal.scenarios import Outcome

SUBSTITUTED = (
    "Substituted steps: `make deploy-assembly` and `make destroy-dev` run the workflow's own "
    "command with `CDK=python -m local.cdk`, which has the local deployer create the stack "
    "(moto's CloudFormation cannot create AWS::ApiGatewayV2::*, CloudWatch alarms or SNS "
    "subscriptions) and serves it with the local gateway; `make test` runs `tests/unit` "
    "(the whole suite is `make test` itself); the staging load test's p95 latency targets are "
    "the emulator's (join 5 s, heartbeat 1 s: moto and the local gateway set the latency here, "
    "not AWS), its other targets stay; staging and prod bake for 1 minute, not 5 and 15 "
    "(infra/config deploySafety.bakeMinutes in the sandbox); CloudFormation's rollback triggers "
    "are emulated by the local deployer (moto saves none and watches no alarm: local/"
    "rollback_triggers.py), and a minute of their monitoring period lasts a second; "
    "third-party actions are stand-ins "
    "(rehearsal/actions/); GitHub's API is rehearsal/gh.py."
)


def _short(name: str) -> str:
    return name.split("/")[-1].strip()


def markdown(outcomes: Sequence[Outcome], seconds: float) -> str:
    passed = sum(o.passed for o in outcomes)
    lines = [
        "# Rehearsal of the pipelines",
        "",
        f"{passed} of {len(outcomes)} scenarios passed in {seconds:.0f} s.",
        "",
        "| scenario | result | time | checks |",
        "| --- | --- | --- | --- |",
    ]
    for o in outcomes:
        ok = sum(c.ok for c in o.checks)
        result = "passed" if o.passed else "FAILED"
        lines.append(
            f"| {o.name}: {o.title} | {result} | {o.seconds:.0f} s | {ok}/{len(o.checks)} |"
        )
    lines += ["", SUBSTITUTED, ""]
    for o in outcomes:
        lines += [f"## {o.name}: {o.title}", ""]
        if o.error:
            lines += [f"**Could not be carried out:** {o.error}", ""]
        for c in o.checks:
            mark = "pass" if c.ok else "**FAIL**"
            lines.append(f"- {mark}: {c.what}" + (f" ({c.detail})" if c.detail else ""))
        for run in o.runs:
            lines += [
                "",
                f"Run {run.run_id}: `{run.workflow}` on {run.event} of {run.ref} "
                f"({run.sha[:12]}), {run.conclusion}, {run.seconds:.0f} s; log `{run.log}`",
                "",
            ]
            lines += [f"  {i}. {_short(j.name)}: {j.result}" for i, j in enumerate(run.jobs, 1)]
        lines += ["", "Deployments after: " + ", ".join(f"{k} {v}" for k, v in o.state.items())]
        lines.append("")
    return "\n".join(lines)


def terminal(outcomes: Sequence[Outcome], seconds: float, report: Path) -> str:
    lines = []
    for o in outcomes:
        lines.append(
            f"{'PASS' if o.passed else 'FAIL'}  {o.name:<15} {o.seconds:6.0f} s  {o.title}"
        )
        if o.error:
            lines.append(f"      could not be carried out: {o.error}")
        for c in o.checks:
            if not c.ok:
                lines.append(f"      failed: {c.what}" + (f" ({c.detail})" if c.detail else ""))
    passed = sum(o.passed for o in outcomes)
    lines.append(
        f"rehearsal: {passed} of {len(outcomes)} scenarios passed in {seconds:.0f} s; "
        f"report {report}"
    )
    return "\n".join(lines)
