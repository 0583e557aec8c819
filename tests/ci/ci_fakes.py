"""A correct ``SessionManagement-{env}`` deployment built in moto with boto3, for the ci/ tests.

Built from the same sources the CDK app reads (infra/config, session_service.constants,
infra/permissions.py) the way the stack builds it, so every automatic check has something real
to read; the broken-deployment tests then change one thing each.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra import permissions
from infra.config import ConfigWarning, load_config
from session_service import constants as C

# The sections whose every line a machine checks against the deployment.
AUTOMATIC_SECTIONS = ("tables", "functions", "api", "monitoring", "post-deployment", "production")

ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


@dataclass
class FakeDeployment:
    env: str
    region: str
    account: str
    outputs: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # key -> table ARN
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)  # route key -> route id
    authorizer_id: str = ""
    api_id: str = ""
    topic_arn: str = ""
    alarm_names: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)


def deploy(env: str) -> FakeDeployment:
    """Create every resource of the stack in the active moto mock; return what was made."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        config = load_config(env)
    dep = FakeDeployment(env=env, region=config.region, account=config.account)
    _tables(dep, config)
    _cognito(dep)
    _api(dep, config)
    _functions(dep, config)
    _wire_api(dep, config)
    _monitoring(dep, config)
    _stack(dep, config)
    return dep


def _tables(dep: FakeDeployment, config: Any) -> None:
    ddb = dep.client("dynamodb")
    for key, spec in C.TABLES.items():
        name = str(spec["name"]).format(env=dep.env)
        attributes = {str(spec["partition_key"])}
        indexes = []
        for index in spec["indexes"]:  # type: ignore[attr-defined]
            attributes |= {index["partition_key"], index["sort_key"]}
            indexes.append(
                {
                    "IndexName": index["name"],
                    "KeySchema": [
                        {"AttributeName": index["partition_key"], "KeyType": "HASH"},
                        {"AttributeName": index["sort_key"], "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": index["projection"]},
                }
            )
        kwargs: dict[str, Any] = {}
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        table = ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": spec["partition_key"], "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
            ],
            BillingMode="PAY_PER_REQUEST",
            **kwargs,
        )
        dep.tables[key] = table["TableDescription"]["TableArn"]
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttl_attribute"]},
        )
        if config.production.point_in_time_recovery:
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
    dep.outputs[C.OUTPUT_SESSIONS_TABLE] = C.SESSIONS_TABLE_TEMPLATE.format(env=dep.env)
    dep.outputs[C.OUTPUT_CONNECTIONS_TABLE] = C.CONNECTIONS_TABLE_TEMPLATE.format(env=dep.env)
    dep.outputs[C.OUTPUT_RATE_LIMITS_TABLE] = C.RATE_LIMITS_TABLE_TEMPLATE.format(env=dep.env)


def _cognito(dep: FakeDeployment) -> None:
    cognito = dep.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"session-management-{dep.env}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    dep.outputs[C.OUTPUT_USER_POOL_ID] = pool
    dep.outputs[C.OUTPUT_APP_CLIENT_ID] = client


def _api(dep: FakeDeployment, config: Any) -> None:
    api = dep.client("apigatewayv2").create_api(
        Name=C.API_NAME_TEMPLATE.format(env=dep.env),
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression=C.ROUTE_SELECTION_EXPRESSION,
    )
    dep.api_id = api["ApiId"]
    host = f"{dep.api_id}.execute-api.{dep.region}.amazonaws.com/{config.stage_name}"
    dep.outputs[C.OUTPUT_API_ID] = dep.api_id
    dep.outputs[C.OUTPUT_STAGE_NAME] = config.stage_name
    dep.outputs[C.OUTPUT_WEBSOCKET_URL] = f"wss://{host}"
    dep.outputs[C.OUTPUT_CALLBACK_URL] = f"https://{host}"


