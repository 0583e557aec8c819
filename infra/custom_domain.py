"""Optional custom domain: API Gateway domain name, API mapping to the stage, Route 53 alias.

Built only when the configuration names a domain (``customDomain``); it uses the hosted zone id
and the certificate ARN from the configuration, so synth needs no lookups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_route53 as route53
from constructs import Construct

if TYPE_CHECKING:
    from infra.config import CustomDomainConfig
    from infra.websocket_api import SessionWebSocketApi


class SessionCustomDomain(Construct):
    """``wss://{domain}`` for the API's stage: regional domain name, mapping, alias A record."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: CustomDomainConfig,
        api: SessionWebSocketApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = domain.domain_name
        self.domain = apigwv2.CfnDomainName(
            self,
            "DomainName",
            domain_name=domain.domain_name,
            domain_name_configurations=[
                apigwv2.CfnDomainName.DomainNameConfigurationProperty(
                    certificate_arn=domain.certificate_arn,
                    endpoint_type="REGIONAL",
                    security_policy="TLS_1_2",
                )
            ],
        )
        self.domain.override_logical_id("CustomDomainName")
        if api.stage is None:
            raise ValueError("the API's stage must exist before its custom domain is mapped")
        self.mapping = apigwv2.CfnApiMapping(
            self,
            "ApiMapping",
            api_id=api.api_id,
            domain_name=self.domain.ref,
            stage=api.stage.ref,
        )
        self.mapping.override_logical_id("CustomDomainApiMapping")
        self.record = route53.CfnRecordSet(
            self,
            "AliasRecord",
            hosted_zone_id=domain.hosted_zone_id,
            name=f"{domain.domain_name}.",
            type="A",
            alias_target=route53.CfnRecordSet.AliasTargetProperty(
                dns_name=self.domain.attr_regional_domain_name,
                hosted_zone_id=self.domain.attr_regional_hosted_zone_id,
                evaluate_target_health=False,
            ),
        )
        self.record.override_logical_id("CustomDomainAliasRecord")

    @property
    def websocket_url(self) -> str:
        return f"wss://{self.domain_name}"
