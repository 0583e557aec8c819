"""The pipelines' promotion graph, permissions, pins and concurrency, read from the YAML files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.workflows.workflow_files import ACTION_PINS, REPO_ROOT, all_steps, makefile_targets

REUSABLE = "deploy-environment.yml"
REUSABLE_REF = f"./.github/workflows/{REUSABLE}"
SHA_PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
# Verification sections that are not a job after a deploy, and why.
SECTIONS_NOT_IN_THE_DEPLOY = {
    "documentation": "people share the endpoint and dashboards; nothing to check in AWS",
    "rollback": "the Rollback workflow re-runs the deploy's verification instead",
    "sign-off": "the sign-off job writes the record from the jobs' results",
}
BRIEF_SECTIONS = (
    "pre-deployment",
    "tables",
    "functions",
    "api",
    "monitoring",
    "post-deployment",
    "smoke",
    "production",
)


def expected_sections() -> set[str]:
    try:
        from ci.checklist import SECTIONS
    except ImportError:  # ci/ not importable: the sections named in the brief
        return set(BRIEF_SECTIONS)
    return set(SECTIONS) - set(SECTIONS_NOT_IN_THE_DEPLOY)


def callers(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {jid: job for jid, job in workflow["jobs"].items() if job.get("uses") == REUSABLE_REF}


ROLLBACK_REF = "./.github/workflows/rollback.yml"  # deploy.yml's undo after a bake's alarm


def uses_aws(job: dict[str, Any]) -> bool:
    steps = job.get("steps", [])
    return job.get("uses") in {REUSABLE_REF, ROLLBACK_REF} or any(
        str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
        for step in steps
    )


# --- promotion graph -------------------------------------------------------------------------


def test_ci_runs_on_pull_requests_and_before_every_deploy_and_calls_lint_test_synth(workflows):
    ci = workflows["ci.yml"]
    assert set(ci["on"]) == {"pull_request", "workflow_call"}
    # A push to main runs CI inside its Deploy run, before dev (deploy.yml's `checks` job).
    checks = workflows["deploy.yml"]["jobs"]["checks"]
    assert checks["uses"] == "./.github/workflows/ci.yml"
    assert "checks" in workflows["deploy.yml"]["jobs"]["dev"]["needs"]
    runs = " ".join(
        step.get("run", "") for job in ci["jobs"].values() for step in job.get("steps", [])
    )
    for target in ("make lint", "make test", "make synth", "make oidc-synth"):
        assert target in runs, f"ci.yml does not run {target}"


def _recipe(makefile: str, target: str) -> str:
    """The recipe of ``target``, with the recipes of the targets it runs via ``$(MAKE)``."""
    recipe = makefile.split(f"\n{target}:", 1)[1].split("\n.PHONY", 1)[0]
    for called in re.findall(r"\$\(MAKE\)(?:\s+--?[\w-]+)*\s+([a-z][\w-]*)", recipe):
        recipe += "\n" + _recipe(makefile, called)
    return recipe


def test_lint_target_runs_ruff_black_actionlint_zizmor_and_taskcat_lint():
    # `make -n` prints every command lint would run, through its sub-makes, without running them.
    lint = subprocess.run(
        ["make", "-n", "lint"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    for tool in ("ruff check", "black --check", "actionlint", "zizmor --offline", "taskcat lint"):
        assert tool in lint, f"make lint does not run {tool}"


def test_deploy_triggers_on_main_and_release_tags_only(workflows):
    on = workflows["deploy.yml"]["on"]
    assert set(on) == {"push"}
    assert on["push"]["branches"] == ["main"]
    assert on["push"]["tags"] == ["v*"]


def test_the_checks_synthesize_once_and_upload_every_environment_with_its_digests(workflows):
    synth = workflows["ci.yml"]["jobs"]["synth"]
    runs = [step.get("run", "") for step in synth["steps"]]
    assert sum("make synth\n" in r + "\n" for r in runs) == 1
    assert "make assembly-digests" in runs
    upload = [s for s in synth["steps"] if "upload-artifact" in str(s.get("uses", ""))]
    assert len(upload) == 1
    assert upload[0]["with"]["name"] == "${{ inputs.assembly-artifact }}"
    paths = upload[0]["with"]["path"]
    for env in ("dev", "staging", "prod"):
        assert f"cdk.out/{env}/" in paths
    assert "cdk.out/SHA256SUMS" in paths


def test_no_deploy_job_synthesizes_again(workflows):
    reusable = workflows[REUSABLE]
    for job_id, job in reusable["jobs"].items():
        for step in job.get("steps", []):
            assert "make synth" not in step.get("run", ""), f"{job_id} re-synthesizes"
    deploy_runs = " ".join(s.get("run", "") for s in reusable["jobs"]["deploy"]["steps"])
    assert "make execute-change-set" in deploy_runs
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("prepare-change-set", "execute-change-set"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n.PHONY", 1)[0]
        assert "--app cdk.out/$(ENV)" in recipe


def test_main_deploys_dev_and_tags_deploy_staging_then_prod(workflows):
    jobs = callers(workflows["deploy.yml"])
    assert set(jobs) == {"dev", "staging", "prod"}
    assert jobs["dev"]["with"]["environment"] == "dev"
    assert jobs["dev"]["if"] == "github.ref == 'refs/heads/main'"
    assert set(jobs["dev"]["needs"]) == {"release", "checks"}
    assert jobs["staging"]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert set(jobs["staging"]["needs"]) == {"release", "assembly"}
    assert jobs["prod"]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    # prod after staging's whole chain and its clean bake (bake-staging needs staging).
    assert set(jobs["prod"]["needs"]) == {"release", "assembly", "bake-staging"}
    assert "staging" in workflows["deploy.yml"]["jobs"]["bake-staging"]["needs"]
    # dev deploys what the checks built; a tag deploys that same build, found by its commit.
    assert jobs["dev"]["with"]["artifact"] == "${{ needs.release.outputs.artifact }}"
    for env in ("staging", "prod"):
        assert jobs[env]["with"]["artifact"] == "${{ needs.assembly.outputs.artifact }}"
    assembly = workflows["deploy.yml"]["jobs"]["assembly"]
    runs = " ".join(step.get("run", "") for step in assembly["steps"])
    assert "make --no-print-directory find-assembly" in runs
    assert "make assembly-check" in runs
    assert "make synth" not in runs


def test_staging_runs_the_load_test_and_prod_verifies_production(workflows):
    jobs = callers(workflows["deploy.yml"])
    assert jobs["staging"]["with"].get("load-test") is True
    assert jobs["prod"]["with"].get("verify-production") is True
    assert "load-test" not in jobs["dev"]["with"]


def test_prod_deploy_is_gated_by_the_prod_environment_and_the_change_set_prepared_before(
    workflows,
):
    jobs = workflows[REUSABLE]["jobs"]
    assert jobs["deploy"]["environment"] == "${{ inputs.environment }}"
    assert set(jobs["deploy"]["needs"]) == {"change-set", "pre-deployment"}
    # The change set and the checks must not wait for the approval: they name -verify.
    for job_id in ("change-set", "pre-deployment", "verify", "verify-production", "loadtest"):
        assert jobs[job_id]["environment"] == "${{ inputs.environment }}-verify", job_id
    prepare_runs = " ".join(s.get("run", "") for s in jobs["change-set"]["steps"])
    assert "make diff-assembly" in prepare_runs
    assert "make prepare-change-set" in prepare_runs
    deploy_runs = " ".join(s.get("run", "") for s in jobs["deploy"]["steps"])
    assert "make execute-change-set" in deploy_runs
    assert "deploy-assembly" not in deploy_runs  # nothing but the reviewed change set runs


def test_every_checklist_section_has_its_verification_job(workflows):
    jobs = workflows[REUSABLE]["jobs"]
    found: dict[str, str] = {}
    for job_id, job in jobs.items():
        matrix = job.get("strategy", {}).get("matrix", {}).get("section", [])
        for step in job.get("steps", []):
            run = step.get("run", "")
            if "make verify-section" not in run:
                continue
            literal = re.search(r"SECTION=([a-z-]+)", run)
            for section in [literal.group(1)] if literal else matrix:
                found[section] = job_id
    assert set(found) == expected_sections()
    assert found["pre-deployment"] == "pre-deployment"
    assert "pre-deployment" in jobs["deploy"]["needs"], "pre-deployment checks run before"
    # The smoke test runs in the deploy job itself, after the deploy step: behind the approval.
    assert found["smoke"] == "deploy"
    runs = [s.get("run", "") for s in jobs["deploy"]["steps"]]
    deploy_step = next(i for i, r in enumerate(runs) if "make execute-change-set" in r)
    smoke_step = next(i for i, r in enumerate(runs) if "SECTION=smoke" in r)
    assert deploy_step < smoke_step
    for section in expected_sections() - {"pre-deployment", "smoke"}:
        needs = jobs[found[section]]["needs"]
        assert needs == "deploy" or "deploy" in needs, f"{section} does not run after deploy"
    assert jobs["verify-production"]["if"] == "inputs.verify-production"
    assert jobs["loadtest"]["if"] == "inputs.load-test"


def test_sign_off_runs_always_after_every_job_and_is_uploaded(workflows):
    jobs = workflows[REUSABLE]["jobs"]
    sign_off = jobs["sign-off"]
    assert sign_off["if"] == "always()"
    assert set(sign_off["needs"]) == set(jobs) - {"sign-off"}
    uses = [str(s.get("uses", "")) for s in sign_off["steps"]]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any("make --no-print-directory sign-off" in s.get("run", "") for s in sign_off["steps"])


# What the verification jobs' steps get from GitHub, as test values: hostile where a value is
# free text, to prove the values reach ci.verify as single arguments and never as shell code.
HOSTILE_ACTOR = 'actor"; touch {pwned}; echo $(touch {pwned}) `touch {pwned}`'
STEP_VALUES = {
    "${{ inputs.environment }}": "prod",
    "${{ matrix.section }}": "tables",
    "${{ inputs.release }}": "v1.2.3",
    "${{ github.triggering_actor }}": HOSTILE_ACTOR,
    "${{ vars.SMOKE_TEST_USERNAME }}": "ci-smoke@example.com",
    "${{ secrets.SMOKE_TEST_PASSWORD }}": "not-a-real-password",
}
APPROVERS = "reviewer-one, reviewer-two"


def _verify_steps(workflows) -> dict[str, dict[str, Any]]:
    jobs = workflows[REUSABLE]["jobs"]
    found = {
        job_id: step
        for job_id, job in jobs.items()
        for step in job.get("steps", [])
        if "make verify-section" in step.get("run", "")
    }
    assert set(found) == {"pre-deployment", "deploy", "verify", "verify-production"}
    return found


def _run_step(step: dict[str, Any], values: dict[str, str], tmp_path) -> list[str]:
    """Run the step's script with bash as the runner would; return ci.verify's arguments."""
    record = tmp_path / "argv.json"
    recorder = tmp_path / "python"
    recorder.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    recorder.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "GITHUB_"))}
    for name, expression in step.get("env", {}).items():
        assert expression in values, f"{name}: {expression} has no test value"
        env[name] = values[expression].format(pwned=tmp_path / "pwned")
    env["MAKEFLAGS"] = f"PY={recorder}"  # the Makefile's own variable, overridden as make allows
    subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert not (tmp_path / "pwned").exists(), "a value ran as shell code"
    return json.loads(record.read_text(encoding="utf-8"))


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.parametrize("approvers", [APPROVERS, ""], ids=["approved", "no-reviewers"])
def test_verification_jobs_pass_commit_release_actor_and_approvers_to_ci_verify(
    workflows, tmp_path, approvers
):
    values = {
        **STEP_VALUES,
        "${{ needs.deploy.outputs.approved-by }}": approvers,
        "${{ steps.approvals.outputs.approved-by }}": approvers,
    }
    actor = HOSTILE_ACTOR.format(pwned=tmp_path / "pwned")
    for job_id, step in _verify_steps(workflows).items():
        assert "${{" not in step["run"], f"{job_id}: an expression expanded inside run"
        argv = _run_step(step, values, tmp_path)
        section = {
            "pre-deployment": "pre-deployment",
            "deploy": "smoke",
            "verify-production": "production",
        }
        expected = ["-m", "ci.verify", "--env", "prod"]
        expected += ["--section", section.get(job_id, "tables")]
        expected += ["--commit", _head(), "--version", "v1.2.3", "--deployed-by", actor]
        # Approvers are known after the deploy job's approval, and only where one was required:
        # otherwise ci.verify leaves "Approved by" to a person.
        if approvers and job_id != "pre-deployment":
            expected += ["--approved-by", approvers]
        assert argv == expected, job_id


def test_deploy_job_outputs_who_approved_its_environment(workflows):
    deploy = workflows[REUSABLE]["jobs"]["deploy"]
    assert deploy["outputs"]["approved-by"] == "${{ steps.approvals.outputs.approved-by }}"
    [step] = [s for s in deploy["steps"] if s.get("id") == "approvals"]
    assert "/actions/runs/${GITHUB_RUN_ID}/approvals" in step["run"]
    assert step["env"]["ENVIRONMENT"] == "${{ inputs.environment }}"
    assert deploy["permissions"]["actions"] == "read"


def test_make_verify_targets_pass_verify_args_through():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^VERIFY_ARGS \?=\s*$", makefile, re.M)
    for target in ("verify", "verify-section"):
        recipe = _recipe(makefile, target)
        assert re.search(r"-m ci\.verify .*\$\(VERIFY_ARGS\)$", recipe, re.M), target


def test_rollback_is_manual_with_environment_release_and_reason(workflows):
    rollback = workflows["rollback.yml"]
    inputs = rollback["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["dev", "staging", "prod"]
    assert inputs["reason"]["required"] is True
    # Dispatched by a person, or called by deploy.yml's undo: a redeploy, never a destroy.
    assert set(rollback["on"]) == {"workflow_dispatch", "workflow_call"}
    called = rollback["on"]["workflow_call"]["inputs"]
    assert called["action"]["default"] == "redeploy"
    assert "confirm" not in called
    assert all(called[name]["required"] for name in ("environment", "release", "reason"))
    call = rollback["jobs"]["rollback"]
    assert call["uses"] == REUSABLE_REF
    assert call["with"]["reason"] == "${{ inputs.reason }}"
    assert call["with"]["recover-stuck-stack"] is True
    assert call["with"]["artifact-run-id"] == "${{ needs.assembly.outputs.run-id }}"


def test_the_environments_that_bake_are_those_whose_config_has_a_bake_time(workflows):
    """deploy.yml bakes exactly where deploySafety.bakeMinutes is above 0 (the verify role may
    write the last clean release only there), after that environment's whole chain; an alarm
    undoes the release through rollback.yml to the last clean one, never to itself; prod waits
    for a clean staging bake."""
    jobs = workflows["deploy.yml"]["jobs"]
    for env in ("dev", "staging", "prod"):
        config = json.loads((REPO_ROOT / "infra" / "config" / f"{env}.json").read_text())
        bakes = config["deploySafety"]["bakeMinutes"] > 0
        bake, undo = jobs.get(f"bake-{env}"), jobs.get(f"undo-{env}")
        assert (bake is not None, undo is not None) == (bakes, bakes), env
        if not bakes:
            continue
        assert env in bake["needs"]
        assert bake["environment"] == f"{env}-verify"
        steps = " ".join(step.get("run", "") for step in bake["steps"])
        assert f"make bake ENV={env} " in steps
        assert undo["uses"] == ROLLBACK_REF
        assert undo["with"]["environment"] == env
        assert undo["with"]["release"] == f"${{{{ needs.bake-{env}.outputs.last-clean }}}}"
        assert f"needs.bake-{env}.outputs.result == 'alarm'" in undo["if"]
        assert f"needs.bake-{env}.outputs.last-clean != needs.release.outputs.release" in undo["if"]
        assert "action" not in undo["with"]  # rollback.yml's default: redeploy
    assert "bake-staging" in jobs["prod"]["needs"]


def test_rollback_destroys_dev_only_behind_a_typed_confirmation(workflows):
    rollback = workflows["rollback.yml"]
    destroy = rollback["jobs"]["destroy-dev"]
    assert "needs.validate.outputs.environment == 'dev'" in destroy["if"]
    assert destroy["environment"] == "dev"
    check = rollback["jobs"]["validate"]["steps"][0]["run"]
    assert '"destroy SessionManagement-dev"' in check
    assert 'ENVIRONMENT" == dev' in check
    runs = " ".join(
        step.get("run", "") for job in rollback["jobs"].values() for step in job.get("steps", [])
    )
    assert "make destroy-dev ENV=dev" in runs
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    commands = makefile.split("\ndestroy-dev:", 1)[1].split("\n.PHONY", 1)[0].split("\n")[1:]
    assert 'test "$(ENV)" = dev' in commands[0]
    assert commands[1].strip() == "$(CDK) destroy --app cdk.out/dev --force SessionManagement-dev"


def test_release_tags_are_validated_with_a_regex_in_shell(workflows):
    tag_check = re.escape(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
    release = (REPO_ROOT / ".github" / "scripts" / "check_release.sh").read_text()
    validate = workflows["rollback.yml"]["jobs"]["validate"]["steps"][0]["run"]
    for run in (release, validate):
        assert re.search(tag_check, run)
    steps = workflows["deploy.yml"]["jobs"]["release"]["steps"]
    assert any("make --no-print-directory check-release" in s.get("run", "") for s in steps)


# --- permissions -----------------------------------------------------------------------------


def test_every_workflow_grants_nothing_at_the_top(workflows):
    for name, workflow in workflows.items():
        assert workflow.get("permissions") == {}, name


def test_every_job_states_its_permissions_and_writes_nothing_but_the_id_token(workflows):
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}:{job_id} has no permissions"
            for scope, level in job["permissions"].items():
                assert level in ("read", "write"), f"{name}:{job_id} {scope}"
                if level == "write":
                    assert scope == "id-token", f"{name}:{job_id} writes {scope}"


def test_id_token_only_on_the_jobs_that_assume_an_aws_role(workflows):
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            has_token = job["permissions"].get("id-token") == "write"
            assert has_token == uses_aws(job), f"{name}:{job_id}"


def test_jobs_that_assume_a_role_name_an_environment(workflows):
    """The role's trust policy admits the environment's subject only; without one, no role."""
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            if "steps" in job and uses_aws(job):
                assert job.get("environment"), f"{name}:{job_id} has no environment"


def test_aws_credentials_use_oidc_roles_and_mask_the_account(workflows, composite_actions):
    for name, job_id, step in all_steps(workflows, composite_actions):
        if not str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
            continue
        given = step["with"]
        if name == "taskcat.yml":
            # A test account outside infra/config, in a workflow nobody calls: its environment's
            # secret reaches it (a called workflow is what gets "" for an environment secret).
            assert given["role-to-assume"] == "${{ secrets.AWS_TASKCAT_ROLE_ARN }}"
            continue
        # Built from infra/config (make deploy-target), never a secret that a called workflow
        # would get as "" (its caller passes none for it).
        assert given["role-to-assume"] in (
            "${{ steps.setup.outputs.change-set-role }}",
            "${{ steps.setup.outputs.deploy-role }}",
            "${{ steps.setup.outputs.verify-role }}",
        ), f"{name}:{job_id}"
        assert given["mask-aws-account-id"] is True
        assert "aws-access-key-id" not in given
        assert "aws-secret-access-key" not in given


def test_checkouts_do_not_persist_credentials(workflows, composite_actions):
    for name, job_id, step in all_steps(workflows, composite_actions):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, f"{name}:{job_id}"


def test_no_expression_is_expanded_inside_run(workflows, composite_actions):
    for name, job_id, step in all_steps(workflows, composite_actions):
        assert "${{" not in step.get("run", ""), f"{name}:{job_id}: pass it through env:"


# --- pins ------------------------------------------------------------------------------------


def third_party_uses(workflows, composite_actions) -> list[tuple[str, str]]:
    found = []
    for name, job_id, step in all_steps(workflows, composite_actions):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            found.append((f"{name}:{job_id}", uses))
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            uses = job.get("uses")
            if uses and not uses.startswith("./"):
                found.append((f"{name}:{job_id}", uses))
    return found


def test_every_third_party_action_is_pinned_by_commit(workflows, composite_actions):
    found = third_party_uses(workflows, composite_actions)
    assert found
    shas: dict[str, set[str]] = {}
    for where, uses in found:
        match = SHA_PIN.match(uses)
        assert match, f"{where}: {uses} is not pinned to a 40-hex commit"
        shas.setdefault(match["action"], set()).add(match["sha"])
    for action, seen in shas.items():
        assert len(seen) == 1, f"{action} is pinned to several commits: {sorted(seen)}"


def test_every_pin_carries_its_tag_in_a_comment():
    for path in [*(REPO_ROOT / ".github").rglob("*.yml")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path}:{number}"


def test_pins_match_action_pins_md(workflows, composite_actions):
    if not ACTION_PINS.is_file():
        pytest.skip(f"{ACTION_PINS} is not present (outside the shared workspace)")
    table = {}
    for line in ACTION_PINS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[0-9a-f]{40}", cells[2]):
            table[cells[0]] = cells[2]
    assert table, "no pins parsed from ACTION_PINS.md"
    for where, uses in third_party_uses(workflows, composite_actions):
        action, sha = uses.split("@", 1)
        assert action in table, f"{where}: {action} is not in ACTION_PINS.md"
        assert sha == table[action], f"{where}: {action}@{sha} differs from ACTION_PINS.md"


# --- concurrency -----------------------------------------------------------------------------


def _groups(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every concurrency group of a workflow (top level and jobs), by where it is set."""
    found = {"(top)": workflow.get("concurrency")} if workflow.get("concurrency") else {}
    for job_id, job in workflow["jobs"].items():
        if job.get("concurrency"):
            found[job_id] = job["concurrency"]
    return found


