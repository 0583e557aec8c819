"""One stack per account: GitHub's OIDC provider and, per environment, three roles.

- ``session-management-deploy-{env}`` is assumed by the jobs that name the GitHub environment
  ``{env}`` (the deploy job and the smoke test right after it; for prod, behind its required
  reviewers). It may only assume the CDK bootstrap roles of its account and region, which do the
  actual work, plus recover its own stack when an update is stuck (``CancelUpdateStack`` is not
  in the bootstrap deploy role), and set its rollback triggers (an ``UpdateStack`` keeping its
  template, ci/rollback_triggers.py). The smoke test signs in as a pre-provisioned user with
  ``InitiateAuth`` (``USER_PASSWORD_AUTH``), an unauthenticated API: no Cognito permission.
- ``session-management-verify-{env}`` is assumed by the jobs that name ``{env}-verify``
  (``cdk diff`` before the approval, the checklist's verification, the load test). It reads the
  deployment and may assume only the bootstrap lookup role (read-only, for ``cdk diff``).
  ``{env}-verify`` has no reviewers and is reachable by anyone who may push a tag, so the role
  gets the Cognito test-user actions (create, sign in, delete users: the staging load test) only
  when ``{env}`` itself has no required reviewers in ``infra/config/github-settings.json``. A
  role reachable without approval never administers the users of an environment that has an
  approval gate; prod's verify role only reads the pool's and the app client's descriptions
  (the pre-deployment checks).
- ``session-management-change-set-{env}`` is assumed by the change-set job (``{env}-verify``,
  before the approval): it prepares the change set the approver reviews (``cdk deploy
  --method=prepare-change-set``) and never executes one. It may create, describe and delete
  change sets of its stack, pass the bootstrap CloudFormation execution role to CloudFormation
  (which uses it only when a change set is executed), and assume the bootstrap file-publishing
  and lookup roles (the assets and the template the change set refers to). It may not assume the
  bootstrap deploy role: the CDK CLI then proceeds with the job's own credentials ("current
  credentials could not be used to assume …, but are for the right account. Proceeding anyway",
  aws/aws-cdk#30236), so ``ExecuteChangeSet`` stays with the deploy role, behind the approval.

Each trust policy admits exactly one ``sub``, ``repo:OWNER/REPO:environment:NAME`` (or the
immutable ``repo:OWNER@OWNER_ID/REPO@REPO_ID:environment:NAME``), with ``aud`` =
``sts.amazonaws.com``, both StringEquals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Aws, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_iam as iam

from infra.github_oidc.config import (
    AUDIENCE,
    BOOTSTRAP_QUALIFIER,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    ROLE_NAME_TEMPLATES,
)
from infra.github_oidc.execution_policy import CfnExecutionPolicy
from session_service import constants, specs

if TYPE_CHECKING:
    from constructs import Construct

    from infra.config import EnvironmentConfig
    from infra.github_oidc.config import GitHubOidcConfig
    from infra.github_oidc.settings import GitHubSettings

BOOTSTRAP_ROLE_KINDS = ("deploy", "file-publishing", "image-publishing", "lookup")
# GitHub's intermediate certificate thumbprints. IAM no longer checks them for GitHub, but the
# resource keeps them so that an older partition or tool reading the provider still works.
GITHUB_THUMBPRINTS = (
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
)
# What preparing (never executing) a change set of the stack takes, on the stack itself.
CHANGE_SET_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "cloudformation:ListChangeSets",
)
# Test users the load test (bench/, stack mode) creates, signs in and deletes. Granted to a verify
# role only when its deploy environment has no required reviewers (see the module docstring).
COGNITO_TEST_USER_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminSetUserPassword",
)
# What the pre-deployment checks read of the pool and its app client (they exist, as configured):
# descriptions only, which administer nobody; every verify role has them.
COGNITO_READ_ACTIONS = ("cognito-idp:DescribeUserPool", "cognito-idp:DescribeUserPoolClient")


def bootstrap_role_arn(kind: str, account: str, region: str) -> str:
    name = f"cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{account}-{region}"
    return f"arn:{Aws.PARTITION}:iam::{account}:role/{name}"


def acknowledge_wildcards(policy: iam.Policy, reason: str) -> None:
    """Acknowledge cdk-nag's AwsSolutions-IAM5 for each wildcard resource of ``policy``, one by one.

    cdk-nag v3 reports one finding per wildcard resource (the partition shown as
    ``<AWS::Partition>``); acknowledging them one at a time keeps any new wildcard reported.
    """
    for statement in policy.document.to_json()["Statement"]:
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, str) else resources:
            if "*" in resource:
                shown = resource.replace(Aws.PARTITION, "<AWS::Partition>")
                Validations.of(policy).acknowledge(
                    Acknowledgment(
                        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{shown}]", reason=reason
                    )
                )


def stack_name_for(environments: tuple[str, ...]) -> str:
    return "GitHubOidc-" + "-".join(environments)


class GitHubOidcStack(Stack):
    """The OIDC provider of one account and the roles of the environments deployed there."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        github: GitHubOidcConfig,
        settings: GitHubSettings,
        environments: tuple[EnvironmentConfig, ...],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.settings = settings
        self.provider_arn = self._provider(github)
        self.roles: dict[str, iam.Role] = {}
        for env in environments:
            deploy = self._role("deploy", env.env, github.subject(env.env), github)
            deploy.attach_inline_policy(self._deploy_policy(env))
            verify_subject = github.subject(github.verify_environment(env.env))
            verify = self._role("verify", env.env, verify_subject, github)
            verify.attach_inline_policy(
                self._verify_policy(env, self._may_manage_test_users(env.env))
            )
            change_set = self._role("change-set", env.env, verify_subject, github)
            change_set.attach_inline_policy(self._change_set_policy(env))
            self.roles[f"deploy-{env.env}"] = deploy
            self.roles[f"verify-{env.env}"] = verify
            self.roles[f"change-set-{env.env}"] = change_set
            suffix = env.env.title().replace("-", "")
            CfnOutput(self, f"DeployRoleArn{suffix}", value=deploy.role_arn)
            CfnOutput(self, f"VerifyRoleArn{suffix}", value=verify.role_arn)
            CfnOutput(self, f"ChangeSetRoleArn{suffix}", value=change_set.role_arn)
        # One per account (IAM names are account-wide), for `cdk bootstrap
        # --cloudformation-execution-policies` instead of AdministratorAccess.
        self.execution_policy = CfnExecutionPolicy(
            self, "CfnExecution", environments=environments
        ).policy
        CfnOutput(self, "CfnExecutionPolicyArn", value=self.execution_policy.managed_policy_arn)

    def _may_manage_test_users(self, env: str) -> bool:
        """Whether the verify role of ``env`` may create, sign in and delete Cognito users.

        Only when no reviewer guards ``{env}``: its ``{env}-verify`` jobs run without approval,
        so a pool behind an approval gate must not be administrable from them.
        """
        return not self.settings.environment(env).requires_approval

    def _provider(self, github: GitHubOidcConfig) -> str:
        if not github.create_oidc_provider:
            return f"arn:{Aws.PARTITION}:iam::{self.account}:oidc-provider/{GITHUB_OIDC_HOST}"
        provider = iam.CfnOIDCProvider(
            self,
            "GitHubOidcProvider",
            url=GITHUB_OIDC_URL,
            client_id_list=[AUDIENCE],
            thumbprint_list=list(GITHUB_THUMBPRINTS),
        )
        return provider.attr_arn

    def _role(self, kind: str, env: str, subject: str, github: GitHubOidcConfig) -> iam.Role:
        principal = iam.WebIdentityPrincipal(
            self.provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                    f"{GITHUB_OIDC_HOST}:sub": subject,
                }
            },
        )
        return iam.Role(
            self,
            f"{kind.title().replace('-', '')}Role{env.title().replace('-', '')}",
            role_name=ROLE_NAME_TEMPLATES[kind].format(env=env),
            description=(
                f"GitHub Actions ({github.owner}/{github.repository}), {kind} jobs of {env}"
            ),
            assumed_by=principal,
            max_session_duration=Duration.hours(1),
        )

    def _deploy_policy(self, env: EnvironmentConfig) -> iam.Policy:
        bootstrap_roles = [
            bootstrap_role_arn(kind, env.account, env.region) for kind in BOOTSTRAP_ROLE_KINDS
        ]
        stack_arn = self._stack_arn(env)
        policy = iam.Policy(
            self,
            f"DeployPolicy{env.env.title().replace('-', '')}",
            statements=[
                iam.PolicyStatement(
                    sid="AssumeCdkBootstrapRoles",
                    actions=["sts:AssumeRole", "sts:TagSession"],
                    resources=bootstrap_roles,
                ),
                iam.PolicyStatement(
                    sid="RecoverStuckStack",
                    actions=[
                        "cloudformation:CancelUpdateStack",
                        "cloudformation:ContinueUpdateRollback",
                        "cloudformation:DescribeStackEvents",
                        "cloudformation:DescribeStacks",
                    ],
                    resources=[stack_arn],
                ),
                # ci.rollback_triggers: an UpdateStack that keeps the template and changes only
                # the rollback configuration (CloudFormation keeps using the stack's execution
                # role), and whether an alarm fires before it (no resource-level permission).
                iam.PolicyStatement(
                    sid="SetRollbackTriggers",
                    actions=["cloudformation:UpdateStack"],
                    resources=[stack_arn],
                ),
                iam.PolicyStatement(
                    sid="PassTheExecutionRoleToCloudFormation",
                    actions=["iam:PassRole"],
                    resources=[bootstrap_role_arn("cfn-exec", env.account, env.region)],
                    conditions={
                        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
                    },
                ),
                iam.PolicyStatement(
                    sid="ReadAlarmStates", actions=["cloudwatch:DescribeAlarms"], resources=["*"]
                ),
            ],
        )
        acknowledge_wildcards(
            policy,
            "A stack ARN ends in the id CloudFormation generates: stack/NAME/*; "
            "cloudwatch:DescribeAlarms has no resource-level permissions.",
        )
        return policy

    def _change_set_policy(self, env: EnvironmentConfig) -> iam.Policy:
        account, region = env.account, env.region
        arn = f"arn:{Aws.PARTITION}"
        execution_role = bootstrap_role_arn("cfn-exec", account, region)
        policy = iam.Policy(
            self,
            f"ChangeSetPolicy{env.env.title().replace('-', '')}",
            statements=[
                iam.PolicyStatement(
                    sid="AssumeCdkPublishingAndLookupRoles",
                    actions=["sts:AssumeRole", "sts:TagSession"],
                    resources=[
                        bootstrap_role_arn(kind, account, region)
                        for kind in ("file-publishing", "lookup")
                    ],
                ),
                iam.PolicyStatement(
                    sid="PrepareChangeSetsOfTheStack",
                    actions=list(CHANGE_SET_ACTIONS),
                    resources=[self._stack_arn(env)],
                ),
                iam.PolicyStatement(
                    sid="PassTheExecutionRoleToCloudFormation",
                    actions=["iam:PassRole"],
                    resources=[execution_role],
                    conditions={
                        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
                    },
                ),
                iam.PolicyStatement(
                    sid="ReadBootstrapVersion",
                    actions=["ssm:GetParameter"],
                    resources=[
                        f"{arn}:ssm:{region}:{account}:parameter/cdk-bootstrap/"
                        f"{BOOTSTRAP_QUALIFIER}/version"
                    ],
                ),
            ],
        )
        acknowledge_wildcards(
            policy, "A stack ARN ends in the id CloudFormation generates: stack/NAME/*."
        )
        return policy

    def _stack_arn(self, env: EnvironmentConfig) -> str:
        name = constants.STACK_NAME_TEMPLATE.format(env=env.env)
        return f"arn:{Aws.PARTITION}:cloudformation:{env.region}:{env.account}:stack/{name}/*"

    def _verify_policy(self, env: EnvironmentConfig, test_users: bool) -> iam.Policy:
        account, region, name = env.account, env.region, env.env
        arn = f"arn:{Aws.PARTITION}"
        tables = [
            f"{arn}:dynamodb:{region}:{account}:table/{str(spec['name']).format(env=name)}"
            for spec in constants.TABLES.values()
        ]
        functions = [
            f"{arn}:lambda:{region}:{account}:function:{spec.function_name(name)}"
            for spec in specs.FUNCTIONS.values()
        ]
        stack_name = constants.STACK_NAME_TEMPLATE.format(env=name)
        topic = constants.ALARM_TOPIC_TEMPLATE.format(env=name)
        dashboard = constants.DASHBOARD_NAME_TEMPLATE.format(env=name)
        statements = [
            iam.PolicyStatement(
                sid="AssumeCdkLookupRoleForDiff",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[bootstrap_role_arn("lookup", account, region)],
            ),
            iam.PolicyStatement(
                sid="ReadStacks",
                actions=[
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:DescribeStackResources",
                    "cloudformation:DescribeStacks",
                    "cloudformation:GetTemplate",
                    "cloudformation:ListStackResources",
                ],
                resources=[
                    self._stack_arn(env),
                    f"{arn}:cloudformation:{region}:{account}:stack/CDKToolkit/*",
                ],
            ),
            iam.PolicyStatement(
                sid="ReadBootstrapVersion",
                actions=["ssm:GetParameter"],
                resources=[
                    f"{arn}:ssm:{region}:{account}:parameter/cdk-bootstrap/"
                    f"{BOOTSTRAP_QUALIFIER}/version"
                ],
            ),
            iam.PolicyStatement(
                sid="ReadTables",
                actions=[
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:DescribeTable",
                    "dynamodb:DescribeTimeToLive",
                ],
                resources=tables,
            ),
            iam.PolicyStatement(
                sid="ReadFunctions",
                actions=[
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:GetPolicy",
                ],
                resources=functions,
            ),
            iam.PolicyStatement(
                sid="ReadRolesOfTheStack",
                actions=[
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                ],
                resources=[f"{arn}:iam::{account}:role/{stack_name}-*"],
            ),
            iam.PolicyStatement(
                sid="ReadPoliciesOfTheRoles",
                actions=["iam:GetPolicy", "iam:GetPolicyVersion"],
                resources=[f"{arn}:iam::aws:policy/*", f"{arn}:iam::{account}:policy/*"],
            ),
            iam.PolicyStatement(
                sid="ReadWebSocketApi",
                actions=["apigateway:GET"],
                resources=[
                    f"{arn}:apigateway:{region}::/apis",
                    f"{arn}:apigateway:{region}::/apis/*",
                    f"{arn}:apigateway:{region}::/domainnames/*",
                ],
            ),
            iam.PolicyStatement(
                sid="ReadSchedules",
                actions=["events:DescribeRule", "events:ListTargetsByRule"],
                resources=[
                    f"{arn}:events:{region}:{account}:rule/{rule}"
                    for spec in specs.FUNCTIONS.values()
                    if (rule := spec.schedule_name(name)) is not None
                ],
            ),
            iam.PolicyStatement(
                sid="ReadAlarmTopic",
                actions=["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
                resources=[f"{arn}:sns:{region}:{account}:{topic}"],
            ),
            iam.PolicyStatement(
                sid="ReadDashboard",
                actions=["cloudwatch:GetDashboard"],
                resources=[f"{arn}:cloudwatch::{account}:dashboard/{dashboard}"],
            ),
            iam.PolicyStatement(
                sid="ListWithoutResourceLevelPermissions",
                actions=[
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:ListDashboards",
                    "dynamodb:ListTables",
                    "lambda:ListFunctions",
                    "logs:DescribeLogGroups",
                    "sns:ListSubscriptions",
                    "sns:ListTopics",
                ],
                resources=["*"],
            ),
        ]
        if env.deploy_safety.bake_minutes > 0:
            # The bake job (a verify job: no approval) records the release that baked clean and
            # the undo reads it. Writing it is the one write this role has, on this one
            # parameter: the worst a holder can do is name an earlier release for an undo.
            parameter = constants.RELEASE_PARAMETER_TEMPLATE.format(env=name).lstrip("/")
            statements.append(
                iam.PolicyStatement(
                    sid="RecordCleanRelease",
                    actions=["ssm:GetParameter", "ssm:PutParameter"],
                    resources=[f"{arn}:ssm:{region}:{account}:parameter/{parameter}"],
                )
            )
        if env.custom_domain is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="ReadCustomDomainRecords",
                    actions=["route53:ListResourceRecordSets"],
                    resources=[f"{arn}:route53:::hostedzone/{env.custom_domain.hosted_zone_id}"],
                )
            )
        pool_id = env.cognito.user_pool_id
        if pool_id.startswith(f"{region}_"):
            pool = f"{arn}:cognito-idp:{region}:{account}:userpool/{pool_id}"
            statements.append(
                iam.PolicyStatement(
                    sid="ReadUserPool", actions=list(COGNITO_READ_ACTIONS), resources=[pool]
                )
            )
            if test_users:
                statements.append(
                    iam.PolicyStatement(
                        sid="LoadTestUsers",
                        actions=list(COGNITO_TEST_USER_ACTIONS),
                        resources=[pool],
                    )
                )
        policy = iam.Policy(
            self, f"VerifyPolicy{name.title().replace('-', '')}", statements=statements
        )
        acknowledge_wildcards(
            policy,
            "Read-only: stack ARNs end in a generated id; CDK names the stack's roles {stack}-*; "
            "the roles' managed policies are read by ARN (AWS-managed or the account's); "
            "API Gateway ids are generated; the List/Describe actions of the "
            "ListWithoutResourceLevelPermissions statement have no resource-level permissions.",
        )
        return policy
