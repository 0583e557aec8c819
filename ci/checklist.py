"""The deployment checklist as a catalogue: every line of DEPLOYMENT_CHECKLIST.md, one check id.

The wording is kept here verbatim so that the reports speak in the checklist's own words even
where the checklist file is not at hand; a test parses the file (when it exists) and proves the
catalogue maps every line to exactly one id. ``command`` is the ``aws ...`` command a person runs
to see what the check read, filled in with the environment's names when reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Item:
    """One checklist line and the check that answers it."""

    id: str
    heading: str
    subheading: str
    text: str
    command: str = ""

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

CATALOGUE: tuple[Item, ...] = tuple(
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

BY_ID: dict[str, Item] = {item.id: item for item in CATALOGUE}


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


def checklist_path(repo_root: Path) -> Path:
    """Where the checklist lives: beside the repository (``../shared``), as CI provides it."""
    return repo_root.parent / "shared" / "DEPLOYMENT_CHECKLIST.md"
