"""Deploy a synthesized CloudFormation template into moto, resource by resource, from the template.

moto's CloudFormation creates most resource types; the rest it skips (ApiGatewayV2, CloudWatch
alarms, SNS subscriptions and topic policies, the API Gateway account) or creates incompletely
(it drops a table's TTL and point-in-time recovery, and a function's architecture, tags and
tracing). Those are created, or completed, here through their service APIs, with properties
taken from the same template and intrinsics resolved against what exists, so nothing is
described twice.

The deployment goes in waves, in dependency order: moto's CloudFormation creates (then updates
the stack with) every resource it supports whose references exist; then the service APIs create
every remaining resource whose references exist; and so on. Outputs join the stack as soon as
what they reference exists, with references to API-created resources replaced by their values,
so ``cloudformation.describe_stacks`` gives the real outputs, as in AWS.

Usable against moto's server (``endpoint_url``) and against in-process ``mock_aws``
(``endpoint_url=None``)::

    outputs = deploy_stack(template, stack_name="SessionManagement-local",
                           endpoint_url="http://127.0.0.1:5000", assets=cloud_assembly_dir)
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.intrinsics import Resolver, pseudo_parameters, references, substitute

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSET_CACHE = REPO_ROOT / ".build" / "local-assets"
CDK_BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
CDK_BOOTSTRAP_VERSION = "30"
# Types that describe nothing in AWS (CDK's usage analytics).
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
# Types moto's CloudFormation supports but creates incompletely; created through the API here.
API_CREATED_TYPES = frozenset({"AWS::Lambda::Function"})


Values = dict[str, Any]  # a resource's Ref and attributes


class DeployError(RuntimeError):
    """The template cannot be deployed into the emulator (the message says what and why)."""


@dataclass
class Clients:
    """boto3 clients for one account and region of the emulator."""

    session: boto3.Session
    endpoint_url: str | None
    region: str
    _cache: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self.session.client(
                service, endpoint_url=self.endpoint_url, region_name=self.region
            )
        return self._cache[service]


def make_session(region: str) -> boto3.Session:
    """A session with dummy credentials: the emulator never sees a real one."""
    return boto3.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the emulator's dummy credentials)
        region_name=region,
    )


# --- the deployment -----------------------------------------------------------------------------
def deploy_stack(
    template: Mapping[str, Any],
    *,
    stack_name: str,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    session: boto3.Session | None = None,
    assets: Path | None = None,
    parameters: Mapping[str, str] | None = None,
    api_created: dict[str, Values] | None = None,
) -> dict[str, str]:
    """Deploy ``template`` as ``stack_name``; return the stack's outputs (key -> value).

    ``assets`` is the cloud assembly directory (``cdk.out/<env>``) whose asset manifest lists the
    code assets to publish (CDK's bootstrap bucket is created if missing, as ``cdk bootstrap``
    would). ``endpoint_url=None`` talks to in-process ``mock_aws``. ``api_created``, when given,
    receives what was created outside the stack (logical id -> ``Type``, ``Ref``, attributes):
    :func:`delete_stack` needs it, since deleting the stack in moto leaves those behind.
    """
    clients = Clients(session or make_session(region), endpoint_url, region)
    deployment = _Deployment(copy.deepcopy(dict(template)), stack_name, clients, parameters or {})
    if assets is not None:
        publish_assets(clients, assets, stack_name, deployment.account_id)
    try:
        deployment.run()
    finally:
        if api_created is not None:
            api_created.update(
                {
                    k: {"Type": deployment.resources[k]["Type"], **v}
                    for k, v in deployment.values.items()
                }
            )
    return stack_outputs(clients("cloudformation"), stack_name)


def delete_stack(clients: Clients, stack_name: str, api_created: Mapping[str, Values]) -> None:
    """Delete what :func:`deploy_stack` created: the API-created resources, then the stack.

    moto's ``DeleteStack`` deletes what its CloudFormation created (tables, roles, log groups,
    the topic); what the deployer created through the service APIs is deleted here, so that the
    same template can be deployed again (its functions and tables have fixed names).
    """
    for logical_id, values in api_created.items():
        try:
            _delete_api_created(clients, values)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in _GONE:
                raise DeployError(f"cannot delete {logical_id} ({values['Type']}): {err}") from err
    cloudformation = clients("cloudformation")
    try:
        cloudformation.delete_stack(StackName=stack_name)
    except ClientError as err:
        raise DeployError(f"cannot delete stack {stack_name}: {err}") from err


_GONE = frozenset(
    {"ResourceNotFoundException", "NotFoundException", "NotFound", "ResourceNotFound"}
)


def _delete_api_created(clients: Clients, values: Mapping[str, Any]) -> None:
    kind, ref = values["Type"], values["Ref"]
    if kind == "AWS::Lambda::Function":
        clients("lambda").delete_function(FunctionName=ref)
    elif kind == "AWS::ApiGatewayV2::Api":
        clients("apigatewayv2").delete_api(ApiId=ref)  # its routes, integrations, stage with it
    elif kind == "AWS::CloudWatch::Alarm":
        clients("cloudwatch").delete_alarms(AlarmNames=[ref])
    elif kind == "AWS::SNS::Subscription" and ref.startswith("arn:"):
        clients("sns").unsubscribe(SubscriptionArn=ref)
    # The API's children go with the API, a topic policy with its topic (the stack's), and the
    # API Gateway account setting stays as AWS keeps it (it is per account, not per stack).


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def bootstrap(clients: Clients) -> None:
    """What ``cdk bootstrap`` leaves in an account that the template checks: its version."""
    ssm = clients("ssm")
    try:
        ssm.get_parameter(Name=CDK_BOOTSTRAP_VERSION_PARAMETER)
    except ClientError:
        ssm.put_parameter(
            Name=CDK_BOOTSTRAP_VERSION_PARAMETER, Value=CDK_BOOTSTRAP_VERSION, Type="String"
        )


def publish_assets(clients: Clients, cloud_assembly: Path, stack_name: str, account: str) -> None:
    """Upload the stack's file assets where the template expects them (``cdk-assets publish``)."""
    manifest_path = cloud_assembly / f"{stack_name}.assets.json"
    if not manifest_path.exists():
        raise DeployError(f"no asset manifest {manifest_path}")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("dockerImages"):
        raise DeployError("docker image assets cannot be deployed locally")
    s3 = clients("s3")
    for asset_id, asset in manifest.get("files", {}).items():
        source = asset["source"]
        if "path" not in source:
            raise DeployError(f"asset {asset_id}: only path sources are supported")
        body = _asset_bytes(cloud_assembly / source["path"], source.get("packaging"), asset_id)
        for destination in asset["destinations"].values():
            bucket = _placeholders(destination["bucketName"], account, clients.region)
            key = _placeholders(destination["objectKey"], account, clients.region)
            _ensure_bucket(s3, bucket, clients.region)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            logger.debug("published asset %s to s3://%s/%s", asset_id, bucket, key)


