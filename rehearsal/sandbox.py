"""The repository the rehearsal pushes to: a bare ``origin`` and a working clone.

The base commit is this tree as it is (tracked and untracked files, ignored ones left out), with
the setup a team does once: ``infra/config/github.json`` names the rehearsal's repository, so the
OIDC roles trust its subjects, and each ``infra/config/<env>.json`` names its Cognito pool (and
bakes for at most :data:`BAKE_MINUTES`).
Scenarios add commits, branches and tags and push them, as a developer would; act then runs the
workflows of the commit the work tree is at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OWNER, NAME = "acme", "session-management"
REPOSITORY = f"{OWNER}/{NAME}"
# The bake of staging and prod (deploySafety.bakeMinutes, 5 and 15) is cut to this in the
# sandbox's config: the rehearsal proves what a bake does, not how long it lasts (report says so).
BAKE_MINUTES = 1
AUTHOR = ["-c", "user.name=Rehearsal Developer", "-c", "user.email=developer@example.com"]


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603
        ["git", *AUTHOR, *args], cwd=cwd, capture_output=True, text=True, check=False  # noqa: S607
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class Sandbox:
    root: Path

    @property
    def origin(self) -> Path:
        return self.root / "origin.git"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def origin_url(self) -> str:
        return self.origin.resolve().as_uri()

    def create(self, source: Path, cognito: dict[str, tuple[str, str]]) -> str:
        """Lay the base commit of ``source``'s tree on main; return its sha.

        ``cognito`` gives each environment's user pool and app client (the local AWS's): the
        setup a team does once, writing its pool's ids into ``infra/config/<env>.json``.
        """
        if self.root.exists():
            shutil.rmtree(self.root)
        self.work.mkdir(parents=True)
        listed = git("ls-files", "-co", "--exclude-standard", "-z", cwd=source)
        for name in filter(None, listed.split("\0")):
            path = source / name
            if path.is_file():
                target = self.work / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        for env, (pool_id, client_id) in cognito.items():
            path = self.work / "infra" / "config" / f"{env}.json"
            config = json.loads(path.read_text())
            config["cognito"] = {"userPoolId": pool_id, "appClientId": client_id}
            safety = config.get("deploySafety") or {}
            if safety.get("bakeMinutes", 0) > BAKE_MINUTES:
                safety["bakeMinutes"] = BAKE_MINUTES
            path.write_text(json.dumps(config, indent=2) + "\n")
        github = self.work / "infra" / "config" / "github.json"
        config = json.loads(github.read_text())
        config.update({"owner": OWNER, "repository": NAME})
        github.write_text(json.dumps(config, indent=2) + "\n")
        git("init", "-q", "-b", "main", cwd=self.work)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", "rehearsal base: this tree", cwd=self.work)
        git("init", "-q", "--bare", "-b", "main", str(self.origin), cwd=self.root)
        # actions/checkout fetches a pushed commit by its sha.
        git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=self.origin)
        git("remote", "add", "origin", self.origin_url, cwd=self.work)
        git("push", "-q", "origin", "main", cwd=self.work)
        return self.head()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)

    def branch_head(self, branch: str) -> str:
        return git("rev-parse", f"refs/heads/{branch}", cwd=self.work)

    def commit(self, branch: str, message: str, files: dict[str, str]) -> str:
        """A commit on ``branch`` (created from main when new) writing ``files``; pushed."""
        existing = git("branch", "--list", branch, cwd=self.work)
        if existing:
            git("checkout", "-q", branch, cwd=self.work)
        else:
            git("checkout", "-q", "-b", branch, "main", cwd=self.work)
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        git("push", "-q", "origin", branch, cwd=self.work)
        return self.head()

    def revert(self, branch: str, sha: str) -> str:
        git("checkout", "-q", branch, cwd=self.work)
        git("revert", "--no-edit", sha, cwd=self.work)
        git("push", "-q", "origin", branch, cwd=self.work)
        return self.head()

    def tag(self, name: str, sha: str) -> None:
        git("tag", "-a", name, sha, "-m", f"release {name}", cwd=self.work)
        git("push", "-q", "origin", f"refs/tags/{name}", cwd=self.work)

    def at(self, sha: str) -> None:
        """Put the work tree at ``sha``: the workflow files act reads are that commit's."""
        git("checkout", "-q", "--detach", sha, cwd=self.work)
