# The one entry point, for people and for the workflows alike. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
TASKCAT_VENV ?= .venv-taskcat
NODE_BIN := node_modules/.bin
CDK := $(NODE_BIN)/cdk
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

.PHONY: install
install: $(VENV)/.installed node_modules/.installed $(TASKCAT_VENV)/.installed ## Install every tool into the repository (.venv, node_modules, .venv-taskcat)

$(VENV)/.installed: requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(TASKCAT_VENV)/.installed: requirements-taskcat.lock
	python3 -m venv $(TASKCAT_VENV)
	$(TASKCAT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-taskcat.lock
	touch $@

.PHONY: lock
lock: ## Re-resolve and pin the Python dependencies (requirements.lock)
	rm -rf .build/lock-venv && python3 -m venv .build/lock-venv
	.build/lock-venv/bin/pip install --quiet -e '.[dev]'
	.build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .build/lock-venv

.PHONY: test
test: ## Run every test: unit, integration (moto), infrastructure (templates), end to end (local environment), workflows
	$(BIN)/pytest

.PHONY: lint
lint: ## ruff, black --check, mypy, workflow lint (actionlint, zizmor offline), taskcat lint
	$(BIN)/ruff check .
	$(BIN)/black --check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory workflow-lint
	$(MAKE) --no-print-directory taskcat-lint

.PHONY: format
format: ## Format the code (ruff --fix, black)
	$(BIN)/ruff check --fix .
	$(BIN)/black .

.PHONY: synth
synth: ## Synthesize every environment into cdk.out/<env>/, then cfn-lint the templates (cdk-nag runs in synth)
	@set -e; for e in $(ENVS); do \
	  echo "== synth $$e"; \
	  $(CDK) synth --quiet --context env=$$e --output cdk.out/$$e; \
	done
	$(BIN)/cfn-lint $(foreach e,$(ENVS),cdk.out/$(e)/*.template.json)

.PHONY: diff
diff: ## Show what a deploy of ENV would change (needs AWS credentials)
	$(CDK) diff --context env=$(ENV) SessionManagement-$(ENV)

.PHONY: local
local: ## Run the whole system on this machine (moto + local WebSocket gateway) until Ctrl-C
	$(PY) -m local

.PHONY: verify
verify: ## Verify the ENV deployment against the deployment checklist (ENV=local against `make local`)
	$(PY) -m ci.verify --env $(ENV) $(VERIFY_ARGS)

.PHONY: demo
demo: ## Start the local environment, deploy, verify against the checklist, print the report, stop
	$(PY) -m local --demo

.PHONY: bench
bench: ## Load-test the local environment at several levels and write bench/results/
	$(PY) -m bench

# The template taskcat deploys and lints: re-synthesized when the app, its config or the code change.
TASKCAT_TEMPLATE := cdk.out/staging/SessionManagement-staging.template.json
$(TASKCAT_TEMPLATE): $(shell find infra src -name '*.py' -o -name '*.json' 2>/dev/null) $(wildcard cdk.json)
	$(CDK) synth --quiet --context env=staging --output cdk.out/staging

.PHONY: taskcat
taskcat: $(TASKCAT_TEMPLATE) ## Deploy the synthesized staging template in two regions with taskcat (needs AWS credentials)
	$(TASKCAT_VENV)/bin/taskcat test run --output-directory reports/taskcat

.PHONY: taskcat-lint
taskcat-lint: $(TASKCAT_TEMPLATE) ## Lint .taskcat.yml and its template (synthesizes staging first when the sources changed)
	$(TASKCAT_VENV)/bin/taskcat lint

.PHONY: clean
clean: ## Remove build outputs (keeps the installed tools)
	rm -rf cdk.out .build reports .pytest_cache .ruff_cache .mypy_cache

# --- Pipelines (.github/workflows call these targets; docs/pipelines.md) ------------------------
SECTION ?=
REPORTS ?= reports

.PHONY: verify-section
verify-section: ## Verify one checklist section of ENV (SECTION=tables|functions|api|monitoring|...)
	@test -n "$(SECTION)" || { echo "SECTION is required, e.g. make verify-section ENV=dev SECTION=tables" >&2; exit 2; }
	$(PY) -m ci.verify --env $(ENV) --section $(SECTION) $(VERIFY_ARGS)

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
workflow-lint: ## Lint the GitHub workflows, the composite action and dependabot (actionlint, zizmor offline)
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline --min-severity=low .github

.PHONY: oidc-synth
oidc-synth: ## Synthesize the GitHub OIDC stacks (infra/github_oidc, config infra/config/github.json) into cdk.out/github-oidc
	$(CDK) synth --quiet --app "$(PY) -m infra.github_oidc.app" --output cdk.out/github-oidc
