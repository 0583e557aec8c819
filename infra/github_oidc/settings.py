"""``infra/config/github-settings.json``: the GitHub environments of the repository, as code.

The OIDC stack reads it to decide what a role may do from what guards the environment its trust
policy admits: a role whose jobs run without a required reviewer must not be able to do what
only an approved job may (for example, administer the users of a pool that has reviewers).
Every failure is a :class:`~infra.github_oidc.config.GitHubConfigError` whose one-line message
names the file, the field and what is expected::

    infra/config/github-settings.json: environments.prod.reviewers[0].type: expected "Team" or
    "User", got "team"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import describe_value
from infra.github_oidc.config import REPO_ROOT, GitHubConfigError, read_json

DEFAULT_SETTINGS_PATH = REPO_ROOT / "infra" / "config" / "github-settings.json"

_TOP_FIELDS = frozenset({"environments", "tagRuleset", "branchProtection"})
_ENVIRONMENT_FIELDS = frozenset(
    {"branches", "tags", "reviewers", "preventSelfReview", "secrets", "variables"}
)
# The field that names a reviewer, per reviewer type (GitHub: a team's slug, a user's login).
_REVIEWER_NAME_FIELD = {"Team": "slug", "User": "login"}
_RULESET_FIELDS = frozenset({"name", "include", "bypassTeams"})
_PROTECTION_FIELDS = frozenset({"branch", "requiredChecks"})
_GITHUB_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
# GitHub secret and variable names: letters, digits, underscores; not starting with a digit.
_SECRET_NAME = re.compile(r"^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$")


class _Errors:
    """Builds the one-line errors of one settings file."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __call__(self, field: str, expected: str, value: Any) -> GitHubConfigError:
        return GitHubConfigError(
            f"{self.shown}: {field}: expected {expected}, got {describe_value(value)}"
        )

    def unknown(self, field: str, fields: frozenset[str]) -> GitHubConfigError:
        return GitHubConfigError(
            f"{self.shown}: {field}: unknown field; expected one of: " + ", ".join(sorted(fields))
        )


_Fail = _Errors


@dataclass(frozen=True)
class Reviewer:
    type: str  # "Team" or "User"
    name: str  # the team's slug or the user's login


@dataclass(frozen=True)
class EnvironmentSettings:
    """One GitHub environment: where it may deploy from, who approves, what it holds."""

    branches: tuple[str, ...]
    tags: tuple[str, ...]
    reviewers: tuple[Reviewer, ...]
    prevent_self_review: bool
    secrets: tuple[str, ...]
    variables: tuple[str, ...]

    @property
    def requires_approval(self) -> bool:
        """Whether a job naming this environment waits for a required reviewer."""
        return bool(self.reviewers)


@dataclass(frozen=True)
class TagRuleset:
    name: str
    include: tuple[str, ...]
    bypass_teams: tuple[str, ...]


@dataclass(frozen=True)
class BranchProtection:
    branch: str
    required_checks: tuple[str, ...]


@dataclass(frozen=True)
class GitHubSettings:
    shown: str  # the file as error messages name it
    environments: Mapping[str, EnvironmentSettings]
    tag_ruleset: TagRuleset
    branch_protection: BranchProtection

    def environment(self, name: str) -> EnvironmentSettings:
        """The settings of GitHub environment ``name``; refuses one the file does not define.

        A role is only as safe as what guards its environment, so an environment the file does
        not describe stops the app rather than being taken as unguarded or guarded.
        """
        try:
            return self.environments[name]
        except KeyError:
            raise GitHubConfigError(
                f"{self.shown}: environments.{name}: expected the GitHub environment {name} "
                "(each environment of infra/config/github.json needs {env} and {env}-verify), "
                "missing"
            ) from None


def _strings(
    value: Any, field: str, expected: str, fail: _Fail, pattern: re.Pattern[str] | None = None
) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise fail(field, f"a list of {expected}", value)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or (pattern and not pattern.match(item)):
            raise fail(f"{field}[{index}]", expected, item)
    return tuple(value)


def _object(value: Any, field: str, fields: frozenset[str], fail: _Fail) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(field, "an object", value)
    unknown = sorted(set(value) - fields)
    if unknown:
        where = f"{field}." if field != "(top level)" else ""
        raise fail.unknown(f"{where}{unknown[0]}", fields)
    return value


