"""Monitoring & Alarms: each alarm, the metric it watches, its action, the topic and subscription.

An alarm only helps if it can fire: it must watch the metric exactly as the handlers emit it
(namespace, name and the dimensions of ``constants.metric_dimensions``) and notify the topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ci.checks import check
from ci.model import Outcome, failed, manual, mask_email, passed, skipped
from ci.model import check as verdict
from session_service import constants as C
from session_service import specs

if TYPE_CHECKING:
    from ci.deployment import Deployment

LAMBDA_NAMESPACE = "AWS/Lambda"


def _metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) the alarm watches, for plain and metric-math alarms."""
    found = []
    if alarm.get("MetricName"):
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        found.append((alarm.get("Namespace", ""), alarm["MetricName"], dims))
    for query in alarm.get("Metrics", []) or []:
        metric = query.get("MetricStat", {}).get("Metric")
        if metric:
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            found.append((metric.get("Namespace", ""), metric.get("MetricName", ""), dims))
    return found


def alarms(dep: Deployment) -> list[dict[str, Any]]:
    """The deployment's alarms: on its own metrics or on its functions' Lambda metrics."""
    if "alarms" not in dep.scratch:
        dep.require_stack()
        functions = {dep.function_name(h) for h in specs.FUNCTIONS}
        ours = []
        paginator = dep.clients("cloudwatch").get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmTypes=["MetricAlarm"]):
            for alarm in page.get("MetricAlarms", []):
                for namespace, _, dims in _metrics(alarm):
                    own = (
                        namespace == C.METRICS_NAMESPACE
                        and dims.get(C.DIMENSION_ENVIRONMENT) == dep.env
                    )
                    if own or (
                        namespace == LAMBDA_NAMESPACE and dims.get("FunctionName") in functions
                    ):
                        ours.append(alarm)
                        break
        dep.scratch["alarms"] = ours
    return dep.scratch["alarms"]


def topic_arn(dep: Deployment) -> str:
    return dep.output(C.OUTPUT_ALARM_TOPIC_ARN)


@check("monitoring.alarms")
def _created(dep: Deployment) -> Outcome:
    found = alarms(dep)
    names = ", ".join(sorted(a["AlarmName"] for a in found))
    return verdict(bool(found), f"{len(found)} alarms: {names or 'none'}", "the stack's alarms")


def _alarm_problems(dep: Deployment, alarm: dict[str, Any], threshold: float) -> list[str]:
    problems = []
    if alarm.get("Threshold") != threshold:
        problems.append(f"threshold {alarm.get('Threshold')} (expected {threshold:g})")
    if topic_arn(dep) not in alarm.get("AlarmActions", []):
        problems.append(f"actions {alarm.get('AlarmActions') or 'none'} (expected the alarm topic)")
    if not alarm.get("ActionsEnabled", True):
        problems.append("actions disabled")
    return problems


def _watching(dep: Deployment, namespace: str, metric: str, dims: dict[str, str]) -> list[dict]:
    return [a for a in alarms(dep) if (namespace, metric, dims) in _metrics(a)]


def _metric_alarm(
    dep: Deployment, metric: str, threshold_of: str, statistic: str | None = None
) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    threshold = float(getattr(dep.config.alarms, threshold_of))
    dims = C.metric_dimensions(dep.env)
    shown = f"{C.METRICS_NAMESPACE}/{metric} {dims}"
    candidates = _watching(dep, C.METRICS_NAMESPACE, metric, dims)
    expected = f"an alarm on {shown} at {threshold:g}, notifying the alarm topic"
    if not candidates:
        others = [a["AlarmName"] for a in alarms(dep) if any(m[1] == metric for m in _metrics(a))]
        detail = f" (on other dimensions: {', '.join(others)})" if others else ""
        return failed(f"no alarm watches {shown}{detail}", expected)
    reports = []
    for alarm in candidates:
        problems = _alarm_problems(dep, alarm, threshold)
        if statistic and alarm.get("ExtendedStatistic", alarm.get("Statistic")) != statistic:
            problems.append(f"statistic {alarm.get('ExtendedStatistic', alarm.get('Statistic'))}")
        if not problems:
            return passed(
                f"{alarm['AlarmName']}: {shown} {alarm.get('ComparisonOperator')} {threshold:g}, "
                f"-> {', '.join(alarm['AlarmActions'])}"
            )
        reports.append(f"{alarm['AlarmName']}: {'; '.join(problems)}")
    return failed("; ".join(reports), expected)


