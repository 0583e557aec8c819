"""The scenarios of ``make rehearse``: what a team does with the pipelines, and what must follow.

Each scenario acts as a person would (opens a pull request, pushes, tags, approves, dispatches a
rollback), lets act run the real workflows, and checks what GitHub and AWS would then show: which
jobs ran, failed or never started, the error line a refusal prints, the artifacts, and the
deployments in the local AWS. Scenarios build on each other in the listed order (the release
deploys what the push to main built; the rollbacks go back to that release), so a selection runs
the scenarios it depends on first.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ci import bake
from infra.config import ConfigWarning, load_config
from local import change_sets, stack_operations
from rehearsal.act import Run
from rehearsal.sandbox import REPOSITORY
from rehearsal.stage import Stage
from session_service import specs

RELEASE = "v1.0.0"
BAD_RELEASE = "v1.1.0"  # passes its verification; an alarm goes off during staging's bake
ALARMED_RELEASE = "v1.2.0"  # an alarm is in ALARM when staging's update starts
SUSPEND = "suspend the rollback triggers"
APPROVER = "release-approver"


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


@dataclass
class Outcome:
    name: str
    title: str
    checks: list[Check] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    seconds: float = 0.0
    state: dict[str, str] = field(default_factory=dict)  # stack -> status after the scenario
    error: str | None = None  # the scenario could not be carried out

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(what, bool(ok), detail))

    def jobs(self, run: Run, expected: dict[str, str], within: str | None = None) -> None:
        """One check per job: its result must be the expected one ("not run" for never started).

        ``within``: only the jobs under that caller job (e.g. ``"undo staging"``)."""
        where = f"`{within}` " if within else ""
        for fragment, wanted in expected.items():
            got = run.result(fragment, within)
            job = run.job(fragment, within)
            errors = job.errors if job else []
            detail = f"{got}" + (f": {errors[0]}" if errors and got != wanted else "")
            self.check(f"{run.workflow} {where}job `{fragment}` {wanted}", got == wanted, detail)

    def error_line(self, run: Run, fragment: str, text: str, within: str | None = None) -> None:
        job = run.job(fragment, within)
        errors = job.errors if job else []
        self.check(
            f"`{fragment}` says: {text}",
            any(text in e for e in errors),
            "; ".join(errors[:2]) or "no error line",
        )


DEV_CHAIN = ["change set (dev)", "verify pre-deployment (dev)", "deploy (dev)", "sign-off (dev)"]
VERIFY_SECTIONS = ("tables", "functions", "api", "monitoring", "post-deployment")
CHECKS = (
    "lint, format, workflow lint, taskcat lint",
    "tests (unit, integration, infrastructure, end to end, workflows)",
    "synth every environment (cfn-lint, cdk-nag)",
)


def _chain(env: str, extra: tuple[str, ...] = ()) -> dict[str, str]:
    jobs = {
        f"change set ({env})": "success",
        f"verify pre-deployment ({env})": "success",
        f"deploy ({env})": "success",
        **{f"verify {s} ({env})": "success" for s in VERIFY_SECTIONS},
        **{job: "success" for job in extra},
        f"sign-off ({env})": "success",
    }
    return jobs


def _approval(env: str, state: str = "approved", login: str = APPROVER) -> dict[str, Any]:
    return {"state": state, "environments": [{"name": env}], "user": {"login": login}}


def _status(stack: dict[str, Any] | None) -> str:
    return str(stack.get("status")) if stack else "absent"


def _artifact_names(stage: Stage, run: Run) -> set[str]:
    return {a["name"] for a in stage.github.artifacts(run_id=run.run_id)}


def _sums(stage: Stage, run: Run, name: str) -> str:
    path = stage.github.artifact_dir(run.run_id, name) / "SHA256SUMS"
    return path.read_text() if path.exists() else ""


# --- scenarios -------------------------------------------------------------------------------
def pull_request(stage: Stage, out: Outcome) -> None:
    sha = stage.sandbox.commit("feature/docs", "docs: a clearer sentence", {"NOTES.md": "x\n"})
    payload = {
        "number": 7,
        "pull_request": {"number": 7, "head": {"sha": sha, "ref": "feature/docs"}},
    }
    run = stage.run("ci.yml", "pull_request", ref="refs/pull/7/merge", sha=sha, payload=payload)
    out.runs.append(run)
    out.jobs(run, {job: "success" for job in CHECKS})
    out.check(
        "a pull request uploads no cloud assembly",
        not any(n.startswith("cloud-assembly") for n in _artifact_names(stage, run)),
        ", ".join(sorted(_artifact_names(stage, run))),
    )


def push_main(stage: Stage, out: Outcome) -> None:
    sha = stage.base
    assert stage.aws is not None
    since = len(stage.aws.operations)
    run = stage.run("deploy.yml", "push", ref="refs/heads/main", sha=sha)
    out.runs.append(run)
    _only_the_reviewed_change_set_ran(stage, out, run, "dev", since)
    out.jobs(run, {"check the ref": "success", **{c: "success" for c in CHECKS}, **_chain("dev")})
    out.check(
        f"the checks uploaded the one build, cloud-assembly-{sha[:12]}…",
        f"cloud-assembly-{sha}" in _artifact_names(stage, run),
    )
    stack = stage.stack("dev")
    out.check(
        "SessionManagement-dev is deployed in dev's account",
        _status(stack).endswith("_COMPLETE"),
        _status(stack),
    )
    stage.scratch["main_run"] = run
    stage.scratch["main_sha"] = sha


def red_commit(stage: Stage, out: Outcome) -> None:
    red = (
        '"""A change whose test fails: the pipeline must stop before anything deploys."""\n\n\n'
        "def test_the_change_works() -> None:\n    assert 1 + 1 == 3\n"
    )
    sha = stage.sandbox.commit("main", "a change whose test fails", {"tests/unit/test_red.py": red})
    before = stage.stack("dev")
    run = stage.run("deploy.yml", "push", ref="refs/heads/main", sha=sha)
    out.runs.append(run)
    out.jobs(
        run,
        {
            CHECKS[1]: "failure",
            **{job: "not run" for job in DEV_CHAIN},
        },
    )
    after = stage.stack("dev")
    out.check(
        "the dev stack is untouched",
        (before or {}).get("outputs") == (after or {}).get("outputs")
        and (before or {}).get("status") == (after or {}).get("status"),
        _status(after),
    )
    # Put main back to green for what follows (the release tags main's green commit).
    stage.sandbox.revert("main", sha)


def tag_off_main(stage: Stage, out: Outcome) -> None:
    sha = stage.sandbox.commit("feature/hotfix", "a fix not merged to main", {"FIX.md": "x\n"})
    stage.sandbox.tag("v0.9.0", sha)
    run = stage.run("deploy.yml", "push", ref="refs/tags/v0.9.0", sha=sha)
    out.runs.append(run)
    out.jobs(
        run,
        {
            "check the ref": "failure",
            "the build dev deployed": "not run",
            "deploy (staging)": "not run",
            "deploy (prod)": "not run",
        },
    )
    out.error_line(run, "check the ref", "which is not on main")


def release(stage: Stage, out: Outcome) -> None:
    sha = stage.scratch["main_sha"]
    main_run: Run = stage.scratch["main_run"]
    stage.sandbox.tag(RELEASE, sha)
    assert stage.aws is not None
    since = len(stage.aws.operations)
    run = stage.run(
        "deploy.yml",
        "push",
        ref=f"refs/tags/{RELEASE}",
        sha=sha,
        actor="developer",
        approvals=[_approval("prod")],
    )
    out.runs.append(run)
    staging = _chain("staging", ("load test (staging)", "bake (staging)"))
    prod = _chain("prod", ("verify production (prod)", "bake (prod)"))
    out.jobs(run, {"check the ref": "success", "the build dev deployed": "success"})
    out.jobs(run, {**staging, **prod})
    out.jobs(run, {"validate the request": "not run"})  # no undo after a clean bake
    for env in ("staging", "prod"):
        recorded = _last_clean(stage, env)
        out.check(
            f"{env}: the clean bake recorded {RELEASE} as the last clean release",
            recorded == RELEASE,
            str(recorded),
        )
    for env in ("staging", "prod"):
        _only_the_reviewed_change_set_ran(stage, out, run, env, since)
        _triggers_saved(stage, out, env)
    out.jobs(run, {c: "not run" for c in CHECKS})
    main_sums = _sums(stage, main_run, f"cloud-assembly-{sha}")
    release_sums = _sums(stage, run, f"cloud-assembly-{RELEASE}")
    out.check(
        "staging and prod deployed the build dev deployed (same files, same digests)",
        bool(main_sums) and main_sums == release_sums,
        f"{len(main_sums.splitlines())} files recorded",
    )
    for env in ("staging", "prod"):
        stack = stage.stack(env)
        out.check(
            f"SessionManagement-{env} is deployed",
            _status(stack).endswith("_COMPLETE"),
            _status(stack),
        )
    stage.scratch["release_run"] = run


def _triggers_saved(stage: Stage, out: Outcome, env: str) -> None:
    """The stack keeps deployment-health as its rollback trigger, with the config's period."""
    assert stage.aws is not None
    environment = stage.aws.environment(env)
    [stack] = environment.clients("cloudformation").describe_stacks(
        StackName=environment.stack_name
    )["Stacks"]
    saved = stack.get("RollbackConfiguration") or {}
    names = [t["Arn"].rsplit(":", 1)[-1] for t in saved.get("RollbackTriggers", [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        minutes = load_config(env).deploy_safety.rollback_monitoring_minutes
    out.check(
        f"{env}: later updates are watched by the rollback trigger "
        f"{specs.deployment_health_alarm_name(env)} for {minutes} minutes",
        names == [specs.deployment_health_alarm_name(env)]
        and saved.get("MonitoringTimeInMinutes") == minutes,
        json.dumps(saved),
    )


def rollback_staging(stage: Stage, out: Outcome) -> None:
    release_run: Run = stage.scratch["release_run"]
    # A fork's pull request uploads an artifact of the release's name, newer than the real one:
    # the rollback must not take it.
    rogue = stage.github.start_run(
        repository=REPOSITORY,
        workflow_path=".github/workflows/ci.yml",
        event="pull_request",
        head_sha=stage.scratch["main_sha"],
        head_branch="evil",
        actor="outsider",
        head_repository="outsider/session-management",
    )
    stage.github.add_artifact(rogue, f"cloud-assembly-{RELEASE}", 1)
    stage.github.artifact_dir(rogue, f"cloud-assembly-{RELEASE}").mkdir(parents=True)
    stage.github.finish_run(rogue, "success")
    run = _dispatch_rollback(stage, "staging", "staging smoke failures after v1.1.0")
    out.runs.append(run)
    out.jobs(
        run,
        {
            "validate the request": "success",
            "find or rebuild the release's assembly": "success",
            SUSPEND: "success",
        },
    )
    out.jobs(run, _chain("staging"))
    out.check(
        "the rollback suspended staging's rollback triggers before its change set",
        "SessionManagement-staging: rollback triggers suspended for this rollback"
        in run.log.read_text(),
    )
    _triggers_saved(stage, out, "staging")  # set again by the rollback's execute-change-set
    out.check(
        f"the rollback redeployed the artifact of the tag's Deploy run {release_run.run_id}, "
        f"not the fork's run {rogue}",
        f"uploaded by run {release_run.run_id}" in run.log.read_text(),
    )


def stuck_stack(stage: Stage, out: Outcome) -> None:
    assert stage.aws is not None
    stage.aws.set_stack_status("SessionManagement-dev", "UPDATE_ROLLBACK_FAILED")
    run = _dispatch_rollback(stage, "dev", "dev stuck in UPDATE_ROLLBACK_FAILED")
    out.runs.append(run)
    out.jobs(run, _chain("dev"))
    out.check(
        "make stack-recover continued the rollback before the redeploy",
        "continuing the failed rollback" in run.log.read_text(),
    )
    stack = stage.stack("dev")
    out.check(
        "SessionManagement-dev is deployable again and redeployed",
        _status(stack).endswith("_COMPLETE"),
        _status(stack),
    )


def rollback_rules(stage: Stage, out: Outcome) -> None:
    before = stage.stack("prod")
    branch = stage.sandbox.commit("feature/rollback-here", "a branch", {"BRANCH.md": "x\n"})
    run = _dispatch_rollback(
        stage,
        "prod",
        "from a branch",
        ref="refs/heads/feature/rollback-here",
        sha=branch,
        approvals=[_approval("prod")],
    )
    out.runs.append(run)
    # The first job that names prod (and needs its rules and its approval) suspends the triggers.
    out.jobs(run, {SUSPEND: "failure", "change set (prod)": "not run", "deploy (prod)": "not run"})
    out.error_line(run, SUSPEND, "not allowed to deploy to prod")
    rejected = _dispatch_rollback(
        stage, "prod", "rejected by the approver", approvals=[_approval("prod", "rejected")]
    )
    out.runs.append(rejected)
    out.jobs(rejected, {SUSPEND: "failure", "change set (prod)": "not run",
                        "deploy (prod)": "not run"})  # fmt: skip
    out.error_line(rejected, SUSPEND, "was rejected")
    after = stage.stack("prod")
    out.check(
        "prod is untouched by both",
        (before or {}).get("outputs") == (after or {}).get("outputs"),
        _status(after),
    )


def _operations(stage: Stage, env: str, since: int) -> list[str]:
    """The stack operations on ``env``'s stack since ``since`` (an index of the local AWS's log)."""
    assert stage.aws is not None
    return [
        f"{o['op']} {o.get('changeSet', '')}".strip()
        for o in stage.aws.operations[since:]
        if o["env"] == env
    ]


def _only_the_reviewed_change_set_ran(
    stage: Stage, out: Outcome, run: Run, env: str, since: int
) -> None:
    ops = _operations(stage, env, since)
    prepared = [o.split()[1] for o in ops if o.startswith("prepare-change-set ")]
    out.check(
        f"{env}: the change set prepared before the approval ran, and nothing else",
        len(prepared) == 1 and ops == [f"prepare-change-set {prepared[0]}",
                                        f"execute-change-set {prepared[0]}"],
        "; ".join(ops) or "no stack operation",
    )  # fmt: skip
    artifact = stage.github.artifact_dir(run.run_id, f"change-set-{env}-1")
    summary = artifact / f"change-set-{env}.md"
    out.check(
        f"{env}: the approver's summary of that change set was uploaded",
        summary.is_file() and prepared != [] and f"`{prepared[0]}`" in summary.read_text(),
        str(summary.relative_to(stage.github.root)) if summary.is_file() else "absent",
    )


def stack_changed(stage: Stage, out: Outcome) -> None:
    """While prod's approver reads the change set, someone else updates the stack."""
    aws = stage.aws
    assert aws is not None
    account = aws.environment("prod").account

    def meanwhile(env: str, name: str) -> None:
        prepared = change_sets.REGISTRY.find(account, "SessionManagement-prod", name)
        if env == "prod" and prepared is not None:
            aws.deploy("prod", prepared.assembly)  # an update outside this run

    since = len(aws.operations)
    aws.after_prepare = meanwhile
    try:
        run = _dispatch_rollback(stage, "prod", "the stack changes while the approver reads")
    finally:
        aws.after_prepare = None
    out.runs.append(run)
    out.jobs(run, {"change set (prod)": "success", "deploy (prod)": "failure",
                   "verify tables (prod)": "not run"})  # fmt: skip
    # CloudFormation marks a change set OBSOLETE once its stack is updated meanwhile.
    out.error_line(run, "deploy (prod)", "is not executed: it is OBSOLETE")
    ops = _operations(stage, "prod", since)
    out.check(
        "no change set was executed on prod (only the update made meanwhile ran)",
        [o.split()[0] for o in ops] == ["prepare-change-set", "deploy"],
        "; ".join(ops),
    )


def stateful_replacement(stage: Stage, out: Outcome) -> None:
    """Prod runs a table the release would replace: refused before anyone can approve it."""
    aws = stage.aws
    assert aws is not None
    environment = aws.environment("prod")
    body = environment.clients("cloudformation").get_template(StackName=environment.stack_name)
    original = body["TemplateBody"]
    template = original if isinstance(original, dict) else json.loads(original)
    kept = json.dumps(template)
    tables = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    template["Resources"][tables[0]]["Properties"]["TableName"] = "a-table-prod-runs-today"
    stack_operations.keep_template(
        environment.stack_name, environment.account, json.dumps(template)
    )
    before = stage.stack("prod")
    since = len(aws.operations)
    try:
        run = _dispatch_rollback(stage, "prod", "a release that replaces a prod table")
    finally:
        stack_operations.keep_template(environment.stack_name, environment.account, kept)
    out.runs.append(run)
    out.jobs(run, {"change set (prod)": "failure", "deploy (prod)": "not run"})
    out.error_line(
        run, "change set (prod)", f"loses data: AWS::DynamoDB::Table {tables[0]} (replaced)"
    )
    summary = stage.github.artifact_dir(run.run_id, "change-set-prod-1") / "change-set-prod.md"
    text = summary.read_text() if summary.is_file() else ""
    out.check(
        "the approver's summary shows the replacement first, in bold, and the refusal",
        f"**AWS::DynamoDB::Table `{tables[0]}` replaced: data is lost**" in text
        and "**Refused:" in text,
        "uploaded" if text else "no summary uploaded",
    )
    after = stage.stack("prod")
    out.check(
        "prod is untouched",
        _operations(stage, "prod", since) == [o for o in _operations(stage, "prod", since)
                                              if o.startswith("prepare-change-set")]
        and (before or {}).get("outputs") == (after or {}).get("outputs"),
        "; ".join(_operations(stage, "prod", since)),
    )  # fmt: skip


def _last_clean(stage: Stage, env: str) -> str | None:
    """The release the environment's record names (read as the undo reads it), None if none."""
    assert stage.aws is not None
    record = bake.read_record(stage.aws.environment(env).clients("ssm"), env)
    return record["release"] if record else None


def bake_alarm(stage: Stage, out: Outcome) -> None:
    """A release verified in staging whose alarm goes off during the bake: undone, run failed."""
    aws = stage.aws
    assert aws is not None
    release_run: Run = stage.scratch["release_run"]
    alarm = specs.alarm_names("staging")["connection-errors"]
    since = len(aws.operations)
    fired = threading.Event()

    def executed() -> int:
        return sum(o["op"] == "execute-change-set" for o in aws.operations[since:]
                   if o["env"] == "staging")  # fmt: skip

    def traffic(uploaded: Callable[[str], bool], set_alarm: Callable[[str, str], None]) -> bool:
        """The alarm goes off once staging is verified and signed off (the bake is next), and
        clears once the previous release runs again (the undo's change set executed)."""
        if not fired.is_set():
            if uploaded("sign-off-staging-"):
                set_alarm("ALARM", f"rehearsal: connection errors after {BAD_RELEASE}")
                fired.set()
            return False
        if executed() >= 2:
            set_alarm("OK", f"{RELEASE} runs again")
            return True
        return False

    run = _release_with_traffic(stage, BAD_RELEASE, alarm, traffic)
    out.runs.append(run)
    out.check("the alarm went off after staging's sign-off", fired.is_set())
    out.jobs(run, _chain("staging", ("load test (staging)",)), within="staging")
    out.jobs(run, {"bake (staging)": "failure"})
    out.error_line(run, "bake (staging)", f"alarm {alarm} is in ALARM")
    undo = {
        "validate the request": "success",
        "find or rebuild the release's assembly": "success",
        SUSPEND: "success",
    }
    out.jobs(run, undo, within="undo staging")
    # act names a job by its nearest caller: rollback.yml's "redeploy" calls the undo's chain.
    out.jobs(run, _chain("staging"), within="redeploy")
    out.jobs(run, {"deploy (prod)": "not run", "bake (prod)": "not run"})
    out.check("the run failed", run.conclusion == "failure", run.conclusion)
    ops = _operations(stage, "staging", since)
    changes = [o.split()[1] for o in ops if o.startswith("execute-change-set ")]
    out.check(
        f"staging ran {BAD_RELEASE}'s reviewed change set, then the undo's",
        [o.split()[0] for o in ops] == ["prepare-change-set", "execute-change-set"] * 2
        and len(changes) == 2
        and changes[1] == f"{changes[0]}-undo",
        "; ".join(ops),
    )
    out.check(
        f"the undo redeployed {RELEASE}, the artifact of its tag's Deploy run {release_run.run_id}",
        f"cloud-assembly-{RELEASE} uploaded by run {release_run.run_id}" in run.log.read_text(),
    )
    recorded = _last_clean(stage, "staging")
    out.check(f"staging's record is still {RELEASE}", recorded == RELEASE, str(recorded))


def rollback_trigger(stage: Stage, out: Outcome) -> None:
    """An alarm is in ALARM when staging's update starts: CloudFormation rolls the update back."""
    aws = stage.aws
    assert aws is not None
    alarm = specs.alarm_names("staging")["connection-errors"]
    since = len(aws.operations)
    fired = threading.Event()

    def traffic(uploaded: Callable[[str], bool], set_alarm: Callable[[str, str], None]) -> bool:
        """The alarm goes off once staging's change set is reviewed (the deploy job is next)."""
        if uploaded("change-set-staging"):
            set_alarm("ALARM", f"rehearsal: connection errors before {ALARMED_RELEASE}")
            fired.set()
            return True
        return False

    try:
        run = _release_with_traffic(stage, ALARMED_RELEASE, alarm, traffic)
    finally:
        aws.environment("staging").clients("cloudwatch").set_alarm_state(
            AlarmName=alarm, StateValue="OK", StateReason="rehearsal"
        )
    out.runs.append(run)
    out.check("the alarm went off after staging's change set was reviewed", fired.is_set())
    out.jobs(
        run,
        {
            "change set (staging)": "success",
            "deploy (staging)": "failure",
            "verify tables (staging)": "not run",
            "bake (staging)": "not run",
            "deploy (prod)": "not run",
        },
    )
    health = specs.deployment_health_alarm_name("staging")
    summary = (
        stage.github.artifact_dir(run.run_id, "change-set-staging-1") / "change-set-staging.md"
    )
    text = summary.read_text() if summary.is_file() else ""
    out.check(
        "the approver's summary says the rollback trigger watches the update",
        f"While it runs and for 5 minutes after, CloudFormation rolls it back if `{health}`"
        in text,
        "uploaded" if text else "no summary uploaded",
    )
    wanted = (
        "UPDATE_ROLLBACK_COMPLETE, rollback trigger fired when the update started: "
        f"{health}, {alarm} in ALARM"
    )
    out.check(f"the deploy job failed: {wanted}", wanted in run.log.read_text())
    ops = [o for o in aws.operations[since:] if o["env"] == "staging"]
    out.check(
        "staging executed the reviewed change set, and CloudFormation rolled it back",
        [o["op"] for o in ops] == ["prepare-change-set", "execute-change-set"]
        and "rolledBack" in ops[-1],
        "; ".join(f"{o['op']} {o.get('rolledBack', '')}".strip() for o in ops),
    )
    stack = stage.stack("staging")
    out.check(
        "SessionManagement-staging is UPDATE_ROLLBACK_COMPLETE",
        _status(stack) == "UPDATE_ROLLBACK_COMPLETE",
        _status(stack),
    )
    out.check("the run failed", run.conclusion == "failure", run.conclusion)
    recorded = _last_clean(stage, "staging")
    out.check(f"staging's record is still {RELEASE}", recorded == RELEASE, str(recorded))


Traffic = Callable[[Callable[[str], bool], Callable[[str, str], None]], bool]


def _release_with_traffic(stage: Stage, tag: str, alarm: str, traffic: Traffic) -> Run:
    """Tag main's commit ``tag`` and run its Deploy while ``traffic`` is polled every 0.5 s,
    until it returns True: it is given whether an artifact of this run whose name starts with a
    prefix was uploaded, and a setter of staging's ``alarm`` (state, reason)."""
    aws = stage.aws
    assert aws is not None
    stage.sandbox.tag(tag, stage.scratch["main_sha"])
    cloudwatch = aws.environment("staging").clients("cloudwatch")
    first_run = int(stage.github.read()["next_run_id"])
    done = threading.Event()

    def uploaded(prefix: str) -> bool:
        return any(a["workflow_run"]["id"] >= first_run and a["name"].startswith(prefix)
                   for a in stage.github.artifacts())  # fmt: skip

    def set_alarm(state: str, reason: str) -> None:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=reason)

    def poll() -> None:
        while not done.wait(0.5):
            if traffic(uploaded, set_alarm):
                return

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        return stage.run(
            "deploy.yml",
            "push",
            ref=f"refs/tags/{tag}",
            sha=stage.scratch["main_sha"],
            approvals=[_approval("prod")],
        )
    finally:
        done.set()
        watcher.join(timeout=5)


def _dispatch_rollback(
    stage: Stage,
    env: str,
    reason: str,
    *,
    ref: str = "refs/heads/main",
    sha: str | None = None,
    approvals: list[dict[str, Any]] | None = None,
) -> Run:
    inputs = {"environment": env, "release": RELEASE, "reason": reason, "action": "redeploy"}
    main = sha or stage.sandbox.branch_head("main")
    return stage.run(
        "rollback.yml",
        "workflow_dispatch",
        ref=ref,
        sha=main,
        approvals=approvals or ([_approval("prod")] if env == "prod" else []),
        payload={"inputs": inputs},
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    run: Callable[[Stage, Outcome], None]
    needs: tuple[str, ...] = ()
    in_ci: bool = False  # part of `make test` (CI's budget); every scenario runs in make rehearse


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("tag-off-main", "a release tag on a commit not on main", tag_off_main, (), True),
    Scenario("pull-request", "a pull request: CI only", pull_request),
    Scenario("push-main", "a push to main: CI, then dev", push_main, (), True),
    Scenario("red-commit", "a commit whose test fails", red_commit, ("push-main",), True),
    Scenario("release", "a release tag on main: staging, then approved prod", release,
             ("push-main",)),
    Scenario("rollback", "a rollback of staging to the release, from main", rollback_staging,
             ("release",)),
    Scenario("stuck-stack", "dev stuck in UPDATE_ROLLBACK_FAILED, recovered by a rollback",
             stuck_stack, ("release",)),
    Scenario("rollback-rules", "prod rollbacks the environment rules or the approver refuse",
             rollback_rules, ("release",)),
    Scenario("stack-changed", "prod's stack changes after its change set was reviewed",
             stack_changed, ("release",)),
    Scenario("stateful-replacement", "a change set that replaces a prod table, unmarked",
             stateful_replacement, ("release",)),
    Scenario("bake-alarm", "an alarm during staging's bake: the last clean release returns",
             bake_alarm, ("release",)),
    Scenario("rollback-trigger", "an alarm as staging's update starts: its trigger rolls it back",
             rollback_trigger, ("release",)),
)  # fmt: skip


def select(names: list[str]) -> list[Scenario]:
    """The named scenarios with what they need, in the listed order (all when none named)."""
    by_name = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; expected one of: {', '.join(by_name)}")
    wanted: set[str] = set()

    def add(name: str) -> None:
        wanted.add(name)
        for need in by_name[name].needs:
            add(need)

    for name in names or list(by_name):
        add(name)
    return [s for s in SCENARIOS if s.name in wanted]


def play(stage: Stage, scenario: Scenario) -> Outcome:
    out = Outcome(scenario.name, scenario.title)
    started = time.monotonic()
    try:
        scenario.run(stage, out)
    except Exception as err:  # reported as the scenario's failure, with its cause
        out.error = f"{type(err).__name__}: {err}"
    out.seconds = time.monotonic() - started
    for env in ("dev", "staging", "prod"):
        stack = stage.stack(env)
        out.state[f"SessionManagement-{env}"] = str(stack.get("status")) if stack else "absent"
    return out
