"""Resource creators: what moto's CloudFormation skips or creates incompletely, made through the
service APIs from the template's resolved properties; the completers for what it creates but
leaves incomplete; the attributes of what it created; and the deletion of what was created here.

A creator sees the deployment through :class:`Deployment`, the little the waves expose to it.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from local import moto_cloudwatch
from local.deploy.clients import Clients, DeployError, Values

logger = logging.getLogger("local.deploy")  # one logger for the whole deployer

# Types moto's CloudFormation supports but creates incompletely; created through the API here.
API_CREATED_TYPES = frozenset({"AWS::Lambda::Function"})


class Deployment(Protocol):
    """What a creator, a completer or an attribute reader needs of the deployment under way."""

    clients: Clients
    stack_name: str
    account_id: str

    def generated_name(self, logical_id: str, limit: int) -> str: ...


# --- resource creation through the service APIs -----------------------------------------------
Creator = Callable[[Deployment, str, dict[str, Any]], Values]


def _api_params(client: Any, operation: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The properties that ``operation`` takes (CloudFormation and API names agree here)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    dropped = sorted(set(properties) - set(members))
    if dropped:
        logger.debug("%s: properties without an API parameter: %s", operation, dropped)
    return {k: v for k, v in properties.items() if k in members}


def _create_function(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    lambda_ = d.clients("lambda")
    props = dict(props)
    props.setdefault("FunctionName", d.generated_name(logical_id, 64))
    code = dict(props.get("Code", {}))
    if isinstance(code.get("ZipFile"), str):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("index.py", code["ZipFile"])
        code["ZipFile"] = buffer.getvalue()
    props["Code"] = code
    if isinstance(props.get("Tags"), list):
        props["Tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
    reserved = props.pop("ReservedConcurrentExecutions", None)
    created = lambda_.create_function(**_api_params(lambda_, "CreateFunction", props))
    if reserved is not None:
        lambda_.put_function_concurrency(
            FunctionName=created["FunctionName"], ReservedConcurrentExecutions=int(reserved)
        )
    return {"Ref": created["FunctionName"], "Arn": created["FunctionArn"]}


def _apigwv2(operation: str, id_key: str, ref_key: str | None = None) -> Creator:
    def create(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
        client = d.clients("apigatewayv2")
        method = getattr(client, _snake(operation))
        created = method(**_api_params(client, operation, props))
        values = {k: v for k, v in created.items() if isinstance(v, str)}
        values["Ref"] = created[ref_key or id_key]
        return values

    return create


def _create_api(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    if "Body" in props or "BodyS3Location" in props:
        raise DeployError(f"{logical_id}: an API imported from a definition is not supported")
    values = _apigwv2("CreateApi", "ApiId")(d, logical_id, props)
    scheme = "wss" if props.get("ProtocolType") == "WEBSOCKET" else "https"
    # As AWS reports it (moto reports https for WebSocket APIs too).
    values["ApiEndpoint"] = (
        f"{scheme}://{values['ApiId']}.execute-api.{d.clients.region}.amazonaws.com"
    )
    return values


def _create_authorizer(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    # CloudFormation allows no identity source (a WebSocket REQUEST authorizer then runs on
    # every $connect); the API's model requires the member, and an empty list means none.
    props = {"IdentitySource": [], **props}
    return _apigwv2("CreateAuthorizer", "AuthorizerId")(d, logical_id, props)


def _create_apigw_account(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    role = props.get("CloudWatchRoleArn")
    if role:
        d.clients("apigateway").update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
        )
    return {"Ref": f"{d.stack_name}-{logical_id}", "Id": f"{d.stack_name}-{logical_id}"}


def _alarm_creator(operation: str) -> Creator:
    """A metric (``PutMetricAlarm``) or composite (``PutCompositeAlarm``) alarm's creator."""

    def create(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
        if operation == "PutCompositeAlarm" and d.clients.endpoint_url is None:
            # in-process mock_aws: moto stores composites but has no such action; moto's server
            # installs it itself (local/moto_server.py), in its own process or in this one
            moto_cloudwatch.install()
        cloudwatch = d.clients("cloudwatch")
        props = dict(props)
        props.setdefault("AlarmName", d.generated_name(logical_id, 255))
        getattr(cloudwatch, _snake(operation))(**_api_params(cloudwatch, operation, props))
        name = props["AlarmName"]
        arn = f"arn:aws:cloudwatch:{d.clients.region}:{d.account_id}:alarm:{name}"
        return {"Ref": name, "Arn": arn}

    return create


_SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def _create_subscription(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    attributes = {}
    for name in _SUBSCRIPTION_ATTRIBUTES:
        if name in props:
            value = props[name]
            attributes[name] = value if isinstance(value, str) else json.dumps(value)
            if isinstance(value, bool):
                attributes[name] = "true" if value else "false"
    arn = (
        d.clients("sns")
        .subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        .get("SubscriptionArn")
    )
    return {"Ref": arn}


def _create_event_invoke_config(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    """A function's asynchronous-invocation settings (moto's CloudFormation lacks the type)."""
    lambda_ = d.clients("lambda")
    lambda_.put_function_event_invoke_config(
        **_api_params(lambda_, "PutFunctionEventInvokeConfig", props)
    )
    return {"Ref": f"{props['FunctionName']}:{props.get('Qualifier', '$LATEST')}"}


def _create_topic_policy(d: Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    document = json.dumps(props["PolicyDocument"])
    for topic in props.get("Topics", []):
        d.clients("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=document
        )
    return {"Ref": f"{d.stack_name}-{logical_id}"}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


CREATORS: dict[str, Creator] = {
    "AWS::Lambda::Function": _create_function,
    "AWS::ApiGatewayV2::Api": _create_api,
    "AWS::ApiGatewayV2::Authorizer": _create_authorizer,
    "AWS::ApiGatewayV2::Integration": _apigwv2("CreateIntegration", "IntegrationId"),
    "AWS::ApiGatewayV2::IntegrationResponse": _apigwv2(
        "CreateIntegrationResponse", "IntegrationResponseId"
    ),
    "AWS::ApiGatewayV2::Route": _apigwv2("CreateRoute", "RouteId"),
    "AWS::ApiGatewayV2::RouteResponse": _apigwv2("CreateRouteResponse", "RouteResponseId"),
    "AWS::ApiGatewayV2::Stage": _apigwv2("CreateStage", "StageName"),
    "AWS::ApiGatewayV2::Deployment": _apigwv2("CreateDeployment", "DeploymentId"),
    "AWS::ApiGateway::Account": _create_apigw_account,
    "AWS::CloudWatch::Alarm": _alarm_creator("PutMetricAlarm"),
    "AWS::CloudWatch::CompositeAlarm": _alarm_creator("PutCompositeAlarm"),
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::SNS::TopicPolicy": _create_topic_policy,
    "AWS::Lambda::EventInvokeConfig": _create_event_invoke_config,
}


# --- completing what moto's CloudFormation creates incompletely -------------------------------
def _complete_table(d: Deployment, name: str, props: Mapping[str, Any]) -> None:
    dynamodb = d.clients("dynamodb")
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr is not None:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))
            },
        )


