"""The deployment checklist as a catalogue: every line of the team's checklist, one check id.

The original (DEPLOYMENT_CHECKLIST.md, the team's printed checklist) is kept outside the
repository; its wording is kept here verbatim so that the reports, and docs/checklist.md generated
from this catalogue (``python -m ci.checklist_doc``), speak in the checklist's own words in a clone
that has no copy. A test parses the original where it is present (:func:`checklist_path`) and
proves the catalogue maps every line to exactly one id; nothing here reads it at import.

Per item: ``command`` is the ``aws ...`` command a person runs to see what the check read, filled
in with the environment's names when reported; ``mode`` says whether a machine or a person ticks
it; ``differs`` says, where AWS or the design disagrees with the checklist's wording, what the
system does instead and why. The checks' notes read ``differs`` rather than spell it again.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from session_service import constants, specs

# --section names, in the order the checklist runs them.
SECTIONS: tuple[str, ...] = (
    "pre-deployment",
    "tables",
    "functions",
    "api",
    "monitoring",
    "post-deployment",
    "smoke",
    "production",
    "documentation",
    "rollback",
    "sign-off",
)

# (checklist ## heading, ### heading) -> section name
SECTION_OF: dict[tuple[str, str], str] = {
    ("Pre-Deployment", "Environment Setup"): "pre-deployment",
    ("Pre-Deployment", "Configuration"): "pre-deployment",
    ("Pre-Deployment", "Testing"): "pre-deployment",
    ("Pre-Deployment", "CDK Bootstrap"): "pre-deployment",
    ("Deployment", "Task 13.1: Deploy DynamoDB Tables"): "tables",
    ("Deployment", "Task 13.2: Deploy Lambda Functions"): "functions",
    ("Deployment", "Task 13.3: Deploy API Gateway"): "api",
    ("Deployment", "Monitoring & Alarms"): "monitoring",
    ("Post-Deployment", "Verification"): "post-deployment",
    ("Post-Deployment", "Testing"): "smoke",
    ("Post-Deployment", "Configuration (Production Only)"): "production",
    ("Post-Deployment", "Documentation"): "documentation",
    ("Rollback Plan", "Immediate Rollback"): "rollback",
    ("Rollback Plan", "Post-Rollback"): "rollback",
    ("Sign-Off", "Development Environment"): "sign-off",
    ("Sign-Off", "Staging Environment"): "sign-off",
    ("Sign-Off", "Production Environment"): "sign-off",
}


class Mode(enum.StrEnum):
    """Who ticks a line: the machine, a person, or the machine when the run has the evidence."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"
    CONDITIONAL = "automatic, else manual"


@dataclass(frozen=True)
class Item:
    """One checklist line and the check that answers it."""

    id: str
    heading: str
    subheading: str
    text: str
    command: str = ""
    mode: Mode = Mode.AUTOMATIC
    differs: str = ""
    extra: bool = False  # a line of the verification that the checklist does not have

    @property
    def section(self) -> str:
        return SECTION_OF[(self.heading, self.subheading)]


_DDB = "aws dynamodb"
_REGION = "--region {region}"


def _items(heading: str, subheading: str, *rows: tuple[str, str] | tuple[str, str, str]) -> list:
    return [
        Item(row[0], heading, subheading, row[1], row[2] if len(row) > 2 else "") for row in rows
    ]


_PRE = "Pre-Deployment"
_DEP = "Deployment"
_POST = "Post-Deployment"
_RB = "Rollback Plan"
_SO = "Sign-Off"
_T1 = "Task 13.1: Deploy DynamoDB Tables"
_T2 = "Task 13.2: Deploy Lambda Functions"
_T3 = "Task 13.3: Deploy API Gateway"
_MON = "Monitoring & Alarms"


def _extras(heading: str, subheading: str, *rows: tuple[str, str] | tuple[str, str, str]) -> list:
    """Lines of the verification the checklist lacks (the janitor's), marked as such."""
    return [replace(item, extra=True) for item in _items(heading, subheading, *rows)]


