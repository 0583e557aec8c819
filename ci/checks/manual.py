"""Documentation, Rollback Plan and Sign-Off: mostly a person's lines, some derived from the run.

A line a machine cannot tick is ``manual`` with the exact thing to do (filled with this
deployment's values). Lines that summarise the verification ("All verification steps passed")
are derived from the results above them and name the checks they rest on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci.checks import check
from ci.model import (
    Outcome,
    Result,
    Status,
    failed,
    manual,
    mask_email,
    passed,
    skipped,
)
from ci.model import (
    check as verdict,
)
from session_service import constants as C
from session_service import specs

if TYPE_CHECKING:
    from ci.deployment import Deployment

# The sections whose checks read the deployment; the rest summarise or instruct.
VERIFICATION_SECTIONS = (
    "tables",
    "functions",
    "api",
    "monitoring",
    "post-deployment",
    "production",
)
DERIVED_SECTIONS = ("documentation", "rollback", "sign-off")
# Which sign-off a verification scores: a local run signs off no environment.
SIGNOFF_ENV = {"dev": "dev", "staging": "staging", "prod": "prod"}
_SUBSECTION = {"dev": "Development", "staging": "Staging", "prod": "Production"}


def results(dep: Deployment) -> dict[str, Result]:
    return dep.scratch.setdefault("results", {})


def failures(dep: Deployment) -> list[Result]:
    return [
        r
        for r in results(dep).values()
        if r.status is Status.FAIL and r.section not in DERIVED_SECTIONS
    ]


def summarise(dep: Deployment, sections: tuple[str, ...], what: str) -> Outcome:
    """Pass only when no check of ``sections`` failed or waits for a person; the evidence says
    how many passed and names the lines that were not applicable, so a pass never reads as a
    partial count."""
    ran = [r for r in results(dep).values() if r.section in sections]
    missing = [s for s in sections if not any(r.section == s for r in ran)]
    if missing:
        return skipped(f"not run in this verification: {', '.join(missing)} (run every section)")
    bad = [r.id for r in ran if r.status is Status.FAIL]
    pending = [r.id for r in ran if r.status is Status.MANUAL]
    not_applicable = [r.id for r in ran if r.status is Status.SKIPPED]
    counts = f"{sum(r.status is Status.PASS for r in ran)} of {len(ran)} {what} checks passed"
    if not_applicable:
        counts += f", {len(not_applicable)} not applicable here ({', '.join(not_applicable)})"
    if bad:
        return failed(f"{counts}; failed: {', '.join(bad)}", f"every {what} check passed")
    if pending:
        return manual(f"complete the manual items {', '.join(pending)}", counts)
    return passed(f"{counts}: none failed")


# --- Documentation -------------------------------------------------------------------------
def _local_skip(dep: Deployment) -> Outcome | None:
    if dep.is_local:
        return skipped("local environment: nothing is shared with client teams")
    return None


def dashboard_url(dep: Deployment) -> str:
    name = dep.outputs.get(C.OUTPUT_DASHBOARD_NAME) or C.DASHBOARD_NAME_TEMPLATE.format(env=dep.env)
    return (
        f"https://{dep.region}.console.aws.amazon.com/cloudwatch/home?region={dep.region}"
        f"#dashboards:name={name}"
    )


@check("docs.endpoint")
def _docs_endpoint(dep: Deployment) -> Outcome:
    url = dep.outputs.get(C.OUTPUT_WEBSOCKET_URL, "(no WebSocketUrl output)")
    return _local_skip(dep) or manual(
        f"send {url} and docs/protocol.md to the client teams", f"endpoint {url}"
    )


@check("docs.user-pool")
def _docs_pool(dep: Deployment) -> Outcome:
    pool, client = dep.user_pool_id, dep.app_client_id
    return _local_skip(dep) or manual(
        f"share user pool {pool} and app client {client} ({dep.region}) with the client teams",
        f"user pool {pool}, app client {client}",
    )


@check("docs.dashboard-url")
def _docs_dashboard(dep: Deployment) -> Outcome:
    url = dashboard_url(dep)
    return _local_skip(dep) or manual(f"share {url} with the on-call team", url)


@check("docs.alarm-recipients")
def _docs_recipients(dep: Deployment) -> Outcome:
    email = mask_email(dep.config.alarm_email) if dep.config else "(config unreadable)"
    return _local_skip(dep) or manual(
        f"confirm with the on-call team that {email} (infra/config/{dep.env}.json alarmEmail) "
        "is the list that should receive alarms",
        f"alarm email {email}",
    )


@check("docs.notes")
def _docs_notes(dep: Deployment) -> Outcome:
    return manual(
        f"write the deployment notes (issues, workarounds) into the Notes of "
        f"{dep.options.report_dir}/signoff-{dep.env}.md"
    )


# --- Rollback Plan -------------------------------------------------------------------------
def deployment_failures(dep: Deployment) -> list[Result]:
    """Failures of what was deployed (not of the repository's gates): these call for a rollback."""
    return [r for r in failures(dep) if r.section in (*VERIFICATION_SECTIONS, "smoke")]


def _no_rollback(dep: Deployment) -> Outcome | None:
    if deployment_failures(dep):
        return None
    return skipped("verification found no failure: no rollback needed")


@check("rollback.identify")
def _identify(dep: Deployment) -> Outcome:
    bad = deployment_failures(dep)
    if not bad:
        return skipped("verification found no failing component")
    return manual(
        "decide which component the failing checks point to",
        "failing: " + ", ".join(r.id for r in bad),
    )


_TERMINAL_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")


@check("rollback.cfn-events")
def _cfn_events(dep: Deployment) -> Outcome:
    stack = dep.require_stack()
    events = []
    paginator = dep.clients("cloudformation").get_paginator("describe_stack_events")
    for page in paginator.paginate(StackName=dep.stack_name):
        events += page.get("StackEvents", [])
        if len(events) >= 500:
            break
    since = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    recent = [e for e in events if since is None or e["Timestamp"] >= since]
    failed_events = [
        f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
        for e in recent
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ]
    status = stack["StackStatus"]
    return verdict(
        status in _TERMINAL_OK and not failed_events,
        f"stack {status}; {len(recent)} events of the last operation, "
        f"{len(failed_events)} failed"
        + (f": {'; '.join(failed_events[:3])}" if failed_events else ""),
        "stack in *_COMPLETE without failed events",
    )


@check("rollback.lambda-logs")
def _lambda_logs(dep: Deployment) -> Outcome:
    names = " ".join(f"/aws/lambda/{dep.function_name(h)}" for h in specs.FUNCTIONS)
    return _no_rollback(dep) or manual(
        f"read the recent errors: for g in {names}; do aws logs tail $g --since 1h "
        f"--filter-pattern ERROR --region {dep.region}; done"
    )


@check("rollback.decide")
def _decide(dep: Deployment) -> Outcome:
    return _no_rollback(dep) or manual(
        f"decide: roll back (`aws cloudformation cancel-update-stack --stack-name "
        f"{dep.stack_name} --region {dep.region}` during an update, or `cdk destroy --context "
        f"env={dep.env}`) or fix forward"
    )


def _after_rollback(todo: str) -> object:
    def run(dep: Deployment) -> Outcome:
        return _no_rollback(dep) or manual(f"after a rollback: {todo.format(dep=dep)}")

    return run


for _id, _todo in {
    "rollback.cleanup-verified": "`aws cloudformation describe-stacks --stack-name "
    "{dep.stack_name} --region {dep.region}` shows the stack gone or at the previous version",
    "rollback.failure-documented": "write the failure reason in the Notes of the sign-off record",
    "rollback.fix": "fix the code or infra/config/{dep.env}.json and open a pull request",
    "rollback.retest": "`make local`, then `make verify ENV=local` until every automatic line "
    "passes",
    "rollback.redeploy": "re-run the deployment pipeline for {dep.env}",
}.items():
    check(_id)(_after_rollback(_todo))  # type: ignore[arg-type]


# --- Sign-Off ------------------------------------------------------------------------------
def _applies(dep: Deployment, which: str) -> Outcome | None:
    mine = SIGNOFF_ENV.get(dep.env)
    if mine == which:
        return None
    if mine is None:
        return skipped(
            f"{_SUBSECTION[which]} sign-off; a {dep.env} run signs off no environment "
            f"(`make verify ENV={which}` scores it)"
        )
    return skipped(f"{_SUBSECTION[which]} sign-off; this verification is of {dep.env}")


def _completed(dep: Deployment) -> Outcome:
    status = dep.require_stack()["StackStatus"]
    return verdict(status in _TERMINAL_OK, f"stack {dep.stack_name} {status}", "*_COMPLETE")


def _verified(dep: Deployment) -> Outcome:
    return summarise(dep, VERIFICATION_SECTIONS, "verification")


def _testing(dep: Deployment) -> Outcome:
    return summarise(dep, ("smoke",), "smoke-test")


def _issues(dep: Deployment) -> Outcome:
    bad = failures(dep)
    record = f"{dep.options.report_dir}/signoff-{dep.env}.md"
    if not bad:
        return passed(f"verification found no issue; {record} records the result")
    return manual(
        f"add cause and plan for the {len(bad)} failing checks listed in {record}",
        ", ".join(r.id for r in bad),
    )


def _deployed_by(dep: Deployment) -> Outcome:
    who = dep.options.deployed_by
    return (
        passed(who) if who else manual("re-run with --deployed-by (the pipeline passes its actor)")
    )


def _approved_by(dep: Deployment) -> Outcome:
    who = dep.options.approved_by
    return (
        passed(who) if who else manual("re-run with --approved-by (the approver of the deployment)")
    )


def _date(dep: Deployment) -> Outcome:
    return passed(str(dep.scratch.get("started_at", "")) + " (time of this verification, UTC)")


def _load_testing(dep: Deployment) -> Outcome:
    return manual("run `make bench` against staging and keep bench/results/ with this record")


def _performance(dep: Deployment) -> Outcome:
    return manual("compare bench/results/ with the latency targets (SessionCreationLatency p95)")


def _config_applied(dep: Deployment) -> Outcome:
    return summarise(dep, ("production",), "production-configuration")


def _pitr(dep: Deployment) -> Outcome:
    result = results(dep).get("production.pitr")
    if result is None:
        return skipped("production.pitr not run in this verification")
    return Outcome(result.status, f"production.pitr: {result.evidence}", result.expected)


def _monitoring(dep: Deployment) -> Outcome:
    return summarise(dep, ("monitoring",), "monitoring")


def _stakeholders(dep: Deployment) -> Outcome:
    return manual(
        f"tell the stakeholders that {dep.env} is deployed, with the sign-off record "
        f"{dep.options.report_dir}/signoff-{dep.env}.md"
    )


_SIGNOFF = {
    "dev": {
        "completed": _completed, "verified": _verified, "testing": _testing, "issues": _issues,
        "deployed-by": _deployed_by, "date": _date,
    },
    "staging": {
        "completed": _completed, "verified": _verified, "load-testing": _load_testing,
        "performance": _performance, "issues": _issues, "deployed-by": _deployed_by, "date": _date,
    },
    "prod": {
        "completed": _completed, "verified": _verified, "config-applied": _config_applied,
        "pitr": _pitr, "monitoring": _monitoring, "stakeholders": _stakeholders,
        "issues": _issues, "deployed-by": _deployed_by, "approved-by": _approved_by, "date": _date,
    },
}  # fmt: skip


def _register(which: str, key: str, fn: object) -> None:
    def run(dep: Deployment) -> Outcome:
        return _applies(dep, which) or fn(dep)  # type: ignore[operator]

    check(f"signoff.{which}.{key}")(run)


for _which, _checks in _SIGNOFF.items():
    for _key, _fn in _checks.items():
        _register(_which, _key, _fn)