def _placeholders(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )


def _asset_bytes(path: Path, packaging: str | None, asset_id: str) -> bytes:
    if packaging != "zip" or path.is_file():
        return path.read_bytes()
    # The asset id is a hash of the directory's contents: a zip made once can be reused.
    cached = ASSET_CACHE / f"{asset_id}.zip"
    if cached.exists():
        return cached.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                archive.write(full, full.relative_to(path).as_posix())
    data = buffer.getvalue()
    ASSET_CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(cached)
    return data


# --- resource creation through the service APIs -----------------------------------------------
Creator = Callable[["_Deployment", str, dict[str, Any]], Values]


def _api_params(client: Any, operation: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The properties that ``operation`` takes (CloudFormation and API names agree here)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    dropped = sorted(set(properties) - set(members))
    if dropped:
        logger.debug("%s: properties without an API parameter: %s", operation, dropped)
    return {k: v for k, v in properties.items() if k in members}


def _create_function(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
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
    def create(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
        client = d.clients("apigatewayv2")
        method = getattr(client, _snake(operation))
        created = method(**_api_params(client, operation, props))
        values = {k: v for k, v in created.items() if isinstance(v, str)}
        values["Ref"] = created[ref_key or id_key]
        return values

    return create


def _create_api(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    if "Body" in props or "BodyS3Location" in props:
        raise DeployError(f"{logical_id}: an API imported from a definition is not supported")
    values = _apigwv2("CreateApi", "ApiId")(d, logical_id, props)
    scheme = "wss" if props.get("ProtocolType") == "WEBSOCKET" else "https"
    # As AWS reports it (moto reports https for WebSocket APIs too).
    values["ApiEndpoint"] = (
        f"{scheme}://{values['ApiId']}.execute-api.{d.clients.region}.amazonaws.com"
    )
    return values


def _create_authorizer(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    # CloudFormation allows no identity source (a WebSocket REQUEST authorizer then runs on
    # every $connect); the API's model requires the member, and an empty list means none.
    props = {"IdentitySource": [], **props}
    return _apigwv2("CreateAuthorizer", "AuthorizerId")(d, logical_id, props)


def _create_apigw_account(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    role = props.get("CloudWatchRoleArn")
    if role:
        d.clients("apigateway").update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
        )
    return {"Ref": f"{d.stack_name}-{logical_id}", "Id": f"{d.stack_name}-{logical_id}"}


def _create_alarm(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
    cloudwatch = d.clients("cloudwatch")
    props = dict(props)
    props.setdefault("AlarmName", d.generated_name(logical_id, 255))
    cloudwatch.put_metric_alarm(**_api_params(cloudwatch, "PutMetricAlarm", props))
    name = props["AlarmName"]
    arn = f"arn:aws:cloudwatch:{d.clients.region}:{d.account_id}:alarm:{name}"
    return {"Ref": name, "Arn": arn}


_SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def _create_subscription(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
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


def _create_topic_policy(d: _Deployment, logical_id: str, props: dict[str, Any]) -> Values:
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
    "AWS::CloudWatch::Alarm": _create_alarm,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::SNS::TopicPolicy": _create_topic_policy,
}


# --- completing what moto's CloudFormation creates incompletely -------------------------------
def _complete_table(d: _Deployment, name: str, props: Mapping[str, Any]) -> None:
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


def _complete_log_group(d: _Deployment, name: str, props: Mapping[str, Any]) -> None:
    if "RetentionInDays" in props:
        d.clients("logs").put_retention_policy(
            logGroupName=name, retentionInDays=int(props["RetentionInDays"])
        )


COMPLETERS: dict[str, Callable[[_Deployment, str, Mapping[str, Any]], None]] = {
    "AWS::DynamoDB::Table": _complete_table,
    "AWS::Logs::LogGroup": _complete_log_group,
}


# --- attributes of the resources moto's CloudFormation created --------------------------------
def _cfn_attribute(d: _Deployment, resource_type: str, physical_id: str, attribute: str) -> Any:
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


class _Deployment:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        clients: Clients,
        parameters: Mapping[str, str],
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.clients = clients
        self.account_id = clients("sts").get_caller_identity()["Account"]
        self.resources: dict[str, dict[str, Any]] = {
            k: v
            for k, v in template.get("Resources", {}).items()
            if v.get("Type") not in IGNORED_TYPES
        }
        self.values: dict[str, Values] = {}  # created through the API: Ref and attributes
        self.in_stack: dict[str, str] = {}  # created by CloudFormation: physical id
        self.outputs_added: set[str] = set()
        self.stack_exists = False
        self.given_parameters = dict(parameters)
        self.parameters = self._parameters(parameters)
        self.resolver = Resolver(
            self._ref,
            self._get_att,
            self.parameters,
            template.get("Conditions"),
            template.get("Mappings"),
        )
        for logical_id, resource in list(self.resources.items()):
            condition = resource.get("Condition")
            if condition and not self.resolver.condition(condition):
                del self.resources[logical_id]
        self._check_types()

    # --- parameters, references --------------------------------------------------------------
    def _parameters(self, given: Mapping[str, str]) -> dict[str, Any]:
        """Pseudo parameters and the template's parameters that resources or outputs use.

        CDK's ``BootstrapVersion`` is only read by the template's ``Rules`` (which moto does not
        evaluate): it is left out rather than resolved from SSM.
        """
        values = pseudo_parameters(self.clients.region, self.account_id, self.stack_name)
        used = references([self.resources, self.template.get("Outputs", {})])
        declared = self.template.get("Parameters", {})
        self.template["Parameters"] = {k: v for k, v in declared.items() if k in used}
        for name, spec in self.template["Parameters"].items():
            value = given.get(name, spec.get("Default"))
            if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                bootstrap(self.clients)
                value = self.clients("ssm").get_parameter(Name=value)["Parameter"]["Value"]
            values[name] = value
        return values

    def generated_name(self, logical_id: str, limit: int) -> str:
        suffix = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:12]
        return f"{self.stack_name}-{logical_id}"[: limit - 13] + f"-{suffix.upper()}"

    def _ref(self, logical_id: str) -> Any:
        if logical_id in self.values:
            return self.values[logical_id]["Ref"]
        if logical_id in self.in_stack:
            return self.in_stack[logical_id]
        raise DeployError(f"Ref {logical_id}: not created yet")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id in self.values:
            if attribute not in self.values[logical_id]:
                raise DeployError(f"Fn::GetAtt {logical_id}.{attribute} is not known")
            return self.values[logical_id][attribute]
        if logical_id in self.in_stack:
            resource_type = self.resources[logical_id]["Type"]
            return _cfn_attribute(self, resource_type, self.in_stack[logical_id], attribute)
        raise DeployError(f"Fn::GetAtt {logical_id}.{attribute}: not created yet")

    def _by_api(self, logical_id: str) -> bool:
        return self.resources[logical_id]["Type"] in CREATORS

    def _check_types(self) -> None:
        from moto.cloudformation.parsing import get_model_map

        supported = set(get_model_map())
        unknown = sorted(
            {
                r["Type"]
                for r in self.resources.values()
                if r["Type"] not in CREATORS
                and (r["Type"] not in supported or r["Type"].startswith("Custom::"))
            }
        )
        if unknown:
            raise DeployError(f"resource types the local deployer cannot create: {unknown}")

    def _dependencies(self, node: Any) -> set[str]:
        return {r for r in references(node) if r in self.resources}

    def _resource_dependencies(self, logical_id: str) -> set[str]:
        resource = self.resources[logical_id]
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        found = self._dependencies(resource.get("Properties", {})) | set(depends_on)
        return {d for d in found if d in self.resources}

    def _created(self) -> set[str]:
        return set(self.values) | set(self.in_stack)

    # --- waves ---------------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            remaining = set(self.resources) - self._created()
            if not remaining:
                break
            progressed = self._cloudformation_wave(remaining)
            progressed |= self._api_wave()
            if not progressed:
                raise DeployError(f"cannot order the creation of {sorted(remaining)}")
        if set(self.template.get("Outputs", {})) - self.outputs_added or not self.stack_exists:
            self._stack_operation(set(self.in_stack))
        self._complete()
        logger.info(
            "deployed %s: %d resources by CloudFormation, %d through the service APIs",
            self.stack_name,
            len(self.in_stack),
            len(self.values),
        )

    def _cloudformation_wave(self, remaining: set[str]) -> bool:
        candidates = {r for r in remaining if not self._by_api(r)}
        created = self._created()
        changed = True
        while changed:  # keep those whose references exist or are in this wave
            changed = False
            for logical_id in sorted(candidates):
                if not self._resource_dependencies(logical_id) <= created | candidates:
                    candidates.discard(logical_id)
                    changed = True
        if not candidates:
            return False
        self._stack_operation(set(self.in_stack) | candidates)
        return True

    def _api_wave(self) -> bool:
        progressed = False
        while True:
            created = self._created()
            ready = sorted(
                r
                for r in set(self.resources) - created
                if self._by_api(r) and self._resource_dependencies(r) <= created
            )
            if not ready:
                return progressed
            for logical_id in ready:
                resource = self.resources[logical_id]
                properties = self.resolver.resolve(resource.get("Properties", {}))
                self.values[logical_id] = CREATORS[resource["Type"]](self, logical_id, properties)
                logger.debug("created %s (%s)", logical_id, resource["Type"])
                progressed = True

    def _stack_operation(self, logical_ids: set[str]) -> None:
        """Create or update the stack with these resources and every output they allow."""
        known = {**self._attribute_corrections(logical_ids), **self.values}
        resources = {}
        for logical_id in sorted(logical_ids):
            resource = copy.deepcopy(self.resources[logical_id])
            if "DependsOn" in resource:
                depends = resource["DependsOn"]
                depends = [depends] if isinstance(depends, str) else depends
                kept = [d for d in depends if d in logical_ids]
                resource["DependsOn"] = kept
                if not kept:
                    del resource["DependsOn"]
            resources[logical_id] = substitute(resource, known)
        outputs = {}
        available = logical_ids | set(self.values)
        for key, output in self.template.get("Outputs", {}).items():
            if output.get("Condition") and not self.resolver.condition(output["Condition"]):
                continue
            if self._dependencies(output) <= available:
                outputs[key] = substitute(output, known)
        body: dict[str, Any] = {
            k: v
            for k, v in self.template.items()
            if k in ("AWSTemplateFormatVersion", "Description", "Parameters", "Conditions")
        }
        body["Resources"] = resources
        if outputs:
            body["Outputs"] = outputs
        self._submit(body, update=self.stack_exists)
        self.stack_exists = True
        self.outputs_added = set(outputs)
        self._read_physical_ids()

    def _attribute_corrections(self, logical_ids: set[str]) -> dict[str, Values]:
        """Attributes moto's CloudFormation reports unlike AWS, replaced by AWS's value.

        ``Fn::GetAtt LogGroup.Arn`` is ``arn:…:log-group:NAME:*`` in AWS (so a policy on it covers
        the group's log streams); moto gives it without ``:*``.
        """
        corrections: dict[str, Values] = {}
        for logical_id in logical_ids:
            resource = self.resources[logical_id]
            name = resource.get("Properties", {}).get("LogGroupName")
            if resource["Type"] == "AWS::Logs::LogGroup" and isinstance(name, str):
                region, account = self.clients.region, self.account_id
                corrections[logical_id] = {
                    "Arn": f"arn:aws:logs:{region}:{account}:log-group:{name}:*"
                }
        return corrections

    def _submit(self, body: dict[str, Any], update: bool) -> None:
        cloudformation = self.clients("cloudformation")
        arguments = {
            "StackName": self.stack_name,
            "TemplateBody": json.dumps(body),
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": str(v)}
                for k, v in self.given_parameters.items()
                if k in self.template["Parameters"]
            ],
        }
        if update:
            cloudformation.update_stack(**arguments)
        else:
            cloudformation.create_stack(**arguments)
        [stack] = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"]
        if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
            events = cloudformation.describe_stack_events(StackName=self.stack_name)
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                for e in events["StackEvents"]
                if "FAILED" in e.get("ResourceStatus", "")
            ]
            raise DeployError(f"stack {stack['StackStatus']}: {reasons}")

    def _read_physical_ids(self) -> None:
        cloudformation = self.clients("cloudformation")
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack_name):
            for summary in page["StackResourceSummaries"]:
                if summary["LogicalResourceId"] in self.resources:
                    self.in_stack[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]

    def _complete(self) -> None:
        for logical_id, physical_id in self.in_stack.items():
            resource = self.resources[logical_id]
            completer = COMPLETERS.get(resource["Type"])
            if completer is not None:
                completer(self, physical_id, self.resolver.resolve(resource.get("Properties", {})))