def _table_rows(key: str, label: str, ttl: str, gsi: bool) -> list[tuple[str, str, str]]:
    name = "{" + key.replace("-", "_") + "_table}"
    describe = f"{_DDB} describe-table --table-name {name} {_REGION}"
    rows = [
        (f"tables.{key}.deployed", f"{label} table deployed", describe),
        (
            f"tables.{key}.ttl",
            f"{label} table has TTL enabled on `{ttl}`",
            f"{_DDB} describe-time-to-live --table-name {name} {_REGION}",
        ),
    ]
    if gsi:
        rows.append(
            (
                f"tables.{key}.gsi",
                f"{label} table has GSI `sessionId-targetLanguage-index`",
                f"{describe} --query 'Table.GlobalSecondaryIndexes'",
            )
        )
    rows.append(
        (
            f"tables.{key}.billing",
            f"{label} table uses on-demand billing",
            f"{describe} --query 'Table.BillingModeSummary'",
        )
    )
    return rows


_FN_CONFIG = "aws lambda get-function-configuration --function-name {fn_%s} " + _REGION
_API_ROUTES = "aws apigatewayv2 get-routes --api-id {api_id} " + _REGION
_ALARMS = "aws cloudwatch describe-alarms " + _REGION
_STACK_STATUS = (
    "aws cloudformation describe-stacks --stack-name {stack} --query 'Stacks[0].StackStatus' "
)

