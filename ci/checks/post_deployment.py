"""Post-Deployment > Verification: outputs saved, endpoint saved, and the console review.

The checklist's "verified in AWS Console" lines are a person's look at the console; the machine
looks at what the console shows there (the inventory and state of each resource), a facet the
Task 13.x checks do not cover, so one broken setting fails one line only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ci.checks import check
from ci.checks.functions import configuration, log_group_name
from ci.checks.monitoring import alarms, subscription_confirmation
from ci.checks.tables import describe as describe_table
from ci.model import Outcome, failed, passed, skipped
from ci.model import check as verdict
from session_service import constants as C
from session_service import specs

if TYPE_CHECKING:
    from ci.deployment import Deployment


def expected_outputs(dep: Deployment) -> list[str]:
    keys = [
        C.OUTPUT_WEBSOCKET_URL,
        C.OUTPUT_CALLBACK_URL,
        C.OUTPUT_API_ID,
        C.OUTPUT_STAGE_NAME,
        C.OUTPUT_SESSIONS_TABLE,
        C.OUTPUT_CONNECTIONS_TABLE,
        C.OUTPUT_RATE_LIMITS_TABLE,
        *(spec.output_id for spec in specs.FUNCTIONS.values()),
        C.OUTPUT_ALARM_TOPIC_ARN,
        C.OUTPUT_DASHBOARD_NAME,
        C.OUTPUT_USER_POOL_ID,
        C.OUTPUT_APP_CLIENT_ID,
    ]
    if dep.config is not None and dep.config.custom_domain is not None:
        keys.append(C.OUTPUT_CUSTOM_DOMAIN)
    return keys


@check("post.outputs-saved")
def _outputs_saved(dep: Deployment) -> Outcome:
    dep.require_stack()
    missing = [k for k in expected_outputs(dep) if not dep.outputs.get(k)]
    path = dep.options.report_dir / f"outputs-{dep.env}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dep.outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if missing:
        return failed(
            f"saved {len(dep.outputs)} outputs to {path}; missing {', '.join(missing)}",
            "every output id of session_service.constants",
        )
    return passed(f"{len(dep.outputs)} outputs saved to {path}")


@check("post.endpoint-saved")
def _endpoint_saved(dep: Deployment) -> Outcome:
    url = dep.output(C.OUTPUT_WEBSOCKET_URL)
    api_id, stage = dep.outputs.get(C.OUTPUT_API_ID), dep.stage_name
    expected = f"wss://{api_id}.execute-api.{dep.region}.amazonaws.com/{stage}"
    domain = dep.outputs.get(C.OUTPUT_CUSTOM_DOMAIN)
    ok = url == expected or (bool(domain) and url.startswith(f"wss://{domain}"))
    note = ""
    if dep.options.websocket_url and dep.options.websocket_url != url:
        note = f"smoke tests connect through {dep.options.websocket_url} (local gateway)"
    saved = dep.options.report_dir / f"outputs-{dep.env}.json"
    return verdict(ok, f"{C.OUTPUT_WEBSOCKET_URL} = {url} (in {saved})", expected, note)


@check("post.tables")
def _tables(dep: Deployment) -> Outcome:
    dep.require_stack()
    listed: set[str] = set()
    for page in dep.clients("dynamodb").get_paginator("list_tables").paginate():
        listed.update(page.get("TableNames", []))
    names = {key: dep.table_name(key) for key in C.TABLES}
    absent = [n for n in names.values() if n not in listed]
    if absent:
        return failed(f"not listed: {', '.join(absent)}", "all three tables listed and ACTIVE")
    states = {n: describe_table(dep, k)["TableStatus"] for k, n in names.items()}
    return verdict(
        all(s == "ACTIVE" for s in states.values()),
        ", ".join(f"{n} {s}" for n, s in states.items()),
        "all three tables listed and ACTIVE",
    )


@check("post.functions")
def _functions(dep: Deployment) -> Outcome:
    states = {}
    for handler in specs.FUNCTIONS:
        config = configuration(dep, handler)
        states[config["FunctionName"]] = (
            config.get("State", "Active"),
            config.get("LastUpdateStatus", "Successful"),
        )
    ok = all(s == ("Active", "Successful") for s in states.values())
    evidence = ", ".join(f"{n} {s[0]}/{s[1]}" for n, s in states.items())
    return verdict(ok, evidence, "every function Active with its last update Successful")


@check("post.api")
def _api(dep: Deployment) -> Outcome:
    name = C.API_NAME_TEMPLATE.format(env=dep.env)
    api_id = dep.output(C.OUTPUT_API_ID)
    found, token = [], None
    client = dep.clients("apigatewayv2")
    while True:
        page = client.get_apis(**({"NextToken": token} if token else {}))
        found += [a["ApiId"] for a in page.get("Items", []) if a.get("Name") == name]
        token = page.get("NextToken")
        if not token:
            break
    # The checklist finds the API by name (get-apis --query Items[?Name==...]): exactly one.
    return verdict(
        found == [api_id],
        f"APIs named {name}: {', '.join(found) or 'none'}; stack output {api_id}",
        f"exactly one API named {name}, the stack's {api_id}",
    )


@check("post.log-groups")
def _log_groups(dep: Deployment) -> Outcome:
    resources = []
    paginator = dep.clients("cloudformation").get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=dep.stack_name):
        resources += page.get("StackResourceSummaries", [])
    owned = {
        r.get("PhysicalResourceId") for r in resources if r["ResourceType"] == "AWS::Logs::LogGroup"
    }
    retention_resource = any(r["ResourceType"] == "Custom::LogRetention" for r in resources)
    groups = [log_group_name(dep, h) for h in specs.FUNCTIONS]
    unmanaged = [g for g in groups if g not in owned]
    if unmanaged and not retention_resource:
        return failed(
            f"not managed by {dep.stack_name}: {', '.join(unmanaged)}",
            "every function's log group created by the stack (retention from config, removed "
            "with the stack unless retained)",
        )
    return passed(f"{len(groups)} log groups managed by {dep.stack_name}")


@check("post.alarms")
def _alarms(dep: Deployment) -> Outcome:
    found = alarms(dep)
    if not found:
        return skipped("no alarm to read (see monitoring.alarms)")
    states = {a["AlarmName"]: a.get("StateValue", "INSUFFICIENT_DATA") for a in found}
    firing = [n for n, s in states.items() if s == "ALARM"]
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    evidence = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no alarms"
    if firing:
        return failed(f"in ALARM: {', '.join(firing)}", "no alarm in state ALARM")
    return passed(evidence)


check("post.subscription-confirmed")(subscription_confirmation)
