"""The tables' create requests, made from constants.TABLES."""

from __future__ import annotations

from session_service import constants as c
from session_service.data.schema import create_table_request, time_to_live_request


def test_table_requests_follow_constants_tables() -> None:
    request = create_table_request("connections", "dev")
    assert request["TableName"] == "Connections-dev"
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = request["GlobalSecondaryIndexes"]
    assert index["IndexName"] == c.CONNECTIONS_GSI_NAME
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["sessionId", "targetLanguage"]
    ttl = time_to_live_request("rate_limits", "dev")["TimeToLiveSpecification"]
    assert ttl == {"Enabled": True, "AttributeName": "expiresAt"}
