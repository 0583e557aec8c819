"""The GitHub OIDC stacks: trust policies admit one repository and environment, roles do little."""

from __future__ import annotations

import fnmatch
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigWarning, load_config
from infra.github_oidc.config import GitHubConfigError, load_github_config, parse_config
from infra.github_oidc.execution_policy import (
    NO_PERMISSION_TYPES,
    POLICY_NAME,
    SERVICE_OF_RESOURCE_TYPE,
)
from infra.github_oidc.settings import (
    DEFAULT_SETTINGS_PATH,
    load_github_settings,
    parse_settings,
)

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


def synth(
    tmp_path: Path, overrides: dict[str, Any], settings: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The OIDC app's templates by stack name, for github.json ``BASE`` + ``overrides``.

    ``settings`` replaces infra/config/github-settings.json (default: the committed file).
    """
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.github_oidc.app import build

    path = tmp_path / "github.json"
    path.write_text(json.dumps({**BASE, **overrides}), encoding="utf-8")
    context = {"githubConfig": str(path)}
    if settings is not None:
        settings_path = tmp_path / "github-settings.json"
        settings_path.write_text(json.dumps(settings), encoding="utf-8")
        context["githubSettings"] = str(settings_path)
    app = App(context=context)
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
            f"session-management-change-set-{env}",
        }
        kinds = (("deploy", env), ("verify", f"{env}-verify"), ("change-set", f"{env}-verify"))
        for kind, github_env in kinds:
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


def test_deploy_role_only_assumes_bootstrap_roles_recovers_its_stack_and_sets_triggers(name_form):
    for env, account in ACCOUNTS.items():
        template = name_form[f"GitHubOidc-{env}"]
        statements = policy_of(template, logical_id(template, f"session-management-deploy-{env}"))
        by_sid = {s["Sid"]: s for s in statements}
        assert set(by_sid) == {
            "AssumeCdkBootstrapRoles",
            "RecoverStuckStack",
            "SetRollbackTriggers",
            "PassTheExecutionRoleToCloudFormation",
            "ReadAlarmStates",
        }
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
        triggers = by_sid["SetRollbackTriggers"]
        assert as_list(triggers["Action"]) == ["cloudformation:UpdateStack"]
        assert render(triggers["Resource"]) == render(recover["Resource"])
        passed = by_sid["PassTheExecutionRoleToCloudFormation"]
        assert render(passed["Resource"]) == (
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-us-east-1"
        )
        assert passed["Condition"] == {
            "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
        }
        assert as_list(by_sid["ReadAlarmStates"]["Action"]) == ["cloudwatch:DescribeAlarms"]


def test_change_set_role_prepares_change_sets_and_can_never_execute_one(name_form):
    for env, account in ACCOUNTS.items():
        template = name_form[f"GitHubOidc-{env}"]
        statements = policy_of(
            template, logical_id(template, f"session-management-change-set-{env}")
        )
        actions = {a for s in statements for a in as_list(s["Action"])}
        assert "cloudformation:CreateChangeSet" in actions
        assert not {"cloudformation:ExecuteChangeSet", "cloudformation:UpdateStack"} & actions
        assert not any(a.startswith("cloudformation:*") or a == "*" for a in actions)
        assumed = sorted(
            r
            for s in statements
            if "sts:AssumeRole" in as_list(s["Action"])
            for r in as_list(render(s["Resource"]))
        )
        assert assumed == [
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-us-east-1"
            for kind in ("file-publishing", "lookup")
        ]  # not the deploy role, which executes change sets
        [passed] = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
        assert render(passed["Resource"]) == (
            f"arn:aws:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-us-east-1"
        )
        assert passed["Condition"] == {
            "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
        }


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
            "ssm:PutParameter",
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:AdminInitiateAuth",
            "cognito-idp:AdminSetUserPassword",
        }
        for statement in statements:
            if "cognito-idp:AdminCreateUser" in as_list(statement["Action"]):
                assert ":userpool/us-east-1_EXAMPLE" in render(statement["Resource"])


def test_verify_role_writes_only_the_last_clean_release_of_an_environment_that_bakes(name_form):
    for env, account in ACCOUNTS.items():
        template = name_form[f"GitHubOidc-{env}"]
        statements = policy_of(template, logical_id(template, f"session-management-verify-{env}"))
        puts = [s for s in statements if "ssm:PutParameter" in as_list(s["Action"])]
        with warnings.catch_warnings():  # dev's rounded log retention: not this test's
            warnings.simplefilter("ignore", ConfigWarning)
            bakes = load_config(env).deploy_safety.bake_minutes > 0
        assert len(puts) == (1 if bakes else 0), env
        if bakes:
            assert render(puts[0]["Resource"]) == (
                f"arn:aws:ssm:us-east-1:{account}:parameter/session-management/{env}/"
                "last-clean-release"
            )


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


# --- who may administer Cognito users ----------------------------------------------------------


def committed_settings() -> dict[str, Any]:
    return json.loads(DEFAULT_SETTINGS_PATH.read_text(encoding="utf-8"))


def trusted_environment(role: dict[str, Any]) -> str:
    """The GitHub environment whose jobs the role's trust policy admits."""
    statement = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    subject = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    return subject.rsplit(":environment:", 1)[1]


def cognito_grants(template: dict[str, Any], role_name: str) -> list[tuple[str, str]]:
    """(action, resource) of every cognito-idp action the role's policy allows."""
    statements = policy_of(template, logical_id(template, role_name))
    return [
        (action, resource)
        for statement in statements
        for action in as_list(statement["Action"])
        if action.startswith("cognito-idp:")
        for resource in as_list(render(statement["Resource"]))
    ]


def pool_of(env: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        return load_config(env).cognito.user_pool_id


def test_prods_verify_role_only_reads_the_pool_and_client_descriptions(name_form):
    template = name_form["GitHubOidc-prod"]
    grants = cognito_grants(template, "session-management-verify-prod")
    assert {action for action, _ in grants} == {
        "cognito-idp:DescribeUserPool",
        "cognito-idp:DescribeUserPoolClient",
    }
    assert {resource for _, resource in grants} == {
        f"arn:aws:cognito-idp:us-east-1:{ACCOUNTS['prod']}:userpool/{pool_of('prod')}"
    }


def test_no_role_reachable_without_approval_administers_users_of_a_pool_behind_reviewers(
    name_form,
):
    settings = load_github_settings()
    guarded_pools = {
        pool_of(env) for env in BASE["environments"] if settings.environment(env).requires_approval
    }
    assert guarded_pools, "the committed settings give prod required reviewers"
    checked = 0
    for template in name_form.values():
        for name, role in roles(template).items():
            if settings.environment(trusted_environment(role)).requires_approval:
                continue
            checked += 1
            for action, resource in cognito_grants(template, name):
                if not action.startswith("cognito-idp:Admin"):
                    continue
                assert resource != "*", (name, action)
                assert not any(resource.endswith(f"/{pool}") for pool in guarded_pools), (
                    name,
                    action,
                    resource,
                )
    assert checked == 8  # every role but prod's deploy role runs without approval (3 per env)


def test_stagings_verify_role_keeps_the_load_test_user_actions(name_form):
    template = name_form["GitHubOidc-staging"]
    grants = cognito_grants(template, "session-management-verify-staging")
    assert {action for action, _ in grants} == {
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminSetUserPassword",
        "cognito-idp:DescribeUserPool",
        "cognito-idp:DescribeUserPoolClient",
    }
    assert {resource for _, resource in grants} == {
        f"arn:aws:cognito-idp:us-east-1:{ACCOUNTS['staging']}:userpool/{pool_of('staging')}"
    }


def test_no_deploy_role_needs_cognito_for_the_smoke_test(name_form):
    for env in ACCOUNTS:
        template = name_form[f"GitHubOidc-{env}"]
        assert cognito_grants(template, f"session-management-deploy-{env}") == []


def test_the_reviewers_in_the_settings_decide_which_verify_roles_manage_test_users(tmp_path):
    settings = committed_settings()
    settings["environments"]["staging"]["reviewers"] = [{"type": "User", "login": "octocat"}]
    settings["environments"]["prod"]["reviewers"] = []
    stacks = synth(tmp_path, {}, settings)

    def admin(env: str) -> set[str]:
        grants = cognito_grants(stacks[f"GitHubOidc-{env}"], f"session-management-verify-{env}")
        return {action for action, _ in grants if action.startswith("cognito-idp:Admin")}

    assert admin("staging") == set()
    assert "cognito-idp:AdminCreateUser" in admin("prod")


def test_an_environment_missing_from_the_settings_stops_the_app(tmp_path):
    settings = committed_settings()
    del settings["environments"]["prod-verify"]
    with pytest.raises(GitHubConfigError) as raised:
        synth(tmp_path, {}, settings)
    assert (
        "github-settings.json: environments.prod-verify: expected the GitHub environment "
        "prod-verify" in str(raised.value)
    )


def test_the_committed_settings_are_valid():
    settings = load_github_settings()
    assert settings.environment("prod").requires_approval
    assert not settings.environment("staging").requires_approval
    assert not settings.environment("prod-verify").requires_approval
    assert "SMOKE_TEST_PASSWORD" in settings.environment("prod").secrets
    assert "SMOKE_TEST_USERNAME" in settings.environment("prod").variables


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["environments"]["prod"].update(reviewers=[{"type": "team"}]),
            'environments.prod.reviewers[0].type: expected "Team" or "User", got "team"',
        ),
        (
            lambda s: s["environments"]["prod"].update(reviewers=[{"type": "Team"}]),
            "environments.prod.reviewers[0].slug: expected the team's slug, got null",
        ),
        (
            lambda s: s["environments"]["prod"].update(reviewers="platform-approvers"),
            "environments.prod.reviewers: expected a list of reviewers ([] for none)",
        ),
        (
            lambda s: s["environments"]["dev"].update(preventSelfReview="yes"),
            'environments.dev.preventSelfReview: expected true or false, got "yes"',
        ),
        (
            lambda s: s["environments"]["dev"].update(secrets=["smoke-password"]),
            "environments.dev.secrets[0]: expected names of letters, digits and underscores",
        ),
        (
            lambda s: s["environments"]["dev"].update(approvers=[]),
            "environments.dev.approvers: unknown field; expected one of: branches, "
            "preventSelfReview, reviewers, secrets, tags, variables",
        ),
        (lambda s: s.pop("environments"), "environments: expected an object of GitHub"),
        (
            lambda s: s["branchProtection"].update(requiredChecks="CI"),
            "branchProtection.requiredChecks: expected a list of check names",
        ),
    ],
)
def test_wrong_settings_are_refused_with_a_message_naming_the_field(change, message):
    settings = committed_settings()
    change(settings)
    with pytest.raises(GitHubConfigError) as raised:
        parse_settings(settings, "infra/config/github-settings.json")
    assert str(raised.value).startswith("infra/config/github-settings.json: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_or_broken_settings_are_reported(tmp_path):
    with pytest.raises(GitHubConfigError, match=r"github-settings\.json: no such file"):
        load_github_settings(tmp_path / "github-settings.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[", encoding="utf-8")
    with pytest.raises(GitHubConfigError, match="not valid JSON"):
        load_github_settings(broken)


# --- the CloudFormation execution policy -------------------------------------------------------

# Resource type -> (the property that names it, its ARN in the policy, the action creating it).
NAMED_RESOURCES = {
    "AWS::Events::Rule": (
        "Name",
        "arn:aws:events:us-east-1:{account}:rule/{name}",
        "events:PutRule",
    ),
    "AWS::DynamoDB::Table": (
        "TableName",
        "arn:aws:dynamodb:us-east-1:{account}:table/{name}",
        "dynamodb:CreateTable",
    ),
    "AWS::Lambda::Function": (
        "FunctionName",
        "arn:aws:lambda:us-east-1:{account}:function:{name}",
        "lambda:CreateFunction",
    ),
    "AWS::Logs::LogGroup": (
        "LogGroupName",
        "arn:aws:logs:us-east-1:{account}:log-group:{name}",
        "logs:CreateLogGroup",
    ),
    "AWS::CloudWatch::Alarm": (
        "AlarmName",
        "arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}",
        "cloudwatch:PutMetricAlarm",
    ),
    "AWS::CloudWatch::CompositeAlarm": (
        "AlarmName",
        "arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}",
        "cloudwatch:PutCompositeAlarm",
    ),
    "AWS::CloudWatch::Dashboard": (
        "DashboardName",
        "arn:aws:cloudwatch::{account}:dashboard/{name}",
        "cloudwatch:PutDashboard",
    ),
    "AWS::SNS::Topic": ("TopicName", "arn:aws:sns:us-east-1:{account}:{name}", "sns:CreateTopic"),
}


def execution_policy(template: dict[str, Any]) -> list[dict[str, Any]]:
    for resource in template["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::ManagedPolicy"
            and resource["Properties"].get("ManagedPolicyName") == POLICY_NAME
        ):
            return resource["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError(f"no {POLICY_NAME} in the template")


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement grants ``action`` on ``resource`` (IAM's * wildcards)."""
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, a) for a in as_list(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in as_list(render(statement["Resource"])))
        for statement in statements
    )


@pytest.fixture(scope="module")
def dev_template(synthesized_envs) -> dict[str, Any]:
    return synthesized_envs("dev").raw


def test_the_execution_policy_covers_every_resource_type_of_the_dev_template(
    name_form, dev_template
):
    statements = execution_policy(name_form["GitHubOidc-dev"])
    granted = {action.split(":")[0] for s in statements for action in as_list(s["Action"])}
    types = {resource["Type"] for resource in dev_template["Resources"].values()}
    unmapped = types - set(SERVICE_OF_RESOURCE_TYPE) - NO_PERMISSION_TYPES
    assert not unmapped, f"add these types to SERVICE_OF_RESOURCE_TYPE: {sorted(unmapped)}"
    for resource_type in types - NO_PERMISSION_TYPES:
        assert SERVICE_OF_RESOURCE_TYPE[resource_type] in granted, resource_type


def test_the_execution_policy_allows_each_named_resource_of_the_dev_template(
    name_form, dev_template
):
    statements = execution_policy(name_form["GitHubOidc-dev"])
    account = ACCOUNTS["dev"]
    checked = 0
    for resource in dev_template["Resources"].values():
        if resource["Type"] not in NAMED_RESOURCES:
            continue
        field, pattern, create = NAMED_RESOURCES[resource["Type"]]
        arn = pattern.format(account=account, name=resource["Properties"][field])
        assert allows(statements, create, arn), (create, arn)
        checked += 1
    assert checked >= 20


def test_the_execution_policy_passes_only_the_stacks_roles_to_lambda_and_api_gateway(name_form):
    statements = execution_policy(name_form["GitHubOidc-dev"])
    passing = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert len(passing) == 1
    assert render(passing[0]["Resource"]) == (
        f"arn:aws:iam::{ACCOUNTS['dev']}:role/SessionManagement-dev-*"
    )
    assert passing[0]["Condition"] == {
        "StringEquals": {
            "iam:PassedToService": ["lambda.amazonaws.com", "apigateway.amazonaws.com"]
        }
    }
    assert not allows(statements, "iam:CreateRole", f"arn:aws:iam::{ACCOUNTS['dev']}:role/x")
    assert not allows(statements, "iam:CreateUser", f"arn:aws:iam::{ACCOUNTS['dev']}:user/x")
    assert not allows(statements, "s3:DeleteBucket", "arn:aws:s3:::anything")
    assert not allows(statements, "dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:1:table/x")


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


def test_the_longest_environment_name_keeps_the_role_names_within_iam_limits():
    from infra.github_oidc.config import ROLE_NAME_TEMPLATES
    from session_service.config_rules import ENVIRONMENT_NAME, ENVIRONMENT_NAME_MAX_LENGTH

    longest = "e" * ENVIRONMENT_NAME_MAX_LENGTH
    parse_config({**BASE, "environments": [longest]})
    assert not ENVIRONMENT_NAME.accepts(longest + "e")
    for template in ROLE_NAME_TEMPLATES.values():
        assert len(template.format(env=longest)) <= 64  # IAM RoleName