def test_deploys_are_serialized_per_environment_and_never_cancelled(workflows):
    deploy = _groups(workflows["deploy.yml"])
    assert {deploy[env]["group"] for env in ("dev", "staging", "prod")} == {
        "deploy-dev",
        "deploy-staging",
        "deploy-prod",
    }
    rollback = _groups(workflows["rollback.yml"])
    assert rollback == {
        "(top)": {"group": "rollback-${{ inputs.environment }}", "cancel-in-progress": False}
    }
    for name in ("deploy.yml", "rollback.yml", "taskcat.yml"):
        for where, concurrency in _groups(workflows[name]).items():
            assert concurrency["cancel-in-progress"] is False, f"{name}:{where}"


def test_a_rollback_shares_no_group_with_a_release_waiting_for_approval(workflows):
    """GitHub holds a caller job's group while its called workflow waits for approval, and a
    newer pending run replaces an older pending one in a group: a rollback must not be in any
    group a release holds, or it waits behind the approval (and can be dropped)."""
    release_groups = set()
    for concurrency in _groups(workflows["deploy.yml"]).values():
        group = concurrency["group"]
        release_groups |= {group.replace("${{ github.ref }}", ref) for ref in ("refs/tags/v1.0.0",)}
    for concurrency in _groups(workflows[REUSABLE]).values():
        for env in ("dev", "staging", "prod"):
            release_groups.add(concurrency["group"].replace("${{ inputs.environment }}", env))
    for concurrency in _groups(workflows["rollback.yml"]).values():
        for env in ("dev", "staging", "prod"):
            group = concurrency["group"].replace("${{ inputs.environment }}", env)
            assert group not in release_groups, group
    # The called chain itself holds no group of its own (its deploy job would hold it while
    # waiting for prod's reviewers, for releases and rollbacks alike).
    assert _groups(workflows[REUSABLE]) == {}


