"""``infra/config/github.json``: which repository, and which of its environments, may deploy.

Loaded and validated before any construct is built. Every failure is a :class:`GitHubConfigError`
whose one-line message names the file, the field and what is expected::

    infra/config/github.json: repositoryId: expected a positive integer when
    subjectClaimFormat is "immutable" (read it with `gh api repos/OWNER/REPO --jq .id`), got null
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import describe_value, display_path
from session_service import config_rules as rules

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "infra" / "config" / "github.json"

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# The default qualifier of `cdk bootstrap`; the app's stacks use the default synthesizer.
BOOTSTRAP_QUALIFIER = "hnb659fds"
# The OIDC roles of each environment (infra/github_oidc/stack.py builds them; the workflows, via
# `make deploy-target`, and the rehearsal read their names from here).
ROLE_NAME_TEMPLATES = {
    "deploy": "session-management-deploy-{env}",
    "verify": "session-management-verify-{env}",
    "change-set": "session-management-change-set-{env}",
}
# The GitHub environment a job names when it only reads (cdk diff, verification, load test).
VERIFY_ENVIRONMENT_SUFFIX = "-verify"

SUBJECT_FORMAT_NAME = "name"
SUBJECT_FORMAT_IMMUTABLE = "immutable"
SUBJECT_FORMATS = (SUBJECT_FORMAT_NAME, SUBJECT_FORMAT_IMMUTABLE)

_FIELDS = frozenset(
    {
        "owner",
        "repository",
        "ownerId",
        "repositoryId",
        "subjectClaimFormat",
        "environments",
        "createOidcProvider",
    }
)
# GitHub logins: alphanumerics and single hyphens, not at either end, at most 39 characters.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class GitHubConfigError(ValueError):
    """``github.json`` is missing, unreadable or holds a wrong value (one-line message)."""


@dataclass(frozen=True)
class GitHubOidcConfig:
    owner: str
    repository: str
    owner_id: int | None
    repository_id: int | None
    subject_claim_format: str
    environments: tuple[str, ...]
    create_oidc_provider: bool

    @property
    def repository_subject(self) -> str:
        """The repository part of the ``sub`` claim, in the form the repository uses."""
        if self.subject_claim_format == SUBJECT_FORMAT_IMMUTABLE:
            return f"repo:{self.owner}@{self.owner_id}/{self.repository}@{self.repository_id}"
        return f"repo:{self.owner}/{self.repository}"

    def subject(self, github_environment: str) -> str:
        """The exact ``sub`` of a job in this repository that names ``github_environment``."""
        return f"{self.repository_subject}:environment:{github_environment}"

    @staticmethod
    def verify_environment(env: str) -> str:
        """The GitHub environment of the read-only jobs (diff, verification) of ``env``."""
        return f"{env}{VERIFY_ENVIRONMENT_SUFFIX}"


def _environments(value: Any, fail: Callable[[str, str, Any], GitHubConfigError]) -> list[str]:
    if not isinstance(value, list) or not value:
        raise fail("environments", "a non-empty list of environment names", value)
    for index, env in enumerate(value):
        # The rule of infra/config/{env}.json: each of these names one of those files.
        if not rules.ENVIRONMENT_NAME.accepts(env):
            raise fail(f"environments[{index}]", rules.ENVIRONMENT_NAME.expected, env)
        if env.endswith(VERIFY_ENVIRONMENT_SUFFIX):
            raise fail(
                f"environments[{index}]",
                f"a deployment environment (the {VERIFY_ENVIRONMENT_SUFFIX} one is derived)",
                env,
            )
    duplicates = sorted({env for env in value if value.count(env) > 1})
    if duplicates:
        raise fail("environments", "each environment once", duplicates[0])
    return value


def parse_config(raw: Any, shown: str = "infra/config/github.json") -> GitHubOidcConfig:
    """Validate the parsed JSON ``raw``; ``shown`` names the file in error messages."""

    def fail(field: str, expected: str, value: Any) -> GitHubConfigError:
        return GitHubConfigError(
            f"{shown}: {field}: expected {expected}, got {describe_value(value)}"
        )

    if not isinstance(raw, dict):
        raise fail("(top level)", "an object", raw)
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        expected = ", ".join(sorted(_FIELDS))
        raise GitHubConfigError(
            f"{shown}: unknown field(s) {', '.join(unknown)}; expected only {expected}"
        )

    owner = raw.get("owner")
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise fail("owner", "the GitHub owner (user or organization) as GitHub spells it", owner)
    repository = raw.get("repository")
    if (
        not isinstance(repository, str)
        or not _REPOSITORY.match(repository)
        or repository in {".", ".."}
    ):
        raise fail("repository", "the repository name without the owner, e.g. REPO", repository)

    subject_format = raw.get("subjectClaimFormat", SUBJECT_FORMAT_NAME)
    if subject_format not in SUBJECT_FORMATS:
        raise fail(
            "subjectClaimFormat",
            '"name" (repo:OWNER/REPO:…) or "immutable" (repo:OWNER@OWNER_ID/REPO@REPO_ID:…)',
            subject_format,
        )

    ids: dict[str, int | None] = {}
    for field, how in (
        ("ownerId", f"gh api repos/{owner}/{repository} --jq .owner.id"),
        ("repositoryId", f"gh api repos/{owner}/{repository} --jq .id"),
    ):
        value = raw.get(field)
        if value is None and subject_format == SUBJECT_FORMAT_NAME:
            ids[field] = None
            continue
        if not rules.is_positive_integer(value):
            required = (
                ' when subjectClaimFormat is "immutable"'
                if subject_format == SUBJECT_FORMAT_IMMUTABLE
                else " or null"
            )
            raise fail(field, f"a positive integer{required} (read it with `{how}`)", value)
        ids[field] = value

    environments = _environments(raw.get("environments"), fail)

    create_provider = raw.get("createOidcProvider", True)
    if not isinstance(create_provider, bool):
        raise fail(
            "createOidcProvider",
            "true (create the provider) or false (the account already has it)",
            create_provider,
        )

    return GitHubOidcConfig(
        owner=owner,
        repository=repository,
        owner_id=ids["ownerId"],
        repository_id=ids["repositoryId"],
        subject_claim_format=subject_format,
        environments=tuple(environments),
        create_oidc_provider=create_provider,
    )


def read_json(
    source: Path, missing_hint: str = "copy the example in docs/pipelines.md"
) -> tuple[Any, str]:
    """The parsed JSON of ``source`` and its name as errors show it (GitHubConfigError if not).

    Shared by the loaders of ``github.json`` and ``github-settings.json`` so that a missing or
    broken file reads the same in both.
    """
    shown = display_path(source)
    if not source.is_file():
        raise GitHubConfigError(f"{shown}: no such file; {missing_hint}")
    try:
        return json.loads(source.read_text(encoding="utf-8")), shown
    except json.JSONDecodeError as err:
        raise GitHubConfigError(
            f"{shown}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None


def load_github_config(path: Path | None = None) -> GitHubOidcConfig:
    """Load and validate ``infra/config/github.json`` (or ``path``)."""
    raw, shown = read_json(path or DEFAULT_CONFIG_PATH)
    return parse_config(raw, shown)
