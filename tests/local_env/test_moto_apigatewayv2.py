"""The local environment answers ``apigatewayv2 get-authorizers`` (local/moto_apigatewayv2.py)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_apigatewayv2
from local.moto_server import MotoServer


@pytest.fixture(scope="module")
def apigatewayv2() -> Iterator[object]:
    server = MotoServer()
    server.start()
    yield boto3.client(
        "apigatewayv2",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server.shutdown()


def test_moto_does_not_answer_get_authorizers_itself():
    assert (
        not moto_apigatewayv2.moto_answers_it()
    ), "moto now answers get-authorizers: drop local/moto_apigatewayv2.py"


def test_get_authorizers_lists_the_apis_authorizers(apigatewayv2):
    api = apigatewayv2.create_api(
        Name="sessions", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    other = apigatewayv2.create_api(
        Name="other", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    created = apigatewayv2.create_authorizer(
        ApiId=api["ApiId"],
        AuthorizerType="REQUEST",
        AuthorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:authorizer/invocations",
        IdentitySource=["route.request.querystring.token"],
        Name="session-authorizer",
    )
    listed = apigatewayv2.get_authorizers(ApiId=api["ApiId"])["Items"]
    assert [(a["AuthorizerId"], a["Name"], a["AuthorizerType"]) for a in listed] == [
        (created["AuthorizerId"], "session-authorizer", "REQUEST")
    ]
    assert listed[0]["IdentitySource"] == ["route.request.querystring.token"]
    assert apigatewayv2.get_authorizers(ApiId=other["ApiId"])["Items"] == []


def test_get_authorizers_of_an_unknown_api_is_not_found(apigatewayv2):
    with pytest.raises(ClientError) as missing:
        apigatewayv2.get_authorizers(ApiId="nope123")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