# --- the Makefile is the one interface -------------------------------------------------------


def test_every_make_target_a_step_runs_exists(workflows, composite_actions):
    targets = makefile_targets()
    called = set()
    for name, job_id, step in all_steps(workflows, composite_actions):
        for command in re.findall(
            r"\bmake\s+((?:--?[\w-]+\s+)*)([a-z][\w-]*)", step.get("run", "")
        ):
            called.add(command[1])
            assert command[1] in targets, f"{name}:{job_id} runs make {command[1]}: no target"
    assert {"install", "lint", "test", "synth", "execute-change-set", "verify-section"} <= called


def test_makefile_passes_the_bench_and_verify_flags_agreed_with_their_owners():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(PY) -m ci.verify --env $(ENV) --section $(SECTION)" in makefile
    assert "$(PY) -m bench --endpoint-from-stack --env $(ENV)" in makefile


def test_dependabot_updates_pip_npm_and_actions():
    from tests.workflows.workflow_files import load_yaml

    config = load_yaml(REPO_ROOT / ".github" / "dependabot.yml")
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"pip", "npm", "github-actions"}


def test_taskcat_deploys_the_staging_template_in_two_regions(workflows):
    from tests.workflows.workflow_files import load_yaml

    config = load_yaml(REPO_ROOT / "taskcat" / ".taskcat.yml")
    assert config["project"]["regions"] == ["us-east-1", "us-west-2"]
    test = config["tests"]["staging"]
    assert test["template"] == "templates/session-management.template.json"
    assert set(test["regions"]) == {"us-east-1", "us-west-2"}
    taskcat = workflows["taskcat.yml"]
    assert set(taskcat["on"]) == {"workflow_dispatch"}
    runs = " ".join(s.get("run", "") for s in taskcat["jobs"]["taskcat"]["steps"])
    assert "make taskcat" in runs


def test_the_deploy_job_ends_before_its_credentials_expire(workflows):
    deploy = workflows[REUSABLE]["jobs"]["deploy"]
    [credentials] = [
        s
        for s in deploy["steps"]
        if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    lifetime = int(credentials["with"]["role-duration-seconds"])
    assert lifetime <= 3600, "role chaining caps sessions at one hour"
    assert deploy["timeout-minutes"] * 60 < lifetime


def test_report_artifacts_are_named_per_attempt_so_a_rerun_does_not_collide(workflows):
    for job_id, job in workflows[REUSABLE]["jobs"].items():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                assert "github.run_attempt" in step["with"]["name"], job_id
