"""The deployer on a small hand-written template shaped like CDK's output, in-process moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.deploy import Clients, DeployError, delete_stack, deploy_stack

REGION = "us-east-1"


def _template() -> dict[str, Any]:
    api_ref = {"Ref": "Api"}
    function_uri = {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/",
                {"Fn::GetAtt": ["Fn", "Arn"]},
                "/invocations",
            ],
        ]
    }
    return {
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "Things-test",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "id", "AttributeType": "S"},
                        {"AttributeName": "group", "AttributeType": "S"},
                    ],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-group",
                            "KeySchema": [{"AttributeName": "group", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                    "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            },
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/aws/lambda/fn-test", "RetentionInDays": 3},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "logs",
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "logs:PutLogEvents",
                                "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                            }
                        ],
                    },
                },
            },
            "Api": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": "api-test",
                    "ProtocolType": "WEBSOCKET",
                    "RouteSelectionExpression": "$request.body.action",
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "DependsOn": ["Policy", "Role"],
                "Properties": {
                    "FunctionName": "fn-test",
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Architectures": ["arm64"],
                    "MemorySize": 256,
                    "Timeout": 30,
                    "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Environment": {
                        "Variables": {
                            "TABLE": {"Ref": "Table"},
                            "CALLBACK_URL": {
                                "Fn::Join": [
                                    "",
                                    ["https://", api_ref, ".execute-api.us-east-1.amazonaws.com/p"],
                                ]
                            },
                        }
                    },
                },
            },
            "Authorizer": {
                "Type": "AWS::ApiGatewayV2::Authorizer",
                "Properties": {
                    "ApiId": api_ref,
                    "AuthorizerType": "REQUEST",
                    "Name": "auth",
                    "AuthorizerUri": function_uri,
                },
            },
            "Integration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": api_ref,
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": function_uri,
                },
            },
            "Route": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": api_ref,
                    "RouteKey": "$connect",
                    "AuthorizationType": "CUSTOM",
                    "AuthorizerId": {"Ref": "Authorizer"},
                    "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]},
                },
            },
            "Stage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "DependsOn": ["Route"],
                "Properties": {"ApiId": api_ref, "StageName": "p", "AutoDeploy": True},
            },
            "Permission": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {
                        "Fn::Join": [
                            "",
                            ["arn:aws:execute-api:us-east-1:123456789012:", api_ref, "/p/$connect"],
                        ]
                    },
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alarms-test"}},
            "Subscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "email",
                    "Endpoint": "alerts@example.com",
                },
            },
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "fn-test-errors",
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Fn"}}],
                    "Statistic": "Sum",
                    "Period": 300,
                    "EvaluationPeriods": 1,
                    "Threshold": 5,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "AlarmActions": [{"Ref": "Topic"}],
                },
            },
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "x"}},
        },
        "Outputs": {
            "ApiId": {"Value": api_ref},
            "Url": {
                "Value": {
                    "Fn::Join": [
                        "",
                        [
                            "wss://",
                            api_ref,
                            ".execute-api.us-east-1.amazonaws.com/",
                            {"Ref": "Stage"},
                        ],
                    ]
                }
            },
            "FunctionName": {"Value": {"Ref": "Fn"}},
            "TableName": {"Value": {"Ref": "Table"}},
            "TopicArn": {"Value": {"Ref": "Topic"}},
        },
    }


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )


def test_every_resource_is_created_and_the_outputs_are_real(aws: boto3.Session) -> None:
    outputs = deploy_stack(_template(), stack_name="Deploy-test", session=aws, region=REGION)

    api_id = outputs["ApiId"]
    assert outputs["Url"] == f"wss://{api_id}.execute-api.us-east-1.amazonaws.com/p"
    assert outputs["FunctionName"] == "fn-test"
    assert outputs["TableName"] == "Things-test"
    [stack] = aws.client("cloudformation").describe_stacks(StackName="Deploy-test")["Stacks"]
    assert {o["OutputKey"] for o in stack["Outputs"]} == set(outputs)

    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="Things-test")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    backups = dynamodb.describe_continuous_backups(TableName="Things-test")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    table = dynamodb.describe_table(TableName="Things-test")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-group"]

    function = aws.client("lambda").get_function_configuration(FunctionName="fn-test")
    assert function["Architectures"] == ["arm64"]
    assert (function["MemorySize"], function["Timeout"]) == (256, 30)
    variables = function["Environment"]["Variables"]
    assert variables["TABLE"] == "Things-test"
    assert variables["CALLBACK_URL"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/p"
    policy = json.loads(aws.client("lambda").get_policy(FunctionName="fn-test")["Policy"])
    assert api_id in json.dumps(policy)

    apigw = aws.client("apigatewayv2")
    [route] = apigw.get_routes(ApiId=api_id)["Items"]
    assert route["AuthorizationType"] == "CUSTOM"
    authorizer = apigw.get_authorizer(ApiId=api_id, AuthorizerId=route["AuthorizerId"])
    assert ":function:fn-test/invocations" in authorizer["AuthorizerUri"]
    integration_id = route["Target"].split("/")[1]
    integration = apigw.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert [s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]] == ["p"]

    [alarm] = aws.client("cloudwatch").describe_alarms(AlarmNames=["fn-test-errors"])[
        "MetricAlarms"
    ]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "fn-test"}]
    assert alarm["AlarmActions"] == [outputs["TopicArn"]]
    [subscription] = aws.client("sns").list_subscriptions()["Subscriptions"]
    assert subscription["Endpoint"] == "alerts@example.com"

    logs = aws.client("logs")
    [group] = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/fn-test")["logGroups"]
    assert group["retentionInDays"] == 3
    iam = aws.client("iam")
    role = next(r for r in iam.list_roles()["Roles"] if "Role" in r["RoleName"])
    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="logs")["PolicyDocument"]
    # GetAtt LogGroup.Arn as AWS gives it (moto's own lacks the ":*")
    assert document["Statement"][0]["Resource"].endswith(":log-group:/aws/lambda/fn-test:*")


def test_a_stack_with_retained_and_protected_resources_is_replaced_by_delete_and_create(
    aws: boto3.Session,
) -> None:
    """prod retains its tables and log groups and protects its tables from deletion; the local
    deployer replaces a stack by delete and create, which those would otherwise block ("The
    specified log group already exists", "can't be deleted while DeletionProtectionEnabled")."""
    template = _template()
    template["Resources"]["Table"]["Properties"]["DeletionProtectionEnabled"] = True
    for logical_id in ("Table", "Logs"):
        template["Resources"][logical_id]["DeletionPolicy"] = "Retain"
        template["Resources"][logical_id]["UpdateReplacePolicy"] = "Retain"
    created: dict[str, Any] = {}
    deploy_stack(
        template, stack_name="Deploy-test", session=aws, region=REGION, api_created=created
    )
    dynamodb = aws.client("dynamodb")
    assert dynamodb.describe_table(TableName="Things-test")["Table"]["DeletionProtectionEnabled"]
    delete_stack(Clients(aws, None, REGION), "Deploy-test", created, replacing=True)
    outputs = deploy_stack(template, stack_name="Deploy-test", session=aws, region=REGION)
    assert outputs["TableName"] == "Things-test"
    assert dynamodb.describe_table(TableName="Things-test")["Table"]["DeletionProtectionEnabled"]
    logs = aws.client("logs")
    assert len(logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/fn-test")["logGroups"]) == 1


def test_unknown_resource_types_are_refused_by_name(aws: boto3.Session) -> None:
    template = _template()
    template["Resources"]["Custom"] = {"Type": "Custom::Thing", "Properties": {"ServiceToken": "x"}}
    template["Resources"]["Queue"] = {"Type": "AWS::Pipes::Pipe", "Properties": {}}
    with pytest.raises(DeployError) as refused:
        deploy_stack(template, stack_name="Deploy-test", session=aws, region=REGION)
    assert "Custom::Thing" in str(refused.value)
    assert "AWS::Pipes::Pipe" in str(refused.value)


def test_a_reference_cycle_through_the_api_is_reported(aws: boto3.Session) -> None:
    template = _template()
    # the API now needs the function, which needs the API: nothing can go first
    template["Resources"]["Api"]["Properties"]["Description"] = {"Ref": "Fn"}
    with pytest.raises(DeployError) as refused:
        deploy_stack(template, stack_name="Deploy-test", session=aws, region=REGION)
    assert "cannot order" in str(refused.value)
