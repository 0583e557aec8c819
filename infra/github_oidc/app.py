"""CDK app of the GitHub OIDC stacks (``make oidc-synth``).

    cdk synth --app ".venv/bin/python -m infra.github_oidc.app"

One stack per AWS account named in ``infra/config/{env}.json`` of the environments listed in
``infra/config/github.json``. Deploy a stack with that account's administrator credentials::

    cdk deploy --app ".venv/bin/python -m infra.github_oidc.app" GitHubOidc-prod

Context ``githubConfig=PATH`` reads another config file, ``githubSettings=PATH`` another
``infra/config/github-settings.json`` (the tests use them). The settings decide what a role may
do from whether its environment has required reviewers.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, ConfigWarning, load_config
from infra.github_oidc.config import GitHubConfigError, load_github_config
from infra.github_oidc.settings import load_github_settings
from infra.github_oidc.stack import GitHubOidcStack, stack_name_for


def build(app: App) -> list[GitHubOidcStack]:
    """Add the stacks to ``app``; raises GitHubConfigError or ConfigError on a bad config."""
    path = app.node.try_get_context("githubConfig")
    github = load_github_config(Path(path) if path else None)
    settings_path = app.node.try_get_context("githubSettings")
    settings = load_github_settings(Path(settings_path) if settings_path else None)
    for name in github.environments:
        # Fail closed: a role's permissions depend on its environment's reviewers.
        settings.environment(name)
        settings.environment(github.verify_environment(name))
    by_account: dict[str, list] = {}
    for name in github.environments:
        with warnings.catch_warnings():
            # Adjustments of the service's settings (e.g. log retention) do not concern this app.
            warnings.simplefilter("ignore", ConfigWarning)
            env = load_config(name)
        by_account.setdefault(env.account, []).append(env)
    stacks = []
    for account, envs in by_account.items():
        names = tuple(env.env for env in envs)
        stack = GitHubOidcStack(
            app,
            stack_name_for(names),
            github=github,
            settings=settings,
            environments=tuple(envs),
            env=Environment(account=account, region=envs[0].region),
            description="GitHub Actions OIDC provider and deploy/verify roles (session-management)",
        )
        Tags.of(stack).add("service", "session-management")
        stacks.append(stack)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stacks


def main() -> None:
    app = App()
    try:
        build(app)
    except (GitHubConfigError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    app.synth()


if __name__ == "__main__":
    main()
