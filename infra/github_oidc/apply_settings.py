"""Apply infra/config/github-settings.json to a repository with `gh api` (make github-settings).

The environments (deployment branch and tag rules, required reviewers, self-review), the tag
ruleset and the branch protection of main, as the file describes them: the same rules
``make rehearse`` enforces. Without ``--apply`` it prints the ``gh api`` calls it would make;
with it, it runs them (``gh`` authenticated as a repository administrator). Secrets and
variables are listed, never set: their values are not in the repository.

    python -m infra.github_oidc.apply_settings --repo OWNER/REPO            # print the calls
    python -m infra.github_oidc.apply_settings --repo OWNER/REPO --apply    # make them
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from infra.github_oidc.config import GitHubConfigError
from infra.github_oidc.settings import GitHubSettings, load_github_settings

_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Call:
    """One ``gh api`` call: method, path, JSON body (None for none)."""

    method: str
    path: str
    body: dict[str, object] | None = None

    def argv(self) -> list[str]:
        args = ["gh", "api", "--method", self.method, self.path]
        if self.body is not None:
            args += ["--input", "-"]
        return args

    def shown(self) -> str:
        text = " ".join(self.argv())
        return text + (f" <<< '{json.dumps(self.body)}'" if self.body is not None else "")


def calls(settings: GitHubSettings, repo: str) -> list[Call]:
    """The API calls that make the repository's settings what the file says."""
    found: list[Call] = []
    for name, env in settings.environments.items():
        reviewers = [
            # The API takes ids: a placeholder here, resolved by `gh api` when applying.
            {"type": r.type, "id": f"{{id of {r.type.lower()} {r.name}}}"}
            for r in env.reviewers
        ]
        found.append(
            Call(
                "PUT",
                f"repos/{repo}/environments/{name}",
                {
                    "reviewers": reviewers,
                    "prevent_self_review": env.prevent_self_review,
                    "deployment_branch_policy": {
                        "protected_branches": False,
                        "custom_branch_policies": True,
                    },
                },
            )
        )
        for kind, patterns in (("branch", env.branches), ("tag", env.tags)):
            found += [
                Call(
                    "POST",
                    f"repos/{repo}/environments/{name}/deployment-branch-policies",
                    {"name": pattern, "type": kind},
                )
                for pattern in patterns
            ]
    ruleset = settings.tag_ruleset
    found.append(
        Call(
            "POST",
            f"repos/{repo}/rulesets",
            {
                "name": ruleset.name,
                "target": "tag",
                "enforcement": "active",
                "conditions": {"ref_name": {"include": list(ruleset.include), "exclude": []}},
                "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
                "bypass_actors": [
                    {"actor_type": "Team", "actor_id": f"{{id of team {team}}}"}
                    for team in ruleset.bypass_teams
                ],
            },
        )
    )
    protection = settings.branch_protection
    found.append(
        Call(
            "PUT",
            f"repos/{repo}/branches/{protection.branch}/protection",
            {
                "required_status_checks": {
                    "strict": True,
                    "contexts": list(protection.required_checks),
                },
                "enforce_admins": True,
                "required_pull_request_reviews": {"required_approving_review_count": 1},
                "restrictions": None,
            },
        )
    )
    return found


def _resolve_ids(body: dict[str, object], org: str) -> dict[str, object]:
    """Replace ``{id of team SLUG}`` / ``{id of user LOGIN}`` by the ids GitHub gives them."""
    text = json.dumps(body)
    for kind, name in set(re.findall(r"\{id of (team|user) ([^}]+)\}", text)):
        path = f"orgs/{org}/teams/{name}" if kind == "team" else f"users/{name}"
        answer = subprocess.run(  # noqa: S603
            ["gh", "api", path, "--jq", ".id"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
        text = text.replace(f'"{{id of {kind} {name}}}"', answer.stdout.strip())
    resolved: dict[str, object] = json.loads(text)
    return resolved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="OWNER/REPO")
    parser.add_argument("--apply", action="store_true", help="make the calls (default: print)")
    args = parser.parse_args(argv)
    if not _REPO.match(args.repo):
        print(f"error: --repo: expected OWNER/REPO, got {args.repo!r}", file=sys.stderr)
        return 2
    try:
        settings = load_github_settings()
    except GitHubConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    planned = calls(settings, args.repo)
    for call in planned:
        if not args.apply:
            print(call.shown())
            continue
        body = _resolve_ids(call.body, args.repo.split("/")[0]) if call.body else None
        done = subprocess.run(  # noqa: S603
            call.argv(), input=json.dumps(body) if body else None, text=True, check=False
        )
        if done.returncode != 0:
            print(f"error: {call.method} {call.path} failed (exit {done.returncode})")
            return 1
    for name, env in settings.environments.items():
        for secret in env.secrets:
            print(f"# set by hand: gh secret set {secret} --env {name}")
        for variable in env.variables:
            print(f"# set by hand: gh variable set {variable} --env {name} --body ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