_LINES: tuple[Item, ...] = tuple(
    _items(
        _PRE,
        "Environment Setup",
        ("pre.aws-cli", "AWS CLI installed and configured", "aws sts get-caller-identity"),
        ("pre.python", "Python 3.11+ installed", "python3 --version"),
        ("pre.nodejs", "Node.js 18+ installed", "node --version"),
        (
            "pre.cdk-cli",
            "AWS CDK CLI installed (`npm install -g aws-cdk`)",
            "node_modules/.bin/cdk --version",
        ),
        (
            "pre.venv",
            "Virtual environment created and activated",
            ".venv/bin/python -c 'import sys; print(sys.prefix)'",
        ),
        ("pre.dependencies", "Dependencies installed (`make install`)", "make install"),
    )
    + _items(
        _PRE,
        "Configuration",
        (
            "pre.account-id",
            "AWS account ID obtained",
            "aws sts get-caller-identity --query Account",
        ),
        ("pre.region", "Target region selected (default: us-east-1)", "aws configure get region"),
        (
            "pre.user-pool",
            "Cognito User Pool created",
            "aws cognito-idp describe-user-pool --user-pool-id {user_pool_id} " + _REGION,
        ),
        (
            "pre.app-client",
            "Cognito App Client created",
            "aws cognito-idp describe-user-pool-client --user-pool-id {user_pool_id} "
            "--client-id {app_client_id} " + _REGION,
        ),
        (
            "pre.config-file",
            "Configuration file created (`infrastructure/config/dev.json`)",
            "ls infra/config/{env}.json",
        ),
        (
            "pre.config-complete",
            "All required fields in config file filled",
            "python -c 'from infra.config import load_config; load_config(\"{env}\")'",
        ),
        (
            "pre.alarm-email",
            "Alarm email address configured",
            "jq .alarmEmail infra/config/{env}.json",
        ),
    )
    + _items(
        _PRE,
        "Testing",
        ("pre.tests", "All unit tests passing (`make test`)", "make test"),
        ("pre.lint", "Code linted successfully (`make lint`)", "make lint"),
        (
            "pre.format",
            "Code formatted (`make format`)",
            ".venv/bin/black --check . && .venv/bin/ruff check .",
        ),
    )
    + _items(
        _PRE,
        "CDK Bootstrap",
        (
            "pre.cdk-bootstrap",
            "CDK bootstrapped in target account/region",
            "aws cloudformation describe-stacks --stack-name CDKToolkit " + _REGION,
        ),
        (
            "pre.bootstrap-verified",
            "Bootstrap verified (`cdk list --context env=dev`)",
            "node_modules/.bin/cdk list --context env={env}",
        ),
    )
    + _items(_DEP, _T1, *_table_rows("sessions", "Sessions", "expiresAt", False))
    + _items(_DEP, _T1, *_table_rows("connections", "Connections", "ttl", True))
    + _extras(
        _DEP,
        _T1,
        (
            "tables.connections.liveness",
            f"Connections table has the janitor's index `{constants.CONNECTIONS_LIVENESS_INDEX}`",
            f"{_DDB} describe-table --table-name {{connections_table}} {_REGION} "
            "--query 'Table.GlobalSecondaryIndexes'",
        ),
        (
            "tables.sessions.sweep",
            f"Sessions table has the janitor's index `{constants.SESSIONS_SWEEP_INDEX}`",
            f"{_DDB} describe-table --table-name {{sessions_table}} {_REGION} "
            "--query 'Table.GlobalSecondaryIndexes'",
        ),
    )
    + _items(_DEP, _T1, *_table_rows("rate-limits", "RateLimits", "expiresAt", False))
    + _items(
        _DEP,
        _T2,
        (
            "functions.authorizer.deployed",
            "Authorizer function deployed (128MB, 10s timeout)",
            _FN_CONFIG % "authorizer",
        ),
        (
            "functions.connection.deployed",
            "Connection Handler deployed (256MB, 30s timeout)",
            _FN_CONFIG % "connection",
        ),
        (
            "functions.heartbeat.deployed",
            "Heartbeat Handler deployed (128MB, 10s timeout)",
            _FN_CONFIG % "heartbeat",
        ),
        (
            "functions.disconnect.deployed",
            "Disconnect Handler deployed (256MB, 30s timeout)",
            _FN_CONFIG % "disconnect",
        ),
        (
            "functions.refresh.deployed",
            "Refresh Handler deployed (256MB, 30s timeout)",
            _FN_CONFIG % "refresh",
        ),
    )
    + _extras(
        _DEP,
        _T2,
        (
            "functions.janitor.deployed",
            f"Janitor function deployed ({specs.JANITOR.memory_mb}MB, "
            f"{specs.JANITOR.timeout_s}s timeout)",
            _FN_CONFIG % "janitor",
        ),
        (
            "functions.janitor.schedule",
            "Janitor runs on its EventBridge schedule at the configured rate",
            "aws events describe-rule --name "
            + str(specs.JANITOR.schedule_name("{env}"))
            + " "
            + _REGION,
        ),
    )
    + _items(
        _DEP,
        _T2,
        (
            "functions.environment",
            "All functions have correct environment variables",
            (_FN_CONFIG % "connection") + " --query 'Environment.Variables'",
        ),
        (
            "functions.roles",
            "All functions have IAM roles with required permissions",
            "aws iam list-role-policies --role-name {role_connection}",
        ),
        (
            "functions.log-groups",
            "CloudWatch Log Groups created for all functions",
            "aws logs describe-log-groups --log-group-name-prefix /aws/lambda/session- " + _REGION,
        ),
        (
            "functions.log-retention",
            "Log retention set to configured value (default: 12 hours)",
            "aws logs describe-log-groups --log-group-name-prefix /aws/lambda/session- "
            "--query 'logGroups[].[logGroupName,retentionInDays]' " + _REGION,
        ),
    )
    + _items(
        _DEP,
        _T3,
        (
            "api.created",
            "WebSocket API created",
            "aws apigatewayv2 get-api --api-id {api_id} " + _REGION,
        ),
        (
            "api.protocol",
            "API has protocol type WEBSOCKET",
            "aws apigatewayv2 get-api --api-id {api_id} --query ProtocolType " + _REGION,
        ),
        ("api.route.connect", "$connect route configured", _API_ROUTES),
        ("api.route.disconnect", "$disconnect route configured", _API_ROUTES),
        ("api.route.heartbeat", "heartbeat route configured", _API_ROUTES),
        ("api.route.refresh", "refreshConnection route configured", _API_ROUTES),
        (
            "api.authorizer",
            "Lambda Authorizer configured",
            "aws apigatewayv2 get-authorizers --api-id {api_id} " + _REGION,
        ),
        ("api.authorizer.connect", "Authorizer attached to $connect route", _API_ROUTES),
        ("api.authorizer.refresh", "Authorizer attached to refreshConnection route", _API_ROUTES),
        (
            "api.stage",
            "Production stage deployed",
            "aws apigatewayv2 get-stage --api-id {api_id} --stage-name {stage} " + _REGION,
        ),
        (
            "api.throttling",
            "Stage has throttling configured",
            "aws apigatewayv2 get-stage --api-id {api_id} --stage-name {stage} "
            "--query DefaultRouteSettings " + _REGION,
        ),
        (
            "api.invoke-permissions",
            "API Gateway has permissions to invoke Lambda functions",
            "aws lambda get-policy --function-name {fn_connection} " + _REGION,
        ),
        (
            "api.management-permissions",
            "Lambda functions have permissions for API Gateway Management API",
            "aws iam list-role-policies --role-name {role_heartbeat}",
        ),
    )
    + _items(
        _DEP,
        _MON,
        ("monitoring.alarms", "CloudWatch alarms created", _ALARMS),
        (
            "monitoring.alarm.session-latency",
            "Session creation latency alarm configured",
            _ALARMS + " --query \"MetricAlarms[?MetricName=='SessionCreationLatency']\"",
        ),
        (
            "monitoring.alarm.connection-errors",
            "Connection errors alarm configured",
            _ALARMS + " --query \"MetricAlarms[?MetricName=='ConnectionErrors']\"",
        ),
        (
            "monitoring.alarm.active-sessions",
            "Active sessions alarm configured",
            _ALARMS + " --query \"MetricAlarms[?MetricName=='ActiveSessions']\"",
        ),
        (
            "monitoring.alarm.lambda-errors",
            "Lambda error alarms configured for all functions",
            _ALARMS + " --query \"MetricAlarms[?Namespace=='AWS/Lambda']\"",
        ),
        (
            "monitoring.topic",
            "SNS topic created",
            "aws sns get-topic-attributes --topic-arn {topic_arn} " + _REGION,
        ),
        (
            "monitoring.subscription",
            "Email subscription created",
            "aws sns list-subscriptions-by-topic --topic-arn {topic_arn} " + _REGION,
        ),
        (
            "monitoring.subscription-confirmed",
            "Email subscription confirmed",
            "aws sns list-subscriptions-by-topic --topic-arn {topic_arn} " + _REGION,
        ),
    )
    + _items(
        _POST,
        "Verification",
        (
            "post.outputs-saved",
            "CDK outputs captured and saved",
            "aws cloudformation describe-stacks --stack-name {stack} --query 'Stacks[0].Outputs' "
            + _REGION,
        ),
        (
            "post.endpoint-saved",
            "WebSocket API endpoint URL saved",
            "aws cloudformation describe-stacks --stack-name {stack} "
            "--query \"Stacks[0].Outputs[?OutputKey=='WebSocketUrl']\" " + _REGION,
        ),
        ("post.tables", "DynamoDB tables verified in AWS Console", f"{_DDB} list-tables {_REGION}"),
        (
            "post.functions",
            "Lambda functions verified in AWS Console",
            "aws lambda list-functions " + _REGION + " | grep session",
        ),
        ("post.api", "API Gateway verified in AWS Console", "aws apigatewayv2 get-apis " + _REGION),
        (
            "post.log-groups",
            "CloudWatch Log Groups verified",
            "aws cloudformation list-stack-resources --stack-name {stack} " + _REGION,
        ),
        (
            "post.alarms",
            "CloudWatch Alarms verified",
            _ALARMS + " --query 'MetricAlarms[].[AlarmName,StateValue]'",
        ),
        (
            "post.subscription-confirmed",
            "SNS email subscription confirmed",
            "aws sns list-subscriptions-by-topic --topic-arn {topic_arn} " + _REGION,
        ),
    )
    + _items(
        _POST,
        "Testing",
        ("smoke.connectivity", "Basic WebSocket connectivity tested"),
        (
            "smoke.test-user",
            "Test user created in Cognito",
            "aws cognito-idp list-users --user-pool-id {user_pool_id} "
            "--filter 'username ^= \"ci-smoke-\"' " + _REGION,
        ),
        ("smoke.jwt", "JWT token obtained for test user"),
        ("smoke.speaker", "Speaker session creation tested"),
        ("smoke.listener", "Listener join tested"),
        ("smoke.heartbeat", "Heartbeat tested"),
        ("smoke.disconnect", "Disconnect tested"),
        ("smoke.refresh", "Connection refresh tested (if applicable)"),
    )
    + _items(
        _POST,
        "Configuration (Production Only)",
        (
            "production.pitr",
            "DynamoDB Point-in-Time Recovery enabled",
            f"{_DDB} describe-continuous-backups --table-name {{sessions_table}} {_REGION}",
        ),
        (
            "production.custom-domain",
            "Custom domain configured (if applicable)",
            "aws apigatewayv2 get-domain-names " + _REGION,
        ),
        ("production.dns", "DNS records updated (if applicable)", "dig +short {custom_domain}"),
        (
            "production.dashboard",
            "CloudWatch Dashboard created",
            "aws cloudwatch get-dashboard --dashboard-name {dashboard} " + _REGION,
        ),
        (
            "production.log-retention",
            "Log retention adjusted for production (24+ hours)",
            "aws logs describe-log-groups --log-group-name-prefix /aws/lambda/session- "
            "--query 'logGroups[].[logGroupName,retentionInDays]' " + _REGION,
        ),
    )
    + _items(
        _POST,
        "Documentation",
        ("docs.endpoint", "WebSocket endpoint documented for client teams"),
        ("docs.user-pool", "Cognito User Pool details shared"),
        ("docs.dashboard-url", "Monitoring dashboard URL shared"),
        (
            "docs.alarm-recipients",
            "Alarm notification recipients confirmed",
            "aws sns list-subscriptions-by-topic --topic-arn {topic_arn} " + _REGION,
        ),
        ("docs.notes", "Deployment notes documented"),
    )
    + _items(
        _RB,
        "Immediate Rollback",
        ("rollback.identify", "Identify failing component"),
        (
            "rollback.cfn-events",
            "Check CloudFormation events for errors",
            "aws cloudformation describe-stack-events --stack-name {stack} " + _REGION,
        ),
        (
            "rollback.lambda-logs",
            "Review Lambda function logs",
            "aws logs tail /aws/lambda/{fn_connection} --since 1h " + _REGION,
        ),
        ("rollback.decide", "Determine if rollback is needed"),
    )
    + _items(
        _RB,
        "Post-Rollback",
        (
            "rollback.cleanup-verified",
            "Verify resources are cleaned up",
            "aws cloudformation describe-stacks --stack-name {stack} " + _REGION,
        ),
        ("rollback.failure-documented", "Document failure reason"),
        ("rollback.fix", "Fix issues in code/configuration"),
        ("rollback.retest", "Re-test locally", "make local & make verify ENV=local"),
        ("rollback.redeploy", "Attempt deployment again"),
    )
    + _items(
        _SO,
        "Development Environment",
        (
            "signoff.dev.completed",
            "Deployment completed successfully",
            _STACK_STATUS + _REGION,
        ),
        ("signoff.dev.verified", "All verification steps passed"),
        ("signoff.dev.testing", "Testing completed"),
        ("signoff.dev.issues", "Issues documented (if any)"),
        ("signoff.dev.deployed-by", "Deployed by: ________________"),
        ("signoff.dev.date", "Date: ________________"),
    )
    + _items(
        _SO,
        "Staging Environment",
        (
            "signoff.staging.completed",
            "Deployment completed successfully",
            _STACK_STATUS + _REGION,
        ),
        ("signoff.staging.verified", "All verification steps passed"),
        ("signoff.staging.load-testing", "Load testing completed", "make bench"),
        ("signoff.staging.performance", "Performance targets met", "make bench"),
        ("signoff.staging.issues", "Issues documented (if any)"),
        ("signoff.staging.deployed-by", "Deployed by: ________________"),
        ("signoff.staging.date", "Date: ________________"),
    )
    + _items(
        _SO,
        "Production Environment",
        (
            "signoff.prod.completed",
            "Deployment completed successfully",
            _STACK_STATUS + _REGION,
        ),
        ("signoff.prod.verified", "All verification steps passed"),
        ("signoff.prod.config-applied", "Production configuration applied"),
        (
            "signoff.prod.pitr",
            "PITR enabled",
            f"{_DDB} describe-continuous-backups --table-name {{sessions_table}} {_REGION}",
        ),
        ("signoff.prod.monitoring", "Monitoring confirmed"),
        ("signoff.prod.stakeholders", "Stakeholders notified"),
        ("signoff.prod.issues", "Issues documented (if any)"),
        ("signoff.prod.deployed-by", "Deployed by: ________________"),
        ("signoff.prod.approved-by", "Approved by: ________________"),
        ("signoff.prod.date", "Date: ________________"),
    )
)

