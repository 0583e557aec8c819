"""The rehearsal's model of GitHub: environment rules, approvals, the API the workflows call,
the stand-ins' refusals, and the scripts that decide what deploys. Each test names the defect
of the pipelines it guards against."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.github_oidc.apply_settings import calls
from infra.github_oidc.settings import load_github_settings
from rehearsal import gh, standins
from rehearsal.environments import Refused, admits, check_approval, check_ref, job_environment
from rehearsal.github import GitHub

REPO_ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "acme/session-management"


@pytest.fixture
def settings():
    return load_github_settings()


def test_staging_and_prod_admit_main_for_the_documented_rollback_and_tags_for_releases(settings):
    for name in ("staging", "staging-verify", "prod", "prod-verify"):
        env = settings.environment(name)
        assert admits(env, "refs/heads/main"), name
        assert admits(env, "refs/tags/v1.2.3"), name
        assert not admits(env, "refs/heads/feature/x"), name
    assert not admits(settings.environment("dev"), "refs/tags/v1.2.3")


def test_a_ref_the_rules_refuse_fails_in_githubs_words(settings):
    with pytest.raises(Refused, match='Branch "feature/x" is not allowed to deploy to prod'):
        check_ref(settings, "prod", "refs/heads/feature/x")
    with pytest.raises(Refused, match="not in"):
        check_ref(settings, "unlisted", "refs/heads/main")


def test_prod_waits_for_a_reviewer_who_is_not_the_one_who_triggered_the_run(settings):
    prod = settings.environment("prod")
    approved = [{"state": "approved", "environments": [{"name": "prod"}], "user": {"login": "a"}}]
    assert check_approval("prod", prod, approved, actor="dev") == "a"
    with pytest.raises(Refused, match="no required reviewer approved"):
        check_approval("prod", prod, [], actor="dev")
    with pytest.raises(Refused, match="may not approve"):
        check_approval("prod", prod, approved, actor="a")
    rejected = [{**approved[0], "state": "rejected"}]
    with pytest.raises(Refused, match="was rejected"):
        check_approval("prod", prod, rejected, actor="dev")
    assert check_approval("staging", settings.environment("staging"), [], actor="dev") is None


def test_a_jobs_environment_is_read_from_its_workflow_with_the_role_it_asks_for():
    workflows = REPO_ROOT / ".github" / "workflows"
    role = "arn:aws:iam::333333333333:role/session-management-verify-prod"
    assert job_environment(workflows, "Deploy one environment", "change-set", role) == "prod-verify"
    deploy_role = role.replace("verify", "deploy")
    assert job_environment(workflows, "Deploy one environment", "deploy", deploy_role) == "prod"
    assert job_environment(workflows, "Rollback", "destroy-dev", deploy_role) == "dev"


def _state(tmp_path: Path) -> GitHub:
    github = GitHub(tmp_path / "github")
    for name, event, repo in (
        ("deploy.yml", "push", REPOSITORY),
        ("ci.yml", "pull_request", "outsider/session-management"),
    ):
        run = github.start_run(
            repository=REPOSITORY,
            workflow_path=f".github/workflows/{name}",
            event=event,
            head_sha="a" * 40,
            head_branch="v1.0.0",
            actor="dev",
            head_repository=repo,
        )
        github.add_artifact(run, "cloud-assembly-v1.0.0", 1)
        github.finish_run(run, "success")
    return github


def test_gh_answers_runs_and_artifacts_as_githubs_api_and_refuses_without_a_token(
    tmp_path, monkeypatch, capsys
):
    github = _state(tmp_path)
    monkeypatch.setenv("REHEARSAL_STATE", str(github.root))
    monkeypatch.setenv(gh.REPOSITORY_VARIABLE, REPOSITORY)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert gh.main(["api", f"repos/{REPOSITORY}/actions/artifacts?name=x"]) == 4
    monkeypatch.setenv("GH_TOKEN", "t")
    runs = gh.answer(github, REPOSITORY, f"repos/{REPOSITORY}/actions/workflows/deploy.yml/runs")
    assert [r["event"] for r in runs["workflow_runs"]] == ["push"]
    artifacts = gh.answer(
        github, REPOSITORY, f"repos/{REPOSITORY}/actions/artifacts?name=cloud-assembly-v1.0.0"
    )
    assert artifacts["total_count"] == 2
    with pytest.raises(gh.NotFound):
        gh.answer(github, REPOSITORY, "repos/other/repo/actions/artifacts")


def _script(name: str, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO_ROOT / ".github" / "scripts" / name), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_rollback_takes_only_the_artifact_deploy_yml_uploaded_on_the_tag_push(tmp_path):
    github = _state(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "c"], cwd=repo, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run([*git, "tag", "v1.0.0"], cwd=repo, check=True)
    state = json.loads(github.state_file.read_text())
    for run in state["runs"]:
        run["head_sha"] = sha
    for artifact in state["artifacts"]:
        artifact["workflow_run"]["head_sha"] = sha
    github.state_file.write_text(json.dumps(state))
    env = {
        "PATH": f"{REPO_ROOT / 'rehearsal' / 'bin'}:{os.environ['PATH']}",
        "REHEARSAL_HOME": str(REPO_ROOT),
        "REHEARSAL_PYTHON": str(REPO_ROOT / ".venv" / "bin" / "python"),
        "REHEARSAL_STATE": str(github.root),
        "REHEARSAL_REPOSITORY": REPOSITORY,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GH_TOKEN": "t",
    }
    found = _script("find_assembly.sh", "release", "v1.0.0", env=env, cwd=repo)
    assert found.returncode == 0, found.stderr
    assert "run-id=1001" in found.stdout  # deploy.yml's push, not the fork's pull request (1002)
    # Only the fork's artifact left: none is trusted, and the caller may rebuild (exit 3).
    state = json.loads(github.state_file.read_text())
    state["artifacts"] = [a for a in state["artifacts"] if a["workflow_run"]["id"] != 1001]
    github.state_file.write_text(json.dumps(state))
    refused = _script("find_assembly.sh", "release", "v1.0.0", env=env, cwd=repo)
    assert refused.returncode == 3
    assert "no cloud-assembly-v1.0.0 uploaded by deploy.yml on a push of v1.0.0" in refused.stderr


def test_an_assembly_whose_files_changed_after_its_build_is_refused(tmp_path):
    out = tmp_path / "cdk.out"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "SessionManagement-dev.template.json").write_text("{}")
    digest = subprocess.run(
        ["sha256sum", "dev/SessionManagement-dev.template.json"],
        cwd=out,
        capture_output=True,
        text=True,
        check=True,
    )
    (out / "SHA256SUMS").write_text(digest.stdout)
    ok = _script("check_assembly.sh", str(out), env={}, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    (out / "dev" / "SessionManagement-dev.template.json").write_text('{"evil": 1}')
    changed = _script("check_assembly.sh", str(out), env={}, cwd=tmp_path)
    assert changed.returncode == 1
    assert "differs from what its build recorded" in changed.stderr
    (out / "dev" / "SessionManagement-dev.template.json").write_text("{}")
    (out / "dev" / "extra.json").write_text("{}")
    extra = _script("check_assembly.sh", str(out), env={}, cwd=tmp_path)
    assert extra.returncode == 1
    assert "did not record" in extra.stderr


def test_the_credentials_stand_in_fails_on_an_empty_role_as_the_real_action(monkeypatch, capsys):
    # The defect: callers passed no secrets, so role-to-assume was "" in every job.
    monkeypatch.setenv("INPUT_ROLE_TO_ASSUME", "")
    monkeypatch.setenv("INPUT_AWS_REGION", "us-east-1")
    assert standins.main(["configure-aws-credentials"]) == 1
    assert "Could not load credentials" in capsys.readouterr().out


def test_the_settings_script_sets_rules_reviewers_and_the_tag_ruleset(settings):
    planned = calls(settings, REPOSITORY)
    paths = [(c.method, c.path, json.dumps(c.body)) for c in planned]
    prod = next(b for m, p, b in paths if p == f"repos/{REPOSITORY}/environments/prod")
    assert '"prevent_self_review": true' in prod
    assert "platform-approvers" in prod
    policies = [
        b for m, p, b in paths if p.endswith("/environments/prod/deployment-branch-policies")
    ]
    assert sorted(policies) == sorted(
        ['{"name": "main", "type": "branch"}', '{"name": "v*", "type": "tag"}']
    )
    assert any(p.endswith("/rulesets") for _, p, _ in paths)