check("monitoring.alarm.session-latency")(
    lambda dep: _metric_alarm(
        dep, C.METRIC_SESSION_CREATION_LATENCY, "session_creation_latency_p95_ms", "p95"
    )
)
check("monitoring.alarm.connection-errors")(
    lambda dep: _metric_alarm(dep, C.METRIC_CONNECTION_ERRORS, "connection_errors_per_5min")
)
check("monitoring.alarm.active-sessions")(
    lambda dep: _metric_alarm(dep, C.METRIC_ACTIVE_SESSIONS, "active_sessions_max")
)


@check("monitoring.alarm.lambda-errors")
def _lambda_errors(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    threshold = float(dep.config.alarms.lambda_errors_per_5min)
    problems, good = [], []
    for handler in specs.FUNCTIONS:
        name = dep.function_name(handler)
        found = _watching(dep, LAMBDA_NAMESPACE, "Errors", {"FunctionName": name})
        if not found:
            problems.append(f"{name}: no Errors alarm")
            continue
        issues = [_alarm_problems(dep, a, threshold) for a in found]
        if any(not i for i in issues):
            good.append(name)
        else:
            problems.append(f"{name}: {'; '.join(issues[0])}")
    if problems:
        return failed(
            "; ".join(problems),
            f"an AWS/Lambda Errors alarm at {threshold:g} notifying the topic for every function",
        )
    return passed(f"Errors alarms at {threshold:g} -> topic for {', '.join(good)}")


@check("monitoring.topic")
def _topic(dep: Deployment) -> Outcome:
    arn = topic_arn(dep)
    attributes = dep.clients("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    expected = C.ALARM_TOPIC_TEMPLATE.format(env=dep.env)
    return verdict(
        arn.rsplit(":", 1)[-1] == expected and attributes.get("TopicArn") == arn,
        f"topic {arn}",
        f"a topic named {expected}",
    )


def email_subscriptions(dep: Deployment) -> list[dict[str, Any]]:
    if "subscriptions" not in dep.scratch:
        sns, found, token = dep.clients("sns"), [], None
        while True:
            kwargs = {"TopicArn": topic_arn(dep), **({"NextToken": token} if token else {})}
            page = sns.list_subscriptions_by_topic(**kwargs)
            found += [s for s in page.get("Subscriptions", []) if s.get("Protocol") == "email"]
            token = page.get("NextToken")
            if not token:
                break
        dep.scratch["subscriptions"] = found
    return dep.scratch["subscriptions"]


def alarm_email(dep: Deployment) -> str | None:
    return dep.config.alarm_email if dep.config else None


@check("monitoring.subscription")
def _subscription(dep: Deployment) -> Outcome:
    want = alarm_email(dep)
    found = email_subscriptions(dep)
    shown = ", ".join(mask_email(s.get("Endpoint", "")) for s in found) or "none"
    ok = any(s.get("Endpoint") == want for s in found) if want else bool(found)
    return verdict(
        ok,
        f"email subscriptions: {shown}",
        f"an email subscription for {mask_email(want) if want else 'the alarm email'}",
    )


def subscription_confirmation(dep: Deployment) -> Outcome:
    """Confirmed -> pass; pending -> manual (a person must click the link); absent -> skipped."""
    want = alarm_email(dep)
    found = [s for s in email_subscriptions(dep) if not want or s.get("Endpoint") == want]
    if not found:
        return skipped("no email subscription to confirm (see monitoring.subscription)")
    who = mask_email(found[0].get("Endpoint", ""))
    pending = [s for s in found if s.get("SubscriptionArn") == "PendingConfirmation"]
    if pending:
        return manual(
            f"open the 'AWS Notification - Subscription Confirmation' email sent to {who}, click "
            f"'Confirm subscription', then re-run `make verify ENV={dep.env}`",
            f"{who}: PendingConfirmation",
        )
    note = "moto confirms email subscriptions at once" if dep.is_local else ""
    return passed(f"{who}: confirmed ({found[0]['SubscriptionArn']})", note)


check("monitoring.subscription-confirmed")(subscription_confirmation)