# Lines a person ticks (the report says exactly what to do, with this deployment's values), and
# lines the machine ticks when the run has the evidence and hands to a person otherwise.
_MANUAL = (
    "docs.endpoint", "docs.user-pool", "docs.dashboard-url", "docs.alarm-recipients", "docs.notes",
    "rollback.identify", "rollback.lambda-logs", "rollback.decide", "rollback.cleanup-verified",
    "rollback.failure-documented", "rollback.fix", "rollback.retest", "rollback.redeploy",
    "signoff.staging.load-testing", "signoff.staging.performance", "signoff.prod.stakeholders",
)  # fmt: skip
_CONDITIONAL = {
    "pre.tests": "automatic with the pipeline's JUnit file (`--junit`), else a person runs "
    "`make test`",
    "pre.lint": "automatic from `make lint`'s record of this very code (reports/lint.json, "
    "written by ci.gates), else ruff alone runs and a person runs `make lint`",
    "monitoring.subscription-confirmed": "manual while the subscription is pending: a person "
    "clicks the confirmation link",
    "post.subscription-confirmed": "as monitoring.subscription-confirmed",
    **{
        f"signoff.{env}.{key}": "derived from the lines above it; manual while any of them is "
        "left to a person"
        for env, keys in {
            "dev": ("verified", "testing", "issues"),
            "staging": ("verified", "issues"),
            "prod": ("verified", "config-applied", "monitoring", "issues"),
        }.items()
        for key in keys
    },
    **{
        f"signoff.{env}.{who}": f"from `--{who}` (the pipeline passes it), else a person fills it"
        for env, whos in {
            "dev": ("deployed-by",),
            "staging": ("deployed-by",),
            "prod": ("deployed-by", "approved-by"),
        }.items()
        for who in whos
    },
}

