"""The GitHub OIDC stacks: trust policies admit one repository and environment, roles do little."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.github_oidc.config import GitHubConfigError, load_github_config, parse_config

pytestmark = pytest.mark.infra

BOOTSTRAP_KINDS = ("deploy", "file-publishing", "image-publishing", "lookup")
BASE = {
    "owner": "OWNER",
    "repository": "REPO",
    "ownerId": None,
    "repositoryId": None,
    "subjectClaimFormat": "name",
    "environments": ["dev", "staging", "prod"],
    "createOidcProvider": True,
}
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def render(value: Any) -> Any:
    """Resolve Fn::Join with AWS::Partition into plain strings, so ARNs compare as text."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(
            "aws" if part == {"Ref": "AWS::Partition"} else render(part) for part in parts
        )
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def synth(tmp_path: Path, overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.github_oidc.app import build

    path = tmp_path / "github.json"
    path.write_text(json.dumps({**BASE, **overrides}), encoding="utf-8")
    app = App(context={"githubConfig": str(path)})
    stacks = build(app)
    return {stack.stack_name: Template.from_stack(stack).to_json() for stack in stacks}


@pytest.fixture(scope="module")
def name_form(tmp_path_factory) -> dict[str, dict[str, Any]]:
    return synth(tmp_path_factory.mktemp("name"), {})


@pytest.fixture(scope="module")
def immutable_form(tmp_path_factory) -> dict[str, dict[str, Any]]:
    return synth(
        tmp_path_factory.mktemp("immutable"),
        {"subjectClaimFormat": "immutable", "ownerId": 1234, "repositoryId": 567890},
    )


def roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RoleName"]: r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
    }


