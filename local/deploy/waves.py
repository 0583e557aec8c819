"""The waves: resources created in dependency order, alternately by moto's CloudFormation (the
stack created, then updated with every resource whose references exist) and through the
service APIs (:mod:`local.deploy.creators`), with outputs joining the stack as soon as what they
reference exists.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from local.deploy.assets import bootstrap
from local.deploy.clients import Clients, DeployError, Values
from local.deploy.creators import COMPLETERS, CREATORS, cfn_attribute
from local.intrinsics import Resolver, pseudo_parameters, references, substitute

logger = logging.getLogger("local.deploy")  # one logger for the whole deployer

# Types that describe nothing in AWS (CDK's usage analytics).
IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})


class Deployment:
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
            return cfn_attribute(self, resource_type, self.in_stack[logical_id], attribute)
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
            # Not given to moto: an update is substituted by delete and create here
            # (local.pipeline_aws), and a retained table or log group of a fixed name would
            # outlive the delete and refuse the create. GetTemplate still answers the
            # assembly's template, policies included (local.stack_operations).
            resource.pop("DeletionPolicy", None)
            resource.pop("UpdateReplacePolicy", None)
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
