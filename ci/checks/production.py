"""Post-Deployment > Configuration (Production Only): PITR, domain, DNS, dashboard, retention.

These lines bind in ``prod``. Elsewhere a line is still checked when the environment's config
asks for the feature (a dashboard in dev), and otherwise skipped with the reason; custom domain
and DNS are "if applicable": skipped unless the config names a domain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci.checklist import BY_ID
from ci.checks import check
from ci.checks.functions import log_groups
from ci.model import Outcome, failed, skipped
from ci.model import check as verdict
from session_service import constants as C

if TYPE_CHECKING:
    from ci.deployment import Deployment

PRODUCTION_ENV = "prod"
MIN_PRODUCTION_RETENTION_HOURS = 24


def _is_prod(dep: Deployment) -> bool:
    return dep.env == PRODUCTION_ENV


@check("production.pitr")
def _pitr(dep: Deployment) -> Outcome:
    wanted = dep.config is not None and dep.config.production.point_in_time_recovery
    if not (_is_prod(dep) or wanted):
        return skipped(f"production only; {dep.env} does not ask for PITR (config production)")
    dep.require_stack()
    client = dep.clients("dynamodb")
    states = {}
    for key in C.TABLES:
        name = dep.table_name(key)
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        pitr = backups.get("PointInTimeRecoveryDescription", {})
        states[name] = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
    return verdict(
        all(s == "ENABLED" for s in states.values()),
        ", ".join(f"{n} PITR {s}" for n, s in states.items()),
        "PITR ENABLED on all three tables",
    )


def _domain(dep: Deployment) -> str | None:
    if dep.config is None or dep.config.custom_domain is None:
        return None
    return dep.config.custom_domain.domain_name


def _not_applicable(dep: Deployment) -> Outcome:
    return skipped(
        f"not applicable: no custom domain configured (infra/config/{dep.env}.json customDomain)"
    )


@check("production.custom-domain")
def _custom_domain(dep: Deployment) -> Outcome:
    domain = _domain(dep)
    if domain is None:
        return _not_applicable(dep)
    client = dep.clients("apigatewayv2")
    client.get_domain_name(DomainName=domain)
    mappings = client.get_api_mappings(DomainName=domain).get("Items", [])
    api_id = dep.output(C.OUTPUT_API_ID)
    mapped = [m for m in mappings if m.get("ApiId") == api_id and m.get("Stage") == dep.stage_name]
    return verdict(
        bool(mapped),
        f"{domain}: mappings {[(m.get('ApiId'), m.get('Stage')) for m in mappings]}",
        f"{domain} mapped to {api_id} stage {dep.stage_name}",
    )


@check("production.dns")
def _dns(dep: Deployment) -> Outcome:
    domain = _domain(dep)
    if domain is None or dep.config is None or dep.config.custom_domain is None:
        return _not_applicable(dep)
    target = dep.clients("apigatewayv2").get_domain_name(DomainName=domain)
    configs = target.get("DomainNameConfigurations", [{}])
    gateway_name = configs[0].get("ApiGatewayDomainName", "")
    zone = dep.config.custom_domain.hosted_zone_id
    records = dep.clients("route53").list_resource_record_sets(
        HostedZoneId=zone, StartRecordName=domain, MaxItems="10"
    )["ResourceRecordSets"]
    hits = [
        r
        for r in records
        if r["Name"].rstrip(".") == domain
        and gateway_name
        and gateway_name.rstrip(".") in str(r.get("AliasTarget", {}).get("DNSName", ""))
    ]
    return verdict(
        bool(hits),
        f"{domain}: {len(hits)} alias record(s) to {gateway_name or '(no gateway domain)'}",
        f"an alias record {domain} -> {gateway_name}",
    )


@check("production.dashboard")
def _dashboard(dep: Deployment) -> Outcome:
    wanted = dep.config is not None and dep.config.production.dashboard
    if not (_is_prod(dep) or wanted):
        return skipped(f"production only; {dep.env} config has production.dashboard false")
    name = dep.outputs.get(C.OUTPUT_DASHBOARD_NAME) or C.DASHBOARD_NAME_TEMPLATE.format(env=dep.env)
    dep.require_stack()
    client = dep.clients("cloudwatch")
    try:
        body = client.get_dashboard(DashboardName=name).get("DashboardBody", "")
    except client.exceptions.ResourceNotFound:
        return failed(f"no dashboard {name}", f"dashboard {name}")
    shows = [m for m in (C.METRIC_SESSION_CREATION_LATENCY, C.METRIC_ACTIVE_SESSIONS) if m in body]
    return verdict(
        C.METRICS_NAMESPACE in body and bool(shows),
        f"dashboard {name}: {len(body)} bytes, shows {', '.join(shows) or 'no service metric'}",
        f"dashboard {name} showing the {C.METRICS_NAMESPACE} metrics",
    )


@check("production.log-retention")
def _log_retention(dep: Deployment) -> Outcome:
    """Prod's config must ask for 24 h or more; the groups' exact value is functions.log-retention.

    A deployed group cannot hold less than 24 h (CloudWatch's minimum is a day): what can be
    wrong is the configuration production deploys from.
    """
    if not _is_prod(dep):
        days = dep.config.log_retention_days if dep.config else "?"
        return skipped(
            f"production only; {dep.env} keeps logs {days} day(s) (see functions.log-retention)"
        )
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    hours = dep.config.log_retention_hours
    found = {g["logGroupName"]: g.get("retentionInDays") for g in log_groups(dep).values() if g}
    shortest = min((d for d in found.values() if d), default=None)
    evidence = (
        f"infra/config/{dep.env}.json logRetentionHours {hours} "
        f"({dep.config.log_retention_days} d); shortest deployed group: "
        f"{shortest if shortest is not None else 'none read'} d"
    )
    return verdict(
        hours >= MIN_PRODUCTION_RETENTION_HOURS,
        evidence,
        f"logRetentionHours >= {MIN_PRODUCTION_RETENTION_HOURS} in prod",
        BY_ID["production.log-retention"].differs,
    )