def _environment(dep: FakeDeployment, config: Any) -> dict[str, str]:
    limits = config.limits
    return {
        C.ENV_ENVIRONMENT: dep.env,
        C.ENV_LOG_LEVEL: config.log_level,
        C.ENV_POWERTOOLS_SERVICE_NAME: C.SERVICE_NAME,
        C.ENV_POWERTOOLS_METRICS_NAMESPACE: C.METRICS_NAMESPACE,
        C.ENV_SESSIONS_TABLE: dep.outputs[C.OUTPUT_SESSIONS_TABLE],
        C.ENV_CONNECTIONS_TABLE: dep.outputs[C.OUTPUT_CONNECTIONS_TABLE],
        C.ENV_RATE_LIMITS_TABLE: dep.outputs[C.OUTPUT_RATE_LIMITS_TABLE],
        C.ENV_CALLBACK_URL: dep.outputs[C.OUTPUT_CALLBACK_URL],
        C.ENV_SUPPORTED_LANGUAGES: ",".join(config.supported_languages),
        C.ENV_MAX_LISTENERS_PER_SESSION: str(limits.max_listeners_per_session),
        C.ENV_MAX_ACTIVE_SESSIONS: str(limits.max_active_sessions),
        C.ENV_SESSION_DURATION_MINUTES: str(limits.session_duration_minutes),
        C.ENV_CONNECTION_TTL_MINUTES: str(limits.connection_ttl_minutes),
        C.ENV_CONNECTION_REFRESH_MINUTES: str(limits.connection_refresh_minutes),
        C.ENV_CONNECTION_WARNING_MINUTES: str(limits.connection_warning_minutes),
        C.ENV_SESSION_CREATE_LIMIT_PER_HOUR: str(limits.session_create_limit_per_hour),
        C.ENV_LISTENER_JOIN_LIMIT_PER_MINUTE: str(limits.listener_join_limit_per_minute),
        C.ENV_CONNECTION_ATTEMPT_LIMIT_PER_MINUTE: str(limits.connection_attempt_limit_per_minute),
        C.ENV_HEARTBEAT_LIMIT_PER_MINUTE: str(limits.heartbeat_limit_per_minute),
        C.ENV_USER_POOL_ID: dep.outputs[C.OUTPUT_USER_POOL_ID],
        C.ENV_APP_CLIENT_ID: dep.outputs[C.OUTPUT_APP_CLIENT_ID],
    }


def _policy(dep: FakeDeployment, config: Any, handler: str, log_group: str) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{dep.region}:{dep.account}:log-group:{log_group}:*",
        }
    ]
    for grant in permissions.HANDLER_PERMISSIONS[handler]:
        if grant.target == permissions.CONNECTIONS_API:
            resources = [
                f"arn:aws:execute-api:{dep.region}:{dep.account}:{dep.api_id}/"
                f"{config.stage_name}/{method}/@connections/*"
                for method in grant.actions
            ]
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "execute-api:ManageConnections",
                    "Resource": resources,
                }
            )
            continue
        if grant.target == permissions.CONNECTIONS_GSI:
            resource = f"{dep.tables['connections']}/index/*"
        else:
            resource = dep.tables[grant.target]
        statements.append({"Effect": "Allow", "Action": list(grant.actions), "Resource": resource})
    return {"Version": "2012-10-17", "Statement": statements}


def _functions(dep: FakeDeployment, config: Any) -> None:
    iam, lam = dep.client("iam"), dep.client("lambda")
    variables = _environment(dep, config)
    for handler, (template, entry) in C.FUNCTIONS.items():
        name = template.format(env=dep.env)
        log_group = f"/aws/lambda/{name}"
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=ASSUME_LAMBDA)
        iam.put_role_policy(
            RoleName=f"{name}-role",
            PolicyName="handler",
            PolicyDocument=json.dumps(_policy(dep, config, handler, log_group)),
        )
        memory, timeout = C.FUNCTION_SIZES[handler]
        created = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler=entry,
            Code={"ZipFile": _zip()},
            MemorySize=memory,
            Timeout=timeout,
            Environment={"Variables": {k: variables[k] for k in C.HANDLER_ENVIRONMENT[handler]}},
        )
        dep.functions[handler] = created
        dep.outputs[C.OUTPUT_FUNCTION_NAMES[handler]] = name


def _integration(dep: FakeDeployment, handler: str) -> str:
    arn = dep.functions[handler]["FunctionArn"]
    uri = f"arn:aws:apigateway:{dep.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    return uri


