"""Task 13.2: the functions, their settings, environment, roles and log groups.

Expected values come from the function specs (``session_service.specs``: memory and timeout as
the checklist states them, entry points, the environment each handler reads, its grants) and the
environment's config (limits, retention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ci.checklist import BY_ID
from ci.checks import check
from ci.checks.iam import allows, role_statements
from ci.checks.tables import describe as describe_table
from ci.model import Outcome, failed, passed, skipped
from ci.model import check as verdict
from session_service import constants as C
from session_service import specs

if TYPE_CHECKING:
    from ci.deployment import Deployment

# What each handler may do comes from its spec's grants, the project's one table of IAM grants
# per function: the check proves the deployed roles carry it (the Management API grants are
# api.management-permissions' line).
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def configuration(dep: Deployment, handler: str) -> dict[str, Any]:
    cache = dep.scratch.setdefault("functions", {})
    if handler not in cache:
        dep.require_stack()
        name = dep.function_name(handler)
        config = dep.clients("lambda").get_function_configuration(FunctionName=name)
        cache[handler] = config
        dep.scratch[f"role:{handler}"] = config.get("Role", "").rsplit("/", 1)[-1]
    return cache[handler]


def _deployed(dep: Deployment, handler: str) -> Outcome:
    config = configuration(dep, handler)
    spec = specs.FUNCTIONS[handler]
    memory, timeout, entry = spec.memory_mb, spec.timeout_s, spec.entry_point
    evidence = (
        f"{config['FunctionName']}: {config.get('MemorySize')} MB, {config.get('Timeout')} s, "
        f"handler {config.get('Handler')}, runtime {config.get('Runtime')}"
    )
    ok = (
        config.get("MemorySize") == memory
        and config.get("Timeout") == timeout
        and config.get("Handler") == entry
    )
    note = BY_ID[f"functions.{handler}.deployed"].differs  # the 30 s timeouts' (ci/checklist.py)
    return verdict(ok, evidence, f"{memory} MB, {timeout} s, handler {entry}", note)


def expected_environment(dep: Deployment) -> dict[str, str]:
    """The value each environment variable must hold, where the deployment defines one."""
    values = {
        C.ENV_ENVIRONMENT: dep.env,
        C.ENV_SESSIONS_TABLE: dep.table_name("sessions"),
        C.ENV_CONNECTIONS_TABLE: dep.table_name("connections"),
        C.ENV_RATE_LIMITS_TABLE: dep.table_name("rate_limits"),
        C.ENV_POWERTOOLS_SERVICE_NAME: C.SERVICE_NAME,
        C.ENV_POWERTOOLS_METRICS_NAMESPACE: C.METRICS_NAMESPACE,
    }
    if dep.outputs.get(C.OUTPUT_CALLBACK_URL):
        values[C.ENV_CALLBACK_URL] = dep.outputs[C.OUTPUT_CALLBACK_URL]
    if dep.user_pool_id and dep.app_client_id:
        values[C.ENV_USER_POOL_ID] = dep.user_pool_id
        values[C.ENV_APP_CLIENT_ID] = dep.app_client_id
    cfg = dep.config
    if cfg is not None:
        limits = cfg.limits
        values.update(
            {
                C.ENV_LOG_LEVEL: cfg.log_level,
                C.ENV_SUPPORTED_LANGUAGES: ",".join(sorted(cfg.supported_languages)),
                C.ENV_MAX_LISTENERS_PER_SESSION: str(limits.max_listeners_per_session),
                C.ENV_MAX_ACTIVE_SESSIONS: str(limits.max_active_sessions),
                C.ENV_SESSION_DURATION_MINUTES: str(limits.session_duration_minutes),
                C.ENV_CONNECTION_TTL_MINUTES: str(limits.connection_ttl_minutes),
                C.ENV_CONNECTION_REFRESH_MINUTES: str(limits.connection_refresh_minutes),
                C.ENV_CONNECTION_WARNING_MINUTES: str(limits.connection_warning_minutes),
                C.ENV_SESSION_CREATE_LIMIT_PER_HOUR: str(limits.session_create_limit_per_hour),
                C.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: str(limits.listener_join_limit_per_minute),
                C.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: str(
                    limits.connection_attempt_limit_per_minute
                ),
                C.ENV_HEARTBEAT_LIMIT_PER_MINUTE: str(limits.heartbeat_limit_per_minute),
                C.ENV_SPEAKER_STALENESS_SECONDS: str(limits.speaker_staleness_seconds),
            }
        )
    return values


def _normalise(name: str, value: str) -> str:
    if name == C.ENV_SUPPORTED_LANGUAGES:
        return ",".join(sorted(v.strip() for v in value.split(",") if v.strip()))
    return value


def environment_problems(dep: Deployment, handler: str) -> list[str]:
    variables = configuration(dep, handler).get("Environment", {}).get("Variables", {})
    expected = expected_environment(dep)
    problems = []
    for name in specs.FUNCTIONS[handler].environment:
        value = variables.get(name)
        if not value:
            problems.append(f"{handler}: {name} missing")
        elif name in expected and _normalise(name, value) != expected[name]:
            problems.append(f"{handler}: {name}={value!r}, expected {expected[name]!r}")
    return problems


@check("functions.environment")
def _environment(dep: Deployment) -> Outcome:
    problems = [p for handler in specs.FUNCTIONS for p in environment_problems(dep, handler)]
    count = sum(len(spec.environment) for spec in specs.FUNCTIONS.values())
    if problems:
        return failed("; ".join(problems), "every variable of each spec's environment as deployed")
    return passed(f"{count} variables across {len(specs.FUNCTIONS)} functions, all set as expected")


def _arn_prefix(dep: Deployment, service: str) -> str:
    return f"arn:aws:{service}:{dep.region}:{dep.account or '*'}"


def _grant_resource(dep: Deployment, target: str) -> str:
    if target in specs.INDEXES:
        table_key, index = specs.INDEXES[target]
        return f"{describe_table(dep, table_key)['TableArn']}/index/{index}"
    return describe_table(dep, target)["TableArn"]


def role_problems(dep: Deployment, handler: str) -> list[str]:
    config = configuration(dep, handler)
    statements = role_statements(dep, config["Role"])
    problems = []
    for grant in specs.FUNCTIONS[handler].grants:
        if grant.target == specs.CONNECTIONS_API:
            continue
        arn = _grant_resource(dep, grant.target)
        problems += [
            f"{handler}: {a} on {arn}" for a in grant.actions if not allows(statements, a, arn)
        ]
    group = log_group_name(dep, handler)
    group_arn = f"{_arn_prefix(dep, 'logs')}:log-group:{group}"
    stream = f"{group_arn}:log-stream:x"
    for action in LOG_ACTIONS:
        if allows(statements, action, stream):
            continue
        if dep.endpoint_url and allows(statements, action, group_arn):
            dep.scratch["moto-log-arn"] = True  # see MOTO_LOG_ARN_NOTE
            continue
        problems.append(f"{handler}: {action} on {group}")
    return problems


MOTO_LOG_ARN_NOTE = (
    "moto resolves a log group's Fn::GetAtt Arn without CloudFormation's ':*' suffix, so the "
    "local grants name the group itself; against AWS the grant must cover its log streams"
)


@check("functions.roles")
def _roles(dep: Deployment) -> Outcome:
    problems = [p for handler in specs.FUNCTIONS for p in role_problems(dep, handler)]
    roles = sorted({configuration(dep, h)["Role"].rsplit("/", 1)[-1] for h in specs.FUNCTIONS})
    if problems:
        return failed("not allowed: " + "; ".join(problems), "each role allows its handler's work")
    return passed(
        f"{len(roles)} roles ({', '.join(roles)}) allow each handler's table actions and logging",
        MOTO_LOG_ARN_NOTE if dep.scratch.get("moto-log-arn") else "",
    )


def log_group_name(dep: Deployment, handler: str) -> str:
    config = configuration(dep, handler)
    custom = config.get("LoggingConfig", {}).get("LogGroup")
    return custom or f"/aws/lambda/{config['FunctionName']}"


def log_groups(dep: Deployment) -> dict[str, dict[str, Any] | None]:
    """handler -> its log group as describe_log_groups returns it (None when absent)."""
    cache = dep.scratch.get("log-groups")
    if cache is None:
        logs = dep.clients("logs")
        cache = {}
        for handler in specs.FUNCTIONS:
            name = log_group_name(dep, handler)
            groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
            cache[handler] = next((g for g in groups if g["logGroupName"] == name), None)
        dep.scratch["log-groups"] = cache
    return cache


@check("functions.log-groups")
def _log_groups(dep: Deployment) -> Outcome:
    groups = log_groups(dep)
    missing = [log_group_name(dep, h) for h, g in groups.items() if g is None]
    if missing:
        return failed("missing: " + ", ".join(missing), "a log group for every function")
    return passed(", ".join(g["logGroupName"] for g in groups.values() if g))


def retention_note(dep: Deployment) -> str:
    if dep.config is None:
        return ""
    hours, days = dep.config.log_retention_hours, dep.config.log_retention_days
    if days * 24 == hours:
        return ""
    why = BY_ID["functions.log-retention"].differs
    return f"configured {hours} h, deployed as {days} day(s): {why}"


@check("functions.log-retention")
def _log_retention(dep: Deployment) -> Outcome:
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    expected = dep.config.log_retention_days
    groups = log_groups(dep)
    found = {g["logGroupName"]: g.get("retentionInDays") for g in groups.values() if g}
    if not found:
        return skipped("no log group to read (see functions.log-groups)")
    evidence = ", ".join(f"{name}: {days or 'never expire'} d" for name, days in found.items())
    ok = all(days == expected for days in found.values())
    return verdict(ok, evidence, f"{expected} day(s) on every log group", retention_note(dep))


def _schedule(dep: Deployment, handler: str) -> Outcome:
    """A scheduled function's EventBridge rule: enabled, at the configured rate, invoking it."""
    spec = specs.FUNCTIONS[handler]
    name = spec.schedule_name(dep.env)
    assert name is not None
    assert spec.schedule_rate_setting is not None
    if dep.config is None:
        return failed(f"configuration unreadable: {dep.config_error}", "a valid configuration")
    minutes = int(getattr(dep.config.limits, spec.schedule_rate_setting))
    rate = f"rate({minutes} {'minute' if minutes == 1 else 'minutes'})"
    function_arn = configuration(dep, handler)["FunctionArn"]
    expected = f"rule {name} ENABLED, {rate}, invoking {function_arn}"
    events = dep.clients("events")
    try:
        rule = events.describe_rule(Name=name)
    except events.exceptions.ResourceNotFoundException:
        return failed(f"no rule {name}", expected)
    targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
    arns = [t["Arn"] for t in targets]
    evidence = (
        f"{name}: {rule.get('State')}, {rule.get('ScheduleExpression')}, "
        f"targets {', '.join(arns) or 'none'}"
    )
    ok = (
        rule.get("State") == "ENABLED"
        and rule.get("ScheduleExpression") == rate
        and function_arn in arns
    )
    return verdict(ok, evidence, expected)


def _register(handler: str) -> None:
    check(f"functions.{handler}.deployed")(lambda dep: _deployed(dep, handler))
    if specs.FUNCTIONS[handler].schedule_rate_setting is not None:
        check(f"functions.{handler}.schedule")(lambda dep: _schedule(dep, handler))


for _handler in specs.FUNCTIONS:
    _register(_handler)