_CONSOLE = (
    "a person's look at the AWS Console is replaced by reading what the console shows there "
    "(each resource's inventory and state), a facet the Deployment checks do not cover"
)
# Where AWS or the design disagrees with the checklist's wording: what the system does instead,
# and why (SPEC.md's "Where the checklist is wrong", and the repository's own choices).
_TIMEOUT = (
    "30 s exceeds API Gateway's 29 s integration limit: the client is answered at 29 s whatever "
    "the function does; the checklist's figure is kept and handlers work far below it."
)
DIFFERS: dict[str, str] = {
    "pre.cdk-cli": "the project pins the CLI in package-lock.json and installs it with `npm ci` "
    "(`make install`) instead of a global `npm install -g aws-cdk`",
    "pre.config-file": "this repository keeps the config in infra/config/, not "
    "infrastructure/config/",
    "pre.bootstrap-verified": "`cdk list` proves the app synthesizes for the environment; the "
    "bootstrap itself is read by pre.cdk-bootstrap",
    "functions.connection.deployed": _TIMEOUT,
    "functions.disconnect.deployed": _TIMEOUT,
    "functions.refresh.deployed": _TIMEOUT,
    "functions.log-retention": "CloudWatch Logs keeps at least 1 day and accepts only set values "
    "(1, 3, 5, 7, 14, 30… days): the configuration takes hours and rounds up to the next valid "
    "value, so the checklist's 12 hours is deployed as 1 day",
    "api.authorizer": "the authorizer has no identity source: one would make API Gateway answer "
    "401 without calling the authorizer when the token is absent, locking out anonymous listeners",
    "api.authorizer.refresh": "API Gateway WebSocket APIs accept an authorizer on $connect only "
    "(deploying one elsewhere fails); refreshConnection is protected by the identity $connect "
    "established, which rides on every message of that connection (requestContext.authorizer).",
    "post.tables": _CONSOLE,
    "post.functions": _CONSOLE,
    "post.api": _CONSOLE,
    "smoke.test-user": "the pipelines sign in as the environment's pre-provisioned smoke-test "
    "user (SMOKE_TEST_USERNAME, SMOKE_TEST_PASSWORD) and create no user, so no role needs Cognito "
    "admin rights; only the local environment creates a throwaway user, deleted at the end",
    "production.log-retention": "CloudWatch keeps logs at least 1 day, so the deployed groups "
    "hold 24 h or more by construction; what is checked is that prod's config asks for 24 h or "
    "more, and each group's exact value by functions.log-retention",
}