def _reviewer(value: Any, field: str, fail: _Fail) -> Reviewer:
    if not isinstance(value, dict):
        raise fail(field, 'an object such as {"type": "Team", "slug": "approvers"}', value)
    kind = value.get("type")
    if kind not in _REVIEWER_NAME_FIELD:
        raise fail(f"{field}.type", '"Team" or "User"', kind)
    key = _REVIEWER_NAME_FIELD[kind]
    name = value.get(key)
    if not isinstance(name, str) or not name:
        raise fail(f"{field}.{key}", f"the {kind.lower()}'s {key}", name)
    return Reviewer(type=kind, name=name)


def _environment(value: Any, field: str, fail: _Fail) -> EnvironmentSettings:
    raw = _object(value, field, _ENVIRONMENT_FIELDS, fail)
    reviewers = raw.get("reviewers", [])
    if not isinstance(reviewers, list):
        raise fail(f"{field}.reviewers", "a list of reviewers ([] for none)", reviewers)
    prevent = raw.get("preventSelfReview", False)
    if not isinstance(prevent, bool):
        raise fail(f"{field}.preventSelfReview", "true or false", prevent)
    names = "names of letters, digits and underscores (not GITHUB_...)"
    return EnvironmentSettings(
        branches=_strings(raw.get("branches", []), f"{field}.branches", "branch patterns", fail),
        tags=_strings(raw.get("tags", []), f"{field}.tags", "tag patterns", fail),
        reviewers=tuple(
            _reviewer(item, f"{field}.reviewers[{index}]", fail)
            for index, item in enumerate(reviewers)
        ),
        prevent_self_review=prevent,
        secrets=_strings(raw.get("secrets", []), f"{field}.secrets", names, fail, _SECRET_NAME),
        variables=_strings(
            raw.get("variables", []), f"{field}.variables", names, fail, _SECRET_NAME
        ),
    )


def parse_settings(raw: Any, shown: str = "infra/config/github-settings.json") -> GitHubSettings:
    """Validate the parsed JSON ``raw``; ``shown`` names the file in error messages."""

    fail = _Errors(shown)
    top = _object(raw, "(top level)", _TOP_FIELDS, fail)
    environments = top.get("environments")
    if not isinstance(environments, dict) or not environments:
        raise fail("environments", "an object of GitHub environments by name", environments)
    parsed: dict[str, EnvironmentSettings] = {}
    for name, value in environments.items():
        if not _GITHUB_ENVIRONMENT.match(name):
            raise fail("environments", "GitHub environment names", name)
        parsed[name] = _environment(value, f"environments.{name}", fail)
    ruleset = _object(top.get("tagRuleset"), "tagRuleset", _RULESET_FIELDS, fail)
    protection = _object(top.get("branchProtection"), "branchProtection", _PROTECTION_FIELDS, fail)
    return GitHubSettings(
        shown=shown,
        environments=parsed,
        tag_ruleset=TagRuleset(
            name=_nonempty(ruleset.get("name"), "tagRuleset.name", fail),
            include=_strings(ruleset.get("include"), "tagRuleset.include", "ref patterns", fail),
            bypass_teams=_strings(
                ruleset.get("bypassTeams", []), "tagRuleset.bypassTeams", "team slugs", fail
            ),
        ),
        branch_protection=BranchProtection(
            branch=_nonempty(protection.get("branch"), "branchProtection.branch", fail),
            required_checks=_strings(
                protection.get("requiredChecks"),
                "branchProtection.requiredChecks",
                "check names",
                fail,
            ),
        ),
    )


def _nonempty(value: Any, field: str, fail: _Fail) -> str:
    if not isinstance(value, str) or not value:
        raise fail(field, "a non-empty string", value)
    return value


def load_github_settings(path: Path | None = None) -> GitHubSettings:
    """Load and validate ``infra/config/github-settings.json`` (or ``path``)."""
    raw, shown = read_json(
        path or DEFAULT_SETTINGS_PATH, "it holds the GitHub environments (docs/pipelines.md, §3)"
    )
    return parse_settings(raw, shown)
