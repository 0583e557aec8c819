"""The workflows' third-party actions as the rehearsal runs them (``python -m rehearsal.standins``).

Each stand-in (``rehearsal/actions/<action>/action.yml``, mapped by act's ``--local-repository``
to the pinned ``owner/repo@sha``) takes the real action's inputs, refuses what the real action
refuses, and does its effect on this machine:

- ``checkout``: clones the rehearsal's origin repository as actions/checkout fetches it
  (``fetch-depth`` 1 by default: one commit, no tags, no other branches; 0: everything).
- ``setup-python`` / ``setup-node``: the machine's interpreters, checked against the version asked
  for, and the tools ``make install`` put in the repository the rehearsal runs from (one set for
  every job, as a runner's tool cache would be).
- ``upload-artifact`` / ``download-artifact``: files under the rehearsal's state folder, named
  uniquely per run, hidden files left out unless asked for, another run's artifacts only with a
  token, as actions/upload-artifact v4+ and download-artifact do.
- ``configure-aws-credentials``: GitHub's environment rules and reviewers for the job's
  environment, the role's trust policy (from the synthesized OIDC stacks) against the job's
  OIDC subject, ``allowed-account-ids``, then credentials of that account from the local AWS.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from infra.github_oidc.settings import parse_settings
from rehearsal.environments import Refused, check_approval, check_ref, job_environment
from rehearsal.github import GitHub

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


class ActionFailed(Exception):
    """The real action would fail the step: the message is what it prints (``::error::``)."""


def _input(name: str, default: str = "") -> str:
    """An action input as act hands it to the composite step (``INPUT_<NAME>``)."""
    return os.environ.get("INPUT_" + name.upper().replace("-", "_"), default).strip()


def _truthy(value: str) -> bool:
    return value.lower() in ("true", "1", "yes")


def _append(variable: str, lines: Sequence[str]) -> None:
    with open(os.environ[variable], "a", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def _workspace() -> Path:
    return Path(os.environ["GITHUB_WORKSPACE"])


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False  # noqa: S607
    )
    if done.returncode != 0:
        raise ActionFailed(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


# --- actions/checkout ------------------------------------------------------------------------
def checkout() -> None:
    repository = _input("repository") or os.environ["GITHUB_REPOSITORY"]
    if repository != os.environ["REHEARSAL_REPOSITORY"]:
        raise ActionFailed(f"repository {repository} cannot be fetched here (offline)")
    ref = _input("ref") or os.environ["GITHUB_SHA"]
    depth = int(_input("fetch-depth", "1") or "1")
    target = _workspace() / _input("path")
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    origin = os.environ["REHEARSAL_ORIGIN"]
    _git("init", "-q", cwd=target)
    _git("remote", "add", "origin", origin, cwd=target)
    if depth == 0:
        # fetch-depth 0: every branch and tag, as actions/checkout fetches them.
        _git(
            "fetch", "-q", "--prune", "--tags", "origin",
            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*", cwd=target,
        )  # fmt: skip
        commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}", cwd=target)
    else:
        _git("fetch", "-q", "--no-tags", f"--depth={depth}", "origin", ref, cwd=target)
        commit = _git("rev-parse", "FETCH_HEAD", cwd=target)
    _git("checkout", "-q", "--detach", commit, cwd=target)
    print(f"checkout (stand-in): {repository} at {ref} ({commit[:12]}), fetch-depth {depth}")


# --- actions/setup-python, actions/setup-node ---------------------------------------------------
def _version(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    return (done.stdout or done.stderr).strip().split()[-1].lstrip("v")


def _stamp_hash(*names: str) -> str:
    """The hash the Makefile names an install stamp after (``cat FILES | sha256sum``)."""
    data = b"".join((_workspace() / name).read_bytes() for name in names)
    return hashlib.sha256(data).hexdigest()[:16]


def _require_shared_install(stamp: Path, *names: str) -> None:
    """The shared tools were installed from the job's own dependency files, or the job stops.

    Every job shares the rehearsal's tools; a job whose files differ would run `make install`
    into them (and repoint the editable install at its own, short-lived workspace).
    """
    expected = stamp.parent / f"{stamp.name}-{_stamp_hash(*names)}"
    if not expected.exists():
        raise ActionFailed(
            f"{' and '.join(names)} differ from what the rehearsal's tools were installed from "
            f"({stamp.parent}): the rehearsal shares one install across jobs; run `make install` "
            "before `make rehearse`, and rehearse no commit that changes dependencies"
        )


def setup_python() -> None:
    wanted = _input("python-version")
    have = _version(["python3", "--version"])
    if wanted and not (have == wanted or have.startswith(wanted + ".")):
        raise ActionFailed(f"Python {wanted} is not on this machine (it has {have})")
    home = Path(os.environ["REHEARSAL_HOME"])
    _require_shared_install(home / ".venv" / ".installed", "requirements.lock", "pyproject.toml")
    _require_shared_install(home / ".venv-taskcat" / ".installed", "requirements-taskcat.lock")
    _append(
        "GITHUB_ENV",
        [
            f"VENV={home / '.venv'}",
            f"TASKCAT_VENV={home / '.venv-taskcat'}",
            # The shared venv's editable install points at the rehearsal's own tree; the job's
            # checkout must win, so its src/ comes first.
            f"PYTHONPATH={_workspace() / 'src'}",
        ],
    )
    print(f"setup-python (stand-in): Python {have} of this machine, tools of {home}/.venv")


def setup_node() -> None:
    wanted = _input("node-version")
    have = _version(["node", "--version"])
    if wanted and have.split(".")[0] != wanted.split(".")[0]:
        # The real action would download Node; offline, the machine's Node runs the CDK CLI
        # (which supports both), and the difference is said here.
        print(f"::warning::setup-node (stand-in): Node {wanted} asked for; this machine has {have}")
    home = Path(os.environ["REHEARSAL_HOME"])
    _require_shared_install(
        home / "node_modules" / ".installed", "package.json", "package-lock.json"
    )
    _append("GITHUB_ENV", [f"NODE_PREFIX={home}"])
    print(f"setup-node (stand-in): Node {have} of this machine, CDK CLI of {home}/node_modules")


# --- actions/upload-artifact, actions/download-artifact -----------------------------------------
def _hidden(path: Path, base: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(base).parts)


def _matches(pattern: str) -> list[Path]:
    workspace = _workspace()
    hits = [workspace / p for p in _glob(workspace, pattern)]
    files: list[Path] = []
    for hit in hits:
        if hit.is_dir():
            files.extend(p for p in hit.rglob("*") if p.is_file())
        elif hit.is_file():
            files.append(hit)
    return files


def _glob(root: Path, pattern: str) -> list[str]:
    pattern = pattern.rstrip("/")
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if (root / pattern).exists() else []
    return [str(p.relative_to(root)) for p in root.glob(pattern)]


def upload_artifact() -> None:
    name = _input("name", "artifact") or "artifact"
    lines = [line.strip() for line in _input("path").splitlines() if line.strip()]
    if not lines:
        raise ActionFailed("Input required and not supplied: path")
    include_hidden = _truthy(_input("include-hidden-files", "false"))
    workspace = _workspace()
    files: set[Path] = set()
    for line in lines:
        if line.startswith("!"):
            files -= {f for f in files if fnmatch.fnmatch(str(f.relative_to(workspace)), line[1:])}
        else:
            files |= set(_matches(line))
    roots = [workspace / line.rstrip("/") for line in lines if not line.startswith("!")]
    base = Path(os.path.commonpath([r if r.is_dir() else r.parent for r in roots]))
    if not include_hidden:
        files = {f for f in files if not _hidden(f, base)}
    if not files:
        mode = _input("if-no-files-found", "warn") or "warn"
        message = f"No files were found with the provided path: {' '.join(lines)}."
        if mode == "error":
            raise ActionFailed(message + " No artifacts will be uploaded.")
        if mode == "warn":
            print(f"::warning::{message} No artifacts will be uploaded.")
        return
    github = GitHub.from_environment()
    run_id = int(os.environ["GITHUB_RUN_ID"])
    try:
        github.add_artifact(run_id, name, sum(f.stat().st_size for f in files))
    except FileExistsError as err:
        raise ActionFailed(str(err)) from None
    target = github.artifact_dir(run_id, name)
    for file in files:
        destination = target / file.relative_to(base)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    print(f"upload-artifact (stand-in): {name}: {len(files)} files from {base} (run {run_id})")


def download_artifact() -> None:
    github = GitHub.from_environment()
    token = _input("github-token")
    run_id = int(os.environ["GITHUB_RUN_ID"])
    if token and _input("run-id"):
        run_id = int(_input("run-id"))  # another run: only with a token, as the real action
    name, pattern = _input("name"), _input("pattern")
    merge = _truthy(_input("merge-multiple", "false"))
    path = _workspace() / (_input("path") or ".")
    available = [a for a in github.artifacts(run_id=run_id) if not a["expired"]]
    if name:
        chosen = [a for a in available if a["name"] == name]
        if not chosen:
            raise ActionFailed(
                f"Unable to download artifact(s): Artifact not found for name: {name} "
                f"(run {run_id})"
            )
    else:
        chosen = [a for a in available if not pattern or fnmatch.fnmatch(a["name"], pattern)]
    for artifact in chosen:
        source = github.artifact_dir(run_id, artifact["name"])
        target = path if (name or merge) else path / artifact["name"]
        shutil.copytree(source, target, dirs_exist_ok=True)
        print(f"download-artifact (stand-in): {artifact['name']} of run {run_id} into {target}")
    if not chosen:
        print(f"download-artifact (stand-in): no artifact matches {pattern!r} in run {run_id}")


# --- aws-actions/configure-aws-credentials -----------------------------------------------------
def _trust() -> dict[str, dict[str, object]]:
    path = Path(os.environ["REHEARSAL_STATE"]) / "trust.json"
    data: dict[str, dict[str, object]] = json.loads(path.read_text())
    return data


def _subject(environment: str | None) -> str:
    repository = os.environ["GITHUB_REPOSITORY"]
    if environment:
        return f"repo:{repository}:environment:{environment}"
    if os.environ.get("GITHUB_EVENT_NAME") == "pull_request":
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:{os.environ['GITHUB_REF']}"


def _websocket_url(stack: str) -> str | None:
    control = os.environ.get("LOCAL_AWS_CONTROL_URL")
    if not control:
        return None
    try:
        url_of_stack = f"{control}/stacks/{stack}"  # the local control API (http://127.0.0.1)
        with urllib.request.urlopen(url_of_stack, timeout=10) as answer:  # noqa: S310
            url = json.load(answer).get("websocketUrl")
    except OSError:
        return None
    return str(url) if url else None


def configure_aws_credentials() -> None:
    role = _input("role-to-assume")
    region = _input("aws-region")
    if not role:
        # What v6 says when OIDC is the only source and no role is given.
        raise ActionFailed(
            "Credentials could not be loaded, please check your action inputs: Could not load "
            "credentials from any providers"
        )
    found = _ROLE_ARN.match(role)
    if not found:
        raise ActionFailed(f"role-to-assume is not the ARN of a role: {role!r}")
    if not _REGION.match(region):
        raise ActionFailed(f"Region is not valid: {region!r}")
    session_name = _input("role-session-name", "GitHubActions") or "GitHubActions"
    if not _SESSION_NAME.match(session_name):
        raise ActionFailed(f"Role session name is not valid: {session_name!r}")
    state = Path(os.environ["REHEARSAL_STATE"])
    run_id = int(os.environ["GITHUB_RUN_ID"])
    github = GitHub(state)
    run = github.run(run_id) or {}
    environment = job_environment(
        state / "runs" / str(run_id) / "workflows",
        os.environ["GITHUB_WORKFLOW"],
        os.environ["GITHUB_JOB"],
        role,
    )
    approver = None
    if environment is not None:
        settings = parse_settings(json.loads((state / "github-settings.json").read_text()))
        env_settings = check_ref(settings, environment, os.environ["GITHUB_REF"])
        actor = str(run.get("triggering_actor", {}).get("login", ""))
        approver = check_approval(environment, env_settings, run.get("approvals", []), actor)
    subject = _subject(environment)
    trust = _trust().get(role)
    if trust is None or subject not in trust["subjects"]:  # type: ignore[operator]
        raise ActionFailed(
            f"Could not assume role with OIDC: Not authorized to perform "
            f"sts:AssumeRoleWithWebIdentity (role {role}, token subject {subject})"
        )
    duration = int(_input("role-duration-seconds", "3600") or "3600")
    if duration > int(str(trust["maxSessionDuration"])):
        raise ActionFailed(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    account = found.group("account")
    allowed = [a.strip() for a in _input("allowed-account-ids").split(",") if a.strip()]
    if allowed and account not in allowed:
        raise ActionFailed(
            "The account ID of the provided credentials is not in 'allowed-account-ids'"
        )
    endpoint = os.environ["REHEARSAL_AWS_ENDPOINT"]
    sts = boto3.client(
        "sts",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="oidc",
        aws_secret_access_key="oidc",  # noqa: S106
    )
    credentials = sts.assume_role_with_web_identity(
        RoleArn=role,
        RoleSessionName=session_name,
        WebIdentityToken=f"rehearsal-oidc-token-for:{subject}",
        DurationSeconds=duration,
    )["Credentials"]
    print(f"::add-mask::{credentials['SecretAccessKey']}")
    print(f"::add-mask::{credentials['SessionToken']}")
    if _truthy(_input("mask-aws-account-id", "false")):
        print(f"::add-mask::{account}")
    lines = [
        f"AWS_ACCESS_KEY_ID={credentials['AccessKeyId']}",
        f"AWS_SECRET_ACCESS_KEY={credentials['SecretAccessKey']}",
        f"AWS_SESSION_TOKEN={credentials['SessionToken']}",
        f"AWS_REGION={region}",
        f"AWS_DEFAULT_REGION={region}",
        f"AWS_ENDPOINT_URL={endpoint}",
    ]
    env_name = (environment or "").removesuffix("-verify")
    url = _websocket_url(f"SessionManagement-{env_name}") if env_name else None
    if url:
        lines.append(f"SESSION_WEBSOCKET_URL={url}")
    _append("GITHUB_ENV", lines)
    gate = f", approved by {approver}" if approver else ""
    print(
        f"configure-aws-credentials (stand-in): {subject} may assume {role}{gate}; "
        f"credentials of the local AWS ({endpoint})"
    )


ACTIONS: dict[str, Callable[[], None]] = {
    "checkout": checkout,
    "setup-python": setup_python,
    "setup-node": setup_node,
    "upload-artifact": upload_artifact,
    "download-artifact": download_artifact,
    "configure-aws-credentials": configure_aws_credentials,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in ACTIONS:
        print(f"usage: python -m rehearsal.standins {{{','.join(ACTIONS)}}}", file=sys.stderr)
        return 2
    try:
        ACTIONS[args[0]]()
    except (ActionFailed, Refused) as err:
        print(f"::error::{err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