# How each section's checks verify their lines (a line's own command, when it has one, shows
# what it reads).
METHOD: dict[str, str] = {
    "pre-deployment": "reads the tools' versions, the config file as the CDK app loads it, the "
    "pipeline's JUnit file, a formatter run and the bootstrap stack",
    "tables": "describe-table / describe-time-to-live, against the table shapes of "
    "session_service.constants",
    "functions": "each function's configuration, environment, role policies and log group, "
    "against the function specs (session_service.specs) and the environment's config",
    "api": "the API, its routes, integrations, authorizer, stage and the functions' resource "
    "policies and roles",
    "monitoring": "each alarm's metric, dimensions, threshold and action; the topic and its email "
    "subscription",
    "post-deployment": "the stack's outputs (saved to reports/), and each resource as the console "
    "lists it",
    "smoke": "a real WebSocket client against the deployed endpoint, as a client lives: sign in, "
    "create a session, join, heartbeat, refresh, disconnect",
    "production": "PITR, custom domain and DNS, dashboard and prod's log retention; bound in prod, "
    "elsewhere checked where the config asks for the feature, otherwise skipped with the reason",
    "documentation": "the report tells a person exactly what to share, with this deployment's "
    "values; skipped for the local environment",
    "rollback": "only when the verification found a failing deployed component; otherwise "
    "skipped with that reason",
    "sign-off": "the sign-off of the verified environment, from the run's results and the "
    "pipeline's facts; the other environments' lines are skipped",
}


