"""Checklist "Configuration (Production Only)": holds in prod by construction.

PITR and the dashboard follow the production switches of the configuration, which the loader
requires to be on in prod; a custom domain and its DNS record exist when the configuration names
a domain (none of the shipped files does, so "if applicable" items are not applicable there).
"""

from __future__ import annotations

import pytest

from infra.config import PRODUCTION_MIN_LOG_RETENTION_HOURS

from .conftest import CUSTOM_DOMAIN, Synthesized

pytestmark = pytest.mark.infra


def test_dynamodb_point_in_time_recovery_enabled(synth: Synthesized) -> None:
    """On in prod (required by the loader), and as the switch says elsewhere."""
    expected = synth.config.production.point_in_time_recovery
    if synth.env == "prod":
        assert expected is True
    tables = synth.resources("AWS::DynamoDB::Table").values()
    assert len(tables) == 3
    for resource in tables:
        specification = resource["Properties"]["PointInTimeRecoverySpecification"]
        assert specification == {"PointInTimeRecoveryEnabled": expected}


def test_custom_domain_configured_if_applicable(
    synth: Synthesized, with_custom_domain: Synthesized
) -> None:
    # not applicable: the shipped configurations name no domain, so nothing is created
    assert synth.config.custom_domain is None
    assert not synth.resources("AWS::ApiGatewayV2::DomainName")
    assert not synth.resources("AWS::ApiGatewayV2::ApiMapping")
    assert "CustomDomainName" not in synth.raw["Outputs"]
    # applicable: a regional domain with the configured certificate, mapped to the stage
    domain = with_custom_domain.properties("CustomDomainName")
    assert domain["DomainName"] == CUSTOM_DOMAIN["domainName"]
    assert domain["DomainNameConfigurations"] == [
        {
            "CertificateArn": CUSTOM_DOMAIN["certificateArn"],
            "EndpointType": "REGIONAL",
            "SecurityPolicy": "TLS_1_2",
        }
    ]
    mapping = with_custom_domain.properties("CustomDomainApiMapping")
    assert mapping == {
        "ApiId": {"Ref": "WebSocketApi"},
        "DomainName": {"Ref": "CustomDomainName"},
        "Stage": {"Ref": "WebSocketStage"},
    }
    assert with_custom_domain.raw["Outputs"]["CustomDomainName"]["Value"] == (
        CUSTOM_DOMAIN["domainName"]
    )


def test_dns_records_updated_if_applicable(
    synth: Synthesized, with_custom_domain: Synthesized
) -> None:
    assert not synth.resources("AWS::Route53::RecordSet")
    records = with_custom_domain.resources("AWS::Route53::RecordSet")
    assert [r["Properties"] for r in records.values()] == [
        {
            "HostedZoneId": CUSTOM_DOMAIN["hostedZoneId"],
            "Name": f"{CUSTOM_DOMAIN['domainName']}.",
            "Type": "A",
            "AliasTarget": {
                "DNSName": {"Fn::GetAtt": ["CustomDomainName", "RegionalDomainName"]},
                "HostedZoneId": {"Fn::GetAtt": ["CustomDomainName", "RegionalHostedZoneId"]},
                "EvaluateTargetHealth": False,
            },
        }
    ]


def test_cloudwatch_dashboard_created(synth: Synthesized) -> None:
    """Every shipped environment has one; prod must (the loader refuses prod without it)."""
    assert synth.config.production.dashboard is True
    dashboards = synth.resources("AWS::CloudWatch::Dashboard")
    assert list(dashboards) == ["Dashboard"]
    properties = dashboards["Dashboard"]["Properties"]
    assert properties["DashboardName"] == f"SessionManagement-{synth.env}"
    body = "".join(
        part if isinstance(part, str) else "<token>"
        for part in properties["DashboardBody"]["Fn::Join"][1]
    )
    for metric in ("SessionCreationLatency", "ActiveSessions", "ConnectionErrors", "Errors"):
        assert metric in body
    assert synth.raw["Outputs"]["DashboardName"]["Value"] == {"Ref": "Dashboard"}


def test_log_retention_adjusted_for_production_24_hours_or_more(synth: Synthesized) -> None:
    retention_days = {
        r["Properties"]["RetentionInDays"] for r in synth.resources("AWS::Logs::LogGroup").values()
    }
    assert retention_days == {synth.config.log_retention_days}
    if synth.env == "prod":
        assert synth.config.log_retention_hours >= PRODUCTION_MIN_LOG_RETENTION_HOURS
        assert min(retention_days) * 24 >= PRODUCTION_MIN_LOG_RETENTION_HOURS


def test_production_data_is_kept_when_the_stack_is_deleted(synth: Synthesized) -> None:
    production = synth.env == "prod"
    for resource_type in ("AWS::DynamoDB::Table", "AWS::Logs::LogGroup"):
        for logical_id, resource in synth.resources(resource_type).items():
            expected = "Retain" if production else "Delete"
            assert resource["DeletionPolicy"] == expected, logical_id
