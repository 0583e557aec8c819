"""GitHub environments as the rehearsal enforces them: deployment rules, reviewers, OIDC subjects.

act runs a job whatever environment it names. GitHub would refuse a job whose environment's
deployment rules do not admit the run's ref, hold a job whose environment has required reviewers
until one approves, and mint the job an OIDC token whose subject is its environment. The
rehearsal applies those rules where a job first needs its environment: the credentials stand-in
(a job's AWS role trusts exactly one environment's subject, so that is where an environment
protects anything). The rules come from ``infra/config/github-settings.json``, as applied by
``make github-settings``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.github_oidc.config import ROLE_NAME_TEMPLATES
from infra.github_oidc.settings import EnvironmentSettings, GitHubSettings

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# One pattern per OIDC role (infra.github_oidc.config.ROLE_NAME_TEMPLATES): which env it serves.
_ROLE_ENVIRONMENT = [
    re.compile(":role/" + re.escape(template).replace(r"\{env\}", "(?P<env>[a-z0-9-]+)") + "$")
    for template in ROLE_NAME_TEMPLATES.values()
]


class Refused(Exception):
    """GitHub would not run (or would fail) the job: the message is GitHub's own wording."""


def _pattern(glob: str) -> re.Pattern[str]:
    """GitHub's fnmatch-style deployment-rule pattern: ``*`` stops at ``/``, ``**`` does not."""
    out = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def admits(environment: EnvironmentSettings, ref: str) -> bool:
    """Whether the environment's deployment branch and tag rules admit the run's ``ref``."""
    if ref.startswith("refs/heads/"):
        name, patterns = ref.removeprefix("refs/heads/"), environment.branches
    elif ref.startswith("refs/tags/"):
        name, patterns = ref.removeprefix("refs/tags/"), environment.tags
    else:
        return False
    return any(_pattern(p).match(name) for p in patterns)


def check_ref(settings: GitHubSettings, name: str, ref: str) -> EnvironmentSettings:
    """The environment's settings when it admits ``ref``; :class:`Refused` in GitHub's words."""
    environment = settings.environments.get(name)
    if environment is None:
        # GitHub creates an environment a job names on first use, unprotected: the settings file
        # must list every environment the workflows name, or the rehearsal stops here.
        raise Refused(f"environment {name} is not in {settings.shown}: add it with its rules")
    if not admits(environment, ref):
        kind = "Tag" if ref.startswith("refs/tags/") else "Branch"
        short = ref.split("/", 2)[-1]
        raise Refused(
            f'{kind} "{short}" is not allowed to deploy to {name} due to environment '
            "protection rules."
        )
    return environment


def check_approval(
    name: str, environment: EnvironmentSettings, approvals: list[dict[str, Any]], actor: str
) -> str | None:
    """The approver of a job in an environment with required reviewers (None: none needed)."""
    if not environment.requires_approval:
        return None
    for approval in approvals:
        if name not in [e["name"] for e in approval.get("environments", [])]:
            continue
        login = approval["user"]["login"]
        if approval["state"] == "rejected":
            raise Refused(f"The deployment to {name} was rejected by {login}.")
        if environment.prevent_self_review and login == actor:
            raise Refused(f"{login} triggered the run and may not approve its deployment to {name}")
        return str(login)
    raise Refused(f"Waiting for a review of {name}: no required reviewer approved this run.")


def job_environment(workflows: Path, workflow_name: str, job_id: str, role_arn: str) -> str | None:
    """The environment job ``job_id`` of the workflow called ``workflow_name`` names.

    act does not expose it to the job, so it is read from the workflow file of the run's commit.
    An expression in it (``${{ inputs.environment }}-verify``) is evaluated with the environment
    whose role the job asks for: the one value GitHub could have given it that leads to that
    role at all. The subject is then checked against the role's trust policy as AWS would.
    """
    for path in sorted(workflows.glob("*.y*ml")):
        document = yaml.safe_load(path.read_text()) or {}
        if document.get("name") != workflow_name:
            continue
        job = (document.get("jobs") or {}).get(job_id)
        if job is None:
            continue
        value = job.get("environment")
        if isinstance(value, dict):
            value = value.get("name")
        if value is None:
            return None
        text = str(value)
        if _EXPRESSION.search(text):
            found = next((m for p in _ROLE_ENVIRONMENT if (m := p.search(role_arn))), None)
            if not found:
                raise Refused(
                    f"job {job_id} of {workflow_name} names the environment {text!r}, which the "
                    f"rehearsal can only resolve for a session-management role, not {role_arn}"
                )
            text = _EXPRESSION.sub(found.group("env"), text)
        return text
    raise Refused(f"no job {job_id} in a workflow named {workflow_name!r} under {workflows}")
