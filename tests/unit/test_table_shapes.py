"""The tables' create requests, made from constants.TABLES."""

from __future__ import annotations

from session_service import constants as c
from session_service.data.schema import create_table_request, time_to_live_request


def test_table_requests_follow_constants_tables() -> None:
    request = create_table_request("connections", "dev")
    assert request["TableName"] == "Connections-dev"
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    index, liveness = request["GlobalSecondaryIndexes"]
    assert index["IndexName"] == c.CONNECTIONS_GSI_NAME
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["sessionId", "targetLanguage"]
    # the liveness index sorts by a number (ms), and carries only what the janitor reads
    assert liveness["IndexName"] == c.CONNECTIONS_LIVENESS_INDEX
    assert [k["AttributeName"] for k in liveness["KeySchema"]] == ["liveness", "heardAt"]
    assert liveness["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["sessionId", "role"],
    }
    types = {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]}
    assert types == {
        "connectionId": "S",
        "sessionId": "S",
        "targetLanguage": "S",
        "liveness": "S",
        "heardAt": "N",
    }
    (sweep,) = create_table_request("sessions", "dev")["GlobalSecondaryIndexes"]
    assert sweep["IndexName"] == c.SESSIONS_SWEEP_INDEX
    assert [k["AttributeName"] for k in sweep["KeySchema"]] == ["sweep", "endedAt"]
    ttl = time_to_live_request("rate_limits", "dev")["TimeToLiveSpecification"]
    assert ttl == {"Enabled": True, "AttributeName": "expiresAt"}