def _described(item: Item) -> Item:
    mode = (
        Mode.MANUAL
        if item.id in _MANUAL
        else Mode.CONDITIONAL if item.id in _CONDITIONAL else Mode.AUTOMATIC
    )
    return replace(item, mode=mode, differs=DIFFERS.get(item.id, ""))


CATALOGUE: tuple[Item, ...] = tuple(_described(item) for item in _LINES)
BY_ID: dict[str, Item] = {item.id: item for item in CATALOGUE}
# A fact about an id that is not in the catalogue is a typo: fail at import, not in a document.
_UNKNOWN = (set(_MANUAL) | set(_CONDITIONAL) | set(DIFFERS)) - set(BY_ID)
if _UNKNOWN:
    raise RuntimeError(f"facts about ids not in the catalogue: {sorted(_UNKNOWN)}")


def condition(item: Item) -> str:
    """For a line the machine ticks only with the evidence: when it falls to a person."""
    return _CONDITIONAL.get(item.id, "")


def items_of(section: str) -> tuple[Item, ...]:
    """The catalogue's items of one --section, in checklist order."""
    return tuple(item for item in CATALOGUE if item.section == section)


# --- the checklist file --------------------------------------------------------------------
_HEADING = re.compile(r"^(#{2,3})\s+(.*?)\s*$")
_ITEM = re.compile(r"^- \[[ xX]\]\s+(.*?)\s*$")


def parse_checklist(text: str) -> list[tuple[str, str, str]]:
    """Every ``- [ ]`` line as (## heading, ### heading, text); code blocks are skipped."""
    found: list[tuple[str, str, str]] = []
    heading = subheading = ""
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        match = _HEADING.match(line)
        if match:
            if len(match.group(1)) == 2:
                heading, subheading = match.group(2), ""
            else:
                subheading = match.group(2)
            continue
        match = _ITEM.match(line)
        if match:
            found.append((heading, subheading, match.group(1)))
    return found


CHECKLIST_VARIABLE = "DEPLOYMENT_CHECKLIST"
CHECKLIST_NAME = "DEPLOYMENT_CHECKLIST.md"


def checklist_candidates(repo_root: Path) -> list[Path]:
    """Where the original checklist may be, in order: ``$DEPLOYMENT_CHECKLIST``, then ``../shared``.

    The original is not in the repository (a clone has no copy); these are the places a
    checkout beside the team's shared folder, or a person who points at a copy, provides it.
    """
    places = [repo_root.parent / "shared" / CHECKLIST_NAME]
    named = os.environ.get(CHECKLIST_VARIABLE)
    return [Path(named).expanduser(), *places] if named else places


def checklist_path(repo_root: Path) -> Path | None:
    """The original checklist, or None when none of :func:`checklist_candidates` is a file."""
    return next((p for p in checklist_candidates(repo_root) if p.is_file()), None)