def _complete_log_group(d: Deployment, name: str, props: Mapping[str, Any]) -> None:
    if "RetentionInDays" in props:
        d.clients("logs").put_retention_policy(
            logGroupName=name, retentionInDays=int(props["RetentionInDays"])
        )


COMPLETERS: dict[str, Callable[[Deployment, str, Mapping[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _complete_table,
    "AWS::Logs::LogGroup": _complete_log_group,
}


# --- attributes of the resources moto's CloudFormation created --------------------------------
def cfn_attribute(d: Deployment, resource_type: str, physical_id: str, attribute: str) -> Any:
    region, account = d.clients.region, d.account_id
    if resource_type == "AWS::IAM::Role":
        role = d.clients("iam").get_role(RoleName=physical_id)["Role"]
        return {"Arn": role["Arn"], "RoleId": role["RoleId"]}[attribute]
    if resource_type == "AWS::Logs::LogGroup" and attribute == "Arn":
        return f"arn:aws:logs:{region}:{account}:log-group:{physical_id}:*"
    if resource_type == "AWS::DynamoDB::Table":
        table = d.clients("dynamodb").describe_table(TableName=physical_id)["Table"]
        return {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}[attribute]
    if resource_type == "AWS::SNS::Topic":
        return {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]}[attribute]
    if resource_type == "AWS::IAM::ManagedPolicy" and attribute == "PolicyArn":
        return physical_id
    raise DeployError(f"Fn::GetAtt {attribute} of a {resource_type} is not supported locally")


# --- deleting what was created here ----------------------------------------------------------
# Error codes of a resource that is already gone (a repeated delete is not a failure).
GONE = frozenset({"ResourceNotFoundException", "NotFoundException", "NotFound", "ResourceNotFound"})


def delete_api_created(clients: Clients, values: Mapping[str, Any]) -> None:
    kind, ref = values["Type"], values["Ref"]
    if kind == "AWS::Lambda::Function":
        clients("lambda").delete_function(FunctionName=ref)
    elif kind == "AWS::ApiGatewayV2::Api":
        clients("apigatewayv2").delete_api(ApiId=ref)  # its routes, integrations, stage with it
    elif kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
        clients("cloudwatch").delete_alarms(AlarmNames=[ref])
    elif kind == "AWS::Lambda::EventInvokeConfig":
        clients("lambda").delete_function_event_invoke_config(FunctionName=ref.split(":")[0])
    elif kind == "AWS::SNS::Subscription" and ref.startswith("arn:"):
        clients("sns").unsubscribe(SubscriptionArn=ref)
    # The API's children go with the API, a topic policy with its topic (the stack's), and the
    # API Gateway account setting stays as AWS keeps it (it is per account, not per stack).
