"""CloudFormation intrinsic functions, resolved the way CloudFormation resolves them.

Two uses in the deployer: :func:`substitute` replaces references to some resources with their
values and leaves every other intrinsic for moto's CloudFormation to resolve; :class:`Resolver`
resolves a whole property tree once every resource it references exists.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class IntrinsicError(ValueError):
    pass


def references(node: Any) -> set[str]:
    """Logical ids (and pseudo parameters) that ``node`` references by Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref" and isinstance(value, str):
                return {value}
            if key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                return {target}
            if key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                found |= {
                    name.split(".", 1)[0]
                    for name in _SUB_VARIABLE.findall(text)
                    if name not in variables
                }
                return found | references(variables)
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def substitute(node: Any, known: Mapping[str, Mapping[str, Any]]) -> Any:
    """Replace Ref/GetAtt/Sub references to the logical ids in ``known`` by their values.

    ``known[logical_id]`` maps ``"Ref"`` and attribute names to values. Other intrinsics are
    kept as they are.
    """
    if isinstance(node, list):
        return [substitute(v, known) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str) and "Ref" in known.get(value, {}):
            return known[value]["Ref"]
        if key == "Fn::GetAtt":
            target, attribute = _get_att_parts(value)
            if attribute in known.get(target, {}):
                return known[target][attribute]
        if key == "Fn::Sub":
            return {"Fn::Sub": _substitute_sub(value, known)}
    return {k: substitute(v, known) for k, v in node.items()}


def _get_att_parts(value: Any) -> tuple[str, str]:
    if isinstance(value, list) and len(value) == 2:
        return str(value[0]), str(value[1])
    target, _, attribute = str(value).partition(".")
    return target, attribute


def _substitute_sub(value: Any, known: Mapping[str, Mapping[str, Any]]) -> Any:
    text, variables = (value, None) if isinstance(value, str) else (value[0], value[1])

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if variables and name in variables:
            return match.group(0)
        target, _, attribute = name.partition(".")
        values = known.get(target, {})
        key = attribute or "Ref"
        return str(values[key]) if key in values else match.group(0)

    text = _SUB_VARIABLE.sub(replace, text)
    if variables is None:
        return text
    return [text, substitute(variables, known)]


class Resolver:
    """Resolve every intrinsic of a property tree.

    ``ref(logical_id)`` and ``get_att(logical_id, attribute)`` give resource values; pseudo
    parameters and template parameters come from ``parameters``; conditions from ``conditions``.
    """

    def __init__(
        self,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        parameters: Mapping[str, Any],
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self._ref = ref
        self._get_att = get_att
        self._parameters = parameters
        self._condition_defs = dict(conditions or {})
        self._conditions: dict[str, bool] = {}
        self._mappings = mappings or {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._condition_defs:
                raise IntrinsicError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(self._condition_defs[name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        return self._ref(name)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(v) for v in node]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            function = self._FUNCTIONS.get(key)
            if function is not None:
                return function(self, value)
            if key.startswith("Fn::"):
                raise IntrinsicError(f"{key} is not supported")
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    # --- functions -------------------------------------------------------------------------------
    def _fn_ref(self, value: Any) -> Any:
        return self.ref(value)

    def _fn_get_att(self, value: Any) -> Any:
        target, attribute = _get_att_parts(self.resolve(value))
        return self._get_att(target, attribute)

    def _fn_join(self, value: Any) -> str:
        delimiter, items = value
        return str(delimiter).join(str(v) for v in self.resolve(items))

    def _fn_sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else value
        variables = self.resolve(variables)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            target, _, attribute = name.partition(".")
            if attribute and target not in self._parameters:
                return str(self._get_att(target, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _fn_select(self, value: Any) -> Any:
        index, items = self.resolve(value)
        return items[int(index)]

    def _fn_split(self, value: Any) -> list[str]:
        delimiter, text = self.resolve(value)
        return str(text).split(delimiter)

    def _fn_if(self, value: Any) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, value: Any) -> bool:
        left, right = self.resolve(value)
        return bool(left == right)

    def _fn_not(self, value: Any) -> bool:
        return not self.resolve(value[0])

    def _fn_and(self, value: Any) -> bool:
        return all(self.resolve(v) for v in value)

    def _fn_or(self, value: Any) -> bool:
        return any(self.resolve(v) for v in value)

    def _fn_condition(self, value: Any) -> bool:
        return self.condition(value)

    def _fn_find_in_map(self, value: Any) -> Any:
        name, top, second = self.resolve(value)
        return self._mappings[name][top][second]

    def _fn_base64(self, value: Any) -> str:
        return base64.b64encode(str(self.resolve(value)).encode()).decode()

    def _fn_to_json_string(self, value: Any) -> str:
        return json.dumps(self.resolve(value), separators=(",", ":"))

    def _fn_get_azs(self, value: Any) -> list[str]:
        region = self.resolve(value) or self._parameters["AWS::Region"]
        return [f"{region}{zone}" for zone in "abc"]

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Join": _fn_join,
        "Fn::Sub": _fn_sub,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Condition": _fn_condition,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::GetAZs": _fn_get_azs,
    }


def pseudo_parameters(region: str, account_id: str, stack_name: str) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": (f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local"),
        "AWS::NotificationARNs": [],
    }