def _wire_api(dep: FakeDeployment, config: Any) -> None:
    gw, lam = dep.client("apigatewayv2"), dep.client("lambda")
    authorizer = gw.create_authorizer(
        ApiId=dep.api_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=_integration(dep, "authorizer"),
        Name=C.AUTHORIZER_NAME,
        IdentitySource=[],
    )
    dep.authorizer_id = authorizer["AuthorizerId"]
    for key, handler in C.ROUTES.items():
        integration = gw.create_integration(
            ApiId=dep.api_id, IntegrationType="AWS_PROXY", IntegrationUri=_integration(dep, handler)
        )
        kwargs: dict[str, Any] = {}
        if key == "$connect":
            kwargs = {"AuthorizationType": "CUSTOM", "AuthorizerId": dep.authorizer_id}
        route = gw.create_route(
            ApiId=dep.api_id,
            RouteKey=key,
            Target=f"integrations/{integration['IntegrationId']}",
            **kwargs,
        )
        dep.routes[key] = route["RouteId"]
    for handler in C.FUNCTIONS:
        lam.add_permission(
            FunctionName=dep.functions[handler]["FunctionName"],
            StatementId="apigateway",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"arn:aws:execute-api:{dep.region}:{dep.account}:{dep.api_id}/*",
        )
    gw.create_stage(  # the stack's stage auto-deploys (moto has no create_deployment)
        ApiId=dep.api_id,
        StageName=config.stage_name,
        AutoDeploy=True,
        DefaultRouteSettings={
            "ThrottlingRateLimit": config.throttling.rate_limit,
            "ThrottlingBurstLimit": config.throttling.burst_limit,
        },
    )


def _monitoring(dep: FakeDeployment, config: Any) -> None:
    sns, cw = dep.client("sns"), dep.client("cloudwatch")
    dep.topic_arn = sns.create_topic(Name=C.ALARM_TOPIC_TEMPLATE.format(env=dep.env))["TopicArn"]
    sns.subscribe(TopicArn=dep.topic_arn, Protocol="email", Endpoint=config.alarm_email)
    dep.outputs[C.OUTPUT_ALARM_TOPIC_ARN] = dep.topic_arn
    names = C.alarm_names(dep.env)
    dims = [{"Name": k, "Value": v} for k, v in C.metric_dimensions(dep.env).items()]
    thresholds = config.alarms
    service = {
        C.ALARM_SESSION_CREATION_LATENCY: (
            C.METRIC_SESSION_CREATION_LATENCY,
            {"ExtendedStatistic": "p95"},
            thresholds.session_creation_latency_p95_ms,
        ),
        C.ALARM_CONNECTION_ERRORS: (
            C.METRIC_CONNECTION_ERRORS,
            {"Statistic": "Sum"},
            thresholds.connection_errors_per_5min,
        ),
        C.ALARM_ACTIVE_SESSIONS: (
            C.METRIC_ACTIVE_SESSIONS,
            {"Statistic": "Maximum"},
            thresholds.active_sessions_max,
        ),
    }
    for key, (metric, statistic, threshold) in service.items():
        cw.put_metric_alarm(
            AlarmName=names[key],
            Namespace=C.METRICS_NAMESPACE,
            MetricName=metric,
            Dimensions=dims,
            Period=300,
            EvaluationPeriods=1,
            Threshold=float(threshold),
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[dep.topic_arn],
            **statistic,
        )
        dep.alarm_names[key] = names[key]
    for handler in C.FUNCTIONS:
        key = C.ALARM_FUNCTION_ERRORS_TEMPLATE.format(handler=handler)
        cw.put_metric_alarm(
            AlarmName=names[key],
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": dep.functions[handler]["FunctionName"]}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=float(thresholds.lambda_errors_per_5min),
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[dep.topic_arn],
        )
        dep.alarm_names[key] = names[key]
    dashboard = C.DASHBOARD_NAME_TEMPLATE.format(env=dep.env)
    body = {
        "widgets": [
            {
                "type": "metric",
                "properties": {
                    "metrics": [
                        [C.METRICS_NAMESPACE, C.METRIC_SESSION_CREATION_LATENCY],
                        [C.METRICS_NAMESPACE, C.METRIC_ACTIVE_SESSIONS],
                    ],
                    "region": dep.region,
                },
            }
        ]
    }
    cw.put_dashboard(DashboardName=dashboard, DashboardBody=json.dumps(body))
    dep.outputs[C.OUTPUT_DASHBOARD_NAME] = dashboard


def _stack(dep: FakeDeployment, config: Any) -> None:
    """The stack: it owns the log groups (retention from config) and carries the outputs."""
    resources = {
        f"{handler.capitalize()}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{dep.functions[handler]['FunctionName']}",
                "RetentionInDays": config.log_retention_days,
            },
        }
        for handler in C.FUNCTIONS
    }
    outputs = {key: {"Value": value} for key, value in dep.outputs.items()}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
        "Outputs": outputs,
    }
    dep.client("cloudformation").create_stack(
        StackName=C.STACK_NAME_TEMPLATE.format(env=dep.env), TemplateBody=json.dumps(template)
    )
