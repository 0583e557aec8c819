# The one entry point, for people and for the workflows alike. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Where the tools live (inside the repository unless told otherwise: `make rehearse` points every
# workflow job at one shared set, so a job does not reinstall the world).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
TASKCAT_VENV ?= .venv-taskcat
NODE_PREFIX ?= .
NODE_BIN := $(NODE_PREFIX)/node_modules/.bin
CDK ?= $(NODE_BIN)/cdk
# The CDK app with the venv above (cdk.json's default names the repository's own .venv).
CDK_APP = --app "$(PY) -m infra.app"
# The install stamps are named after the hash of what they were installed from, not dated: a fresh
# checkout of the same files (new modification times, as every CI job has) installs nothing.
hash = $(shell cat $(1) | sha256sum | cut -c1-16)
PY_STAMP := $(VENV)/.installed-$(call hash,requirements.lock pyproject.toml)
NODE_STAMP := $(NODE_PREFIX)/node_modules/.installed-$(call hash,package.json package-lock.json)
TASKCAT_STAMP := $(TASKCAT_VENV)/.installed-$(call hash,requirements-taskcat.lock)
ENV ?= dev
ENVS ?= dev staging prod
# Extra ci.verify flags for `verify` and `verify-section`, e.g. the pipeline's sign-off facts:
# VERIFY_ARGS='--commit "$$COMMIT" --version "$$VERSION" --deployed-by "$$DEPLOYED_BY"'
# ($$VAR reaches the recipe's shell as "$VAR": values come from the environment, never re-parsed).
VERIFY_ARGS ?=
# The CDK CLI's runtime (jsii) warns on Node 20; the CLI itself supports it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_CLI_NOTICES := false

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# What each tool set serves, as prerequisites: a target installs what it runs first, once (the
# stamps exist afterwards, so an installed checkout, CI's or the rehearsal's shared tools, installs
# nothing). The CDK CLI synthesizes the local environment's stack and every environment's; the
# taskcat venv serves `taskcat` and `taskcat-lint` (so `lint`), and `test`, whose rehearsal test
# runs CI's lint job.
PY_TOOLS := $(PY_STAMP)
CDK_TOOLS := $(PY_STAMP) $(NODE_STAMP)
ALL_TOOLS := $(PY_STAMP) $(NODE_STAMP) $(TASKCAT_STAMP)
# pip's and npm's own output (a line per package, and download progress), after a line that says
# what is installed where and how long it takes the first time. Measured on a busy 2-core machine:
# the Python tools 4.4 min (3.3 in pip's silent install step), the CDK CLI 3 s, taskcat 1 min.
PIP_FLAGS := --disable-pip-version-check --no-input
install_note = $(if $(wildcard $(1)),updating: not yet installed from this $(2),first time: $(3))
PY_NOTE = $(call install_note,$(PY),requirements.lock and pyproject.toml,2 to 5 min; \
  the longest step is pip's silent install of the collected packages)
NODE_NOTE = $(call install_note,$(NODE_PREFIX)/node_modules,package-lock.json,under a minute)
TASKCAT_NOTE = $(call install_note,$(TASKCAT_VENV)/bin/python,requirements-taskcat.lock,about 1 min)

.PHONY: install
install: $(ALL_TOOLS) ## Install every tool into the repository (.venv, node_modules, .venv-taskcat)

$(PY_STAMP):
	@echo "== installing the Python tools into $(VENV) ($(PY_NOTE))"
	python3 -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -r requirements.lock
	$(BIN)/pip install $(PIP_FLAGS) --no-deps -e .
	rm -f $(VENV)/.installed*
	touch $@

$(NODE_STAMP):
	@echo "== installing the CDK CLI into $(NODE_PREFIX)/node_modules ($(NODE_NOTE))"
	@if [ "$(NODE_PREFIX)" != . ]; then mkdir -p $(NODE_PREFIX) && cp package.json package-lock.json $(NODE_PREFIX)/; fi
	npm ci --prefix $(NODE_PREFIX) --no-audit --no-fund
	rm -f $(NODE_PREFIX)/node_modules/.installed*
	touch $@

$(TASKCAT_STAMP):
	@echo "== installing taskcat into $(TASKCAT_VENV) ($(TASKCAT_NOTE))"
	python3 -m venv $(TASKCAT_VENV)
	$(TASKCAT_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-taskcat.lock
	rm -f $(TASKCAT_VENV)/.installed*
	touch $@

.PHONY: lock
lock: ## Re-resolve and pin the Python dependencies (requirements.lock)
	rm -rf .build/lock-venv && python3 -m venv .build/lock-venv
	.build/lock-venv/bin/pip install --quiet -e '.[dev]'
	.build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .build/lock-venv

.PHONY: test
# TESTS narrows the selection (pytest arguments); empty runs every test.
TESTS ?=
test: $(ALL_TOOLS) ## Run every test: unit, integration (moto), infrastructure (templates), end to end (local environment), workflows
	$(BIN)/pytest $(TESTS)

.PHONY: lint
# Each gate of `make lint` runs through ci.gates, which records it in reports/lint.json for the
# checklist's "Code linted successfully" line (ticked only when every gate ran on that code).
# `$(call gate,NAME)` prefixes a gate's command; outside `make lint` (LINT_RECORD unset) it is
# empty, so `make workflow-lint` alone runs the bare tools and records nothing.
GATE = $(PY) -m ci.gates --record $(REPORTS)/lint.json
gate = $(if $(LINT_RECORD),$(GATE) run $(1) --)
lint: $(PY_TOOLS) ## ruff, black --check, mypy, workflow lint (actionlint, shellcheck, zizmor offline), taskcat lint
	@$(GATE) begin
	$(GATE) run ruff -- $(BIN)/ruff check .
	$(GATE) run black -- $(BIN)/black --check .
	$(GATE) run mypy -- $(BIN)/mypy
	$(MAKE) --no-print-directory workflow-lint LINT_RECORD=1
	$(MAKE) --no-print-directory taskcat-lint LINT_RECORD=1
	@$(GATE) end

.PHONY: format
format: $(PY_TOOLS) ## Format the code (ruff --fix, black)
	$(BIN)/ruff check --fix .
	$(BIN)/black .

.PHONY: checklist-doc
checklist-doc: $(PY_TOOLS) ## Write docs/checklist.md from the verification's catalogue (ci/checklist.py); a test fails when it is stale
	$(PY) -m ci.checklist_doc

.PHONY: synth
synth: $(CDK_TOOLS) ## Synthesize every environment into cdk.out/<env>/, then cfn-lint the templates (cdk-nag runs in synth)
	@set -e; for e in $(ENVS); do \
	  echo "== synth $$e"; \
	  $(CDK) synth --quiet $(CDK_APP) --context env=$$e --output cdk.out/$$e; \
	done
	$(BIN)/cfn-lint $(foreach e,$(ENVS),cdk.out/$(e)/*.template.json)

.PHONY: diff
diff: $(CDK_TOOLS) ## Show what a deploy of ENV would change (needs AWS credentials)
	$(CDK) diff $(CDK_APP) --context env=$(ENV) SessionManagement-$(ENV)

.PHONY: local
local: $(CDK_TOOLS) ## Run the whole system on this machine (moto + local WebSocket gateway) until Ctrl-C (PROFILE=relaxed: limits for testing by hand)
	$(PY) -m local $(if $(PROFILE),--profile $(PROFILE))

.PHONY: verify
verify: $(CDK_TOOLS) ## Verify the ENV deployment against the deployment checklist (ENV=local against `make local`; VERBOSE=1 shows what each pass read)
	$(PY) -m ci.verify --env $(ENV) $(if $(VERBOSE),--verbose) $(VERIFY_ARGS)

.PHONY: demo
demo: $(CDK_TOOLS) ## Start the local environment, deploy, verify against the checklist, print the report, stop (VERBOSE=1 shows what each pass read)
	$(PY) -m local --demo $(if $(VERBOSE),--verbose)

.PHONY: github-settings
github-settings: $(PY_TOOLS) ## Print the gh api calls that give REPO=OWNER/NAME the environments of infra/config/github-settings.json (APPLY=1 makes them)
	$(PY) -m infra.github_oidc.apply_settings --repo "$(REPO)" $(if $(APPLY),--apply)

.PHONY: delivery-metrics
DAYS ?= 28
delivery-metrics: $(PY_TOOLS) ## Lead time, deploy frequency, change failure rate, time to restore of REPO=OWNER/NAME's last DAYS=28 days (gh api); reports/delivery-metrics.md
	$(PY) -m ci.delivery_metrics --repo "$(REPO)" --days "$(DAYS)" --output $(REPORTS)/delivery-metrics.md

.PHONY: rehearse
rehearse: $(ALL_TOOLS) ## Run the real workflows with act against the local AWS, every scenario (SCENARIOS=names for some); reports/rehearsal.md
	$(PY) -m rehearsal $(SCENARIOS)

.PHONY: bench
bench: $(CDK_TOOLS) ## Load-test the local environment at several levels and write bench/results/
	$(PY) -m bench

.PHONY: profile
# py-spy reads the processes' memory: as root, or with kernel.yama.ptrace_scope 0.
profile: $(CDK_TOOLS) ## Profile every process of the local system at 50x40 (bench/results/profile/)
	$(PY) -m bench.profile

# The taskcat project (taskcat/): the staging stack synthesized portable (no account or region) and
# its code zipped where taskcat uploads it (infra/taskcat_project.py); remade when the sources change.
TASKCAT_PROJECT := taskcat
TASKCAT_TEMPLATE := $(TASKCAT_PROJECT)/templates/session-management.template.json
$(TASKCAT_TEMPLATE): $(shell find infra src -name '*.py' -o -name '*.json' 2>/dev/null) $(wildcard cdk.json) | $(CDK_TOOLS)
	$(CDK) synth --quiet $(CDK_APP) --context env=staging --context portable=true --output cdk.out/taskcat
	$(PY) -m infra.taskcat_project cdk.out/taskcat $(TASKCAT_PROJECT)

.PHONY: taskcat
taskcat: $(TASKCAT_STAMP) $(TASKCAT_TEMPLATE) ## Deploy the staging stack in two regions of a test account with taskcat (needs AWS credentials)
	$(TASKCAT_VENV)/bin/taskcat test run --project-root $(TASKCAT_PROJECT) --output-directory $(CURDIR)/reports/taskcat

.PHONY: taskcat-lint
taskcat-lint: $(TASKCAT_STAMP) $(TASKCAT_TEMPLATE) ## Lint taskcat/.taskcat.yml and its template (remade first when the sources changed)
	$(call gate,taskcat-lint) $(TASKCAT_VENV)/bin/taskcat lint --project-root $(TASKCAT_PROJECT)

.PHONY: clean
clean: ## Remove build outputs (keeps the installed tools)
	rm -rf cdk.out .build reports .pytest_cache .ruff_cache .mypy_cache $(TASKCAT_PROJECT)/templates $(TASKCAT_PROJECT)/assets

# --- Pipelines (.github/workflows call these targets; docs/pipelines.md) ------------------------
SECTION ?=
REPORTS ?= reports

.PHONY: verify-section
verify-section: ## Verify one checklist section of ENV (SECTION=tables|functions|api|monitoring|...)
	@test -n "$(SECTION)" || { echo "SECTION is required, e.g. make verify-section ENV=dev SECTION=tables" >&2; exit 2; }
	$(PY) -m ci.verify --env $(ENV) --section $(SECTION) $(VERIFY_ARGS)

# Extra ci.bake flags for `bake`, e.g. the pipeline's facts:
# BAKE_ARGS='--commit "$$COMMIT" --run-url "$$RUN_URL"' (also --minutes M, --poll-seconds S).
RELEASE ?=
BAKE_ARGS ?=

.PHONY: bake
bake: ## Watch ENV's alarms for its bake time (deploySafety.bakeMinutes) after RELEASE is verified; record it as the last clean release when none fired
	@test -n "$(RELEASE)" || { echo "RELEASE is required, e.g. make bake ENV=staging RELEASE=v1.2.3" >&2; exit 2; }
	$(PY) -m ci.bake watch --env $(ENV) --release "$(RELEASE)" --report $(REPORTS)/bake-$(ENV).json $(BAKE_ARGS)

.PHONY: last-clean-release
last-clean-release: ## Print the last release that baked clean in ENV (exit 3 when none has yet)
	@$(PY) -m ci.bake last-clean --env $(ENV)

.PHONY: loadtest
loadtest: ## Load-test the deployed ENV (endpoint from its stack outputs; needs AWS credentials)
	$(PY) -m bench --endpoint-from-stack --env $(ENV)

.PHONY: diff-assembly
diff-assembly: ## Diff the live ENV stack against the assembly cdk.out/ENV built by `make synth` (no re-synthesis)
	$(CDK) diff --app cdk.out/$(ENV) SessionManagement-$(ENV)

.PHONY: deploy-assembly
deploy-assembly: ## Deploy the assembly cdk.out/ENV built by `make synth` (no re-synthesis); outputs to reports/
	@mkdir -p $(REPORTS)
	$(CDK) deploy --app cdk.out/$(ENV) --ci --require-approval never --progress events \
	  --outputs-file $(REPORTS)/cdk-outputs-$(ENV).json SessionManagement-$(ENV)

# The change set the approver reviews is the one that runs (ci/change_set.py): the job before the
# approval prepares and summarizes it, the deploy job checks and executes it by name.
CHANGE_SET ?=

.PHONY: prepare-change-set
prepare-change-set: ## Prepare (not execute) change set CHANGE_SET of cdk.out/ENV and summarize it for the approver (reports/change-set-ENV.md); RELEASE names it
	@test -n "$(CHANGE_SET)" -a -n "$(RELEASE)" || { echo "CHANGE_SET and RELEASE are required, e.g. make prepare-change-set ENV=prod CHANGE_SET=release-42-1 RELEASE=v1.2.0" >&2; exit 2; }
	$(CDK) deploy --app cdk.out/$(ENV) --ci --require-approval never --method=prepare-change-set \
	  --change-set-name "$(CHANGE_SET)" SessionManagement-$(ENV)
	$(PY) -m ci.change_set review --env $(ENV) --change-set "$(CHANGE_SET)" --release "$(RELEASE)"

.PHONY: stack-stuck
stack-stuck: ## Print stuck=true when ENV's stack must be recovered (make stack-recover) before a change set can be made of it
	@$(PY) -m ci.change_set stuck --env $(ENV)

.PHONY: execute-change-set
execute-change-set: ## Execute change set CHANGE_SET as reviewed (reports/change-set-ENV.json), refused if it or the stack changed since; outputs to reports/; then set the stack's rollback triggers for later updates
	@test -n "$(CHANGE_SET)" || { echo "CHANGE_SET is required, e.g. make execute-change-set ENV=prod CHANGE_SET=release-42-1" >&2; exit 2; }
	$(PY) -m ci.change_set check --env $(ENV) --change-set "$(CHANGE_SET)"
	$(CDK) deploy --app cdk.out/$(ENV) --ci --require-approval never --progress events \
	  --method=execute-change-set --change-set-name "$(CHANGE_SET)" \
	  --outputs-file $(REPORTS)/cdk-outputs-$(ENV).json SessionManagement-$(ENV)
	$(PY) -m ci.rollback_triggers apply --env $(ENV)

.PHONY: suspend-rollback-triggers
suspend-rollback-triggers: ## Remove the ENV stack's rollback triggers before a rollback (the alarm it answers may still fire); the next execute-change-set sets them again
	$(PY) -m ci.rollback_triggers suspend --env $(ENV)

.PHONY: assembly-digests
assembly-digests: ## Record the SHA-256 of every file of cdk.out/{dev,staging,prod} in cdk.out/SHA256SUMS (after make synth)
	cd cdk.out && find $(ENVS) -type f | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS

.PHONY: assembly-check
assembly-check: ## Check cdk.out against the digests its build recorded (refuses changed, missing or extra files)
	.github/scripts/check_assembly.sh cdk.out

# The next two read their values from the environment (REF_TYPE, REF_NAME, SHA; MODE, VALUE), so a
# hostile ref name is never parsed by a shell.
.PHONY: check-release
check-release: ## Decide what a Deploy run deploys from REF_TYPE, REF_NAME and SHA; refuse a tag not on main
	@.github/scripts/check_release.sh "$$REF_TYPE" "$$REF_NAME" "$$SHA"

.PHONY: find-assembly
find-assembly: ## Find the trusted Deploy run of a build: MODE=commit VALUE=SHA (dev's) or MODE=release VALUE=vX.Y.Z
	@.github/scripts/find_assembly.sh "$$MODE" "$$VALUE"

.PHONY: deploy-target
deploy-target: ## Print ENVIRONMENT's account, region and OIDC role ARNs (from infra/config/), as key=value lines
	@$(PY) -m infra.github_oidc.targets --env "$$ENVIRONMENT"

.PHONY: stack-recover
stack-recover: ## Cancel (UPDATE_IN_PROGRESS) or continue the rollback (UPDATE_ROLLBACK_FAILED) of the ENV stack
	.github/scripts/recover_stack.sh SessionManagement-$(ENV)

.PHONY: destroy-dev
destroy-dev: ## Destroy the dev stack from its assembly cdk.out/dev (dev only; never staging or prod)
	@test "$(ENV)" = dev || { echo "destroy-dev destroys dev only (ENV=$(ENV))" >&2; exit 2; }
	$(CDK) destroy --app cdk.out/dev --force SessionManagement-dev

.PHONY: sign-off
sign-off: ## Write the sign-off record of a pipeline run to reports/ (inputs from the environment; see the script)
	python3 .github/scripts/pipeline_report.py sign-off --env $(ENV) --reports $(REPORTS)

.PHONY: test-summary
test-summary: ## Render the JUnit reports under reports/junit/ as markdown (for a job summary)
	python3 .github/scripts/pipeline_report.py junit $(REPORTS)/junit

.PHONY: synth-summary
synth-summary: ## Render the synthesized assemblies under cdk.out/ as markdown (for a job summary)
	python3 .github/scripts/pipeline_report.py synth cdk.out

.PHONY: workflow-lint
workflow-lint: $(PY_TOOLS) ## Lint the GitHub workflows, the composite action and dependabot (actionlint, zizmor offline)
	$(call gate,actionlint) $(BIN)/actionlint -shellcheck $(BIN)/shellcheck .github/workflows/*.yml
	$(call gate,shellcheck) $(BIN)/shellcheck .github/scripts/*.sh
	$(call gate,zizmor) $(BIN)/zizmor --offline --min-severity=low .github

.PHONY: oidc-synth
oidc-synth: $(CDK_TOOLS) ## Synthesize the GitHub OIDC stacks (infra/github_oidc, config infra/config/github.json) into cdk.out/github-oidc
	$(CDK) synth --quiet --app "$(PY) -m infra.github_oidc.app" --output cdk.out/github-oidc
