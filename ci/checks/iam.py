"""Reading what a Lambda role may do: its inline and attached policies, evaluated for Allow.

Only ``Allow`` statements with ``Action``/``Resource`` are considered, matched with IAM's
wildcards; that is enough to prove a grant exists (the question the checklist asks), and a
``Deny`` on top would show up in the smoke tests.
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from ci.deployment import Deployment


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    return json.loads(unquote(raw))


def role_statements(dep: Deployment, role_arn: str) -> list[dict[str, Any]]:
    """Every Allow statement of the role's inline and attached (managed) policies."""
    cache = dep.scratch.setdefault("role-statements", {})
    if role_arn in cache:
        return cache[role_arn]
    iam = dep.clients("iam")
    role = role_arn.rsplit("/", 1)[-1]
    documents: list[dict[str, Any]] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            documents.append(_document(doc))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for attached in page["AttachedPolicies"]:
            arn = attached["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
            documents.append(_document(doc["Document"]))
    statements = []
    for doc in documents:
        for statement in _as_list_of_dicts(doc.get("Statement")):
            if statement.get("Effect") == "Allow":
                statements.append(statement)
    cache[role_arn] = statements
    return statements


def _as_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return list(value or [])


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether some Allow statement grants ``action`` on ``resource`` (IAM wildcards)."""
    for statement in statements:
        actions = [a.lower() for a in _as_list(statement.get("Action"))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource"))):
            return True
    return False