def policy_of(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in resource[
            "Properties"
        ].get("Roles", []):
            return resource["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError(f"no policy attached to {role_logical_id}")


def logical_id(template: dict[str, Any], role_name: str) -> str:
    for key, resource in template["Resources"].items():
        if resource["Properties"].get("RoleName") == role_name:
            return key
    raise AssertionError(role_name)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_one_stack_per_account_each_with_the_github_provider(name_form):
    assert set(name_form) == {"GitHubOidc-dev", "GitHubOidc-staging", "GitHubOidc-prod"}
    for template in name_form.values():
        providers = [
            r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::OIDCProvider"
        ]
        assert len(providers) == 1
        assert providers[0]["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
        assert providers[0]["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize(
    ("form", "repository"),
    [("name_form", "repo:OWNER/REPO"), ("immutable_form", "repo:OWNER@1234/REPO@567890")],
)
def test_trust_policy_admits_exactly_this_repository_and_environment(request, form, repository):
    stacks = request.getfixturevalue(form)
    for env in ("dev", "staging", "prod"):
        template = stacks[f"GitHubOidc-{env}"]
        by_name = roles(template)
        assert set(by_name) == {
            f"session-management-deploy-{env}",
            f"session-management-verify-{env}",
        }
        for kind, github_env in (("deploy", env), ("verify", f"{env}-verify")):
            trust = by_name[f"session-management-{kind}-{env}"]["Properties"]
            statements = trust["AssumeRolePolicyDocument"]["Statement"]
            assert len(statements) == 1
            statement = statements[0]
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {
                "Federated": {"Fn::GetAtt": ["GitHubOidcProvider", "Arn"]}
            }
            assert statement["Condition"] == {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": (
                        f"{repository}:environment:{github_env}"
                    ),
                }
            }


def test_deploy_role_may_only_assume_the_bootstrap_roles_and_recover_its_stack(name_form):
    for env, account in ACCOUNTS.items():
        template = name_form[f"GitHubOidc-{env}"]
        statements = policy_of(template, logical_id(template, f"session-management-deploy-{env}"))
        by_sid = {s["Sid"]: s for s in statements}
        assert set(by_sid) == {"AssumeCdkBootstrapRoles", "RecoverStuckStack"}
        assume = by_sid["AssumeCdkBootstrapRoles"]
        assert set(as_list(assume["Action"])) == {"sts:AssumeRole", "sts:TagSession"}
        assert sorted(render(assume["Resource"])) == sorted(
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-us-east-1"
            for kind in BOOTSTRAP_KINDS
        )
        recover = by_sid["RecoverStuckStack"]
        assert set(as_list(recover["Action"])) == {
            "cloudformation:CancelUpdateStack",
            "cloudformation:ContinueUpdateRollback",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DescribeStacks",
        }
        assert render(recover["Resource"]) == (
            f"arn:aws:cloudformation:us-east-1:{account}:stack/SessionManagement-{env}/*"
        )


def test_verify_role_reads_and_assumes_only_the_lookup_role(name_form):
    for env, account in ACCOUNTS.items():
        template = name_form[f"GitHubOidc-{env}"]
        statements = policy_of(template, logical_id(template, f"session-management-verify-{env}"))
        assumed = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
        assert len(assumed) == 1
        assert render(assumed[0]["Resource"]) == (
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-us-east-1"
        )
        writes = {
            action
            for s in statements
            for action in as_list(s["Action"])
            if not action.split(":")[1].startswith(("Describe", "Get", "List"))
            and action not in {"apigateway:GET", "cognito-idp:AdminGetUser"}
        }
        assert writes <= {
            "sts:AssumeRole",
            "sts:TagSession",
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:AdminInitiateAuth",
            "cognito-idp:AdminSetUserPassword",
        }
        for statement in statements:
            if "cognito-idp:AdminCreateUser" in as_list(statement["Action"]):
                assert ":userpool/us-east-1_EXAMPLE" in render(statement["Resource"])


def test_an_account_with_a_provider_already_is_referenced_not_created(tmp_path):
    stacks = synth(tmp_path, {"createOidcProvider": False, "environments": ["dev"]})
    template = stacks["GitHubOidc-dev"]
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::IAM::OIDCProvider" not in types
    role = roles(template)["session-management-deploy-dev"]
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert render(principal["Federated"]) == (
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    )


# --- config validation -----------------------------------------------------------------------


def test_the_committed_config_is_valid():
    config = load_github_config()
    assert config.environments == ("dev", "staging", "prod")
    assert config.subject("prod").endswith(":environment:prod")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"owner": "-bad"}, "owner: expected the GitHub owner"),
        ({"owner": "OWNER/REPO"}, "owner: expected"),
        ({"repository": ""}, "repository: expected"),
        ({"subjectClaimFormat": "id"}, 'subjectClaimFormat: expected "name"'),
        (
            {"subjectClaimFormat": "immutable"},
            'ownerId: expected a positive integer when subjectClaimFormat is "immutable" '
            "(read it with `gh api repos/OWNER/REPO --jq .owner.id`), got null",
        ),
        (
            {"subjectClaimFormat": "immutable", "ownerId": 5},
            "repositoryId: expected a positive integer when subjectClaimFormat is "
            '"immutable" (read it with `gh api repos/OWNER/REPO --jq .id`), got null',
        ),
        ({"ownerId": "5"}, "ownerId: expected a positive integer or null"),
        ({"ownerId": True}, "ownerId: expected a positive integer"),
        ({"environments": []}, "environments: expected a non-empty list"),
        ({"environments": ["dev", "dev"]}, "environments: expected each environment once"),
        ({"environments": ["Prod"]}, "environments[0]: expected a lower-case name"),
        ({"environments": ["prod-verify"]}, "environments[0]: expected a deployment environment"),
        ({"createOidcProvider": "yes"}, "createOidcProvider: expected true"),
        ({"repo": "REPO"}, "unknown field(s) repo"),
    ],
)
def test_a_wrong_config_is_refused_with_a_message_naming_the_field(overrides, message):
    with pytest.raises(GitHubConfigError) as raised:
        parse_config({**BASE, **overrides}, "infra/config/github.json")
    assert message in str(raised.value)
    assert str(raised.value).startswith("infra/config/github.json: ")


def test_subjects_of_both_forms():
    name = parse_config(BASE)
    assert name.subject("staging") == "repo:OWNER/REPO:environment:staging"
    immutable = parse_config(
        {**BASE, "subjectClaimFormat": "immutable", "ownerId": 1, "repositoryId": 2}
    )
    assert immutable.subject("prod-verify") == "repo:OWNER@1/REPO@2:environment:prod-verify"


def test_a_missing_or_broken_file_is_reported(tmp_path):
    with pytest.raises(GitHubConfigError, match="no such file"):
        load_github_config(tmp_path / "github.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(GitHubConfigError, match="not valid JSON"):
        load_github_config(broken)
