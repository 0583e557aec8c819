#!/usr/bin/env bash
# Bring a CloudFormation stack stuck mid-update back to a state a deploy can start from:
#   UPDATE_IN_PROGRESS      -> cancel-update-stack, then wait for UPDATE_ROLLBACK_COMPLETE
#   UPDATE_ROLLBACK_FAILED  -> continue-update-rollback (RESOURCES_TO_SKIP, space-separated
#                              logical ids, when a resource cannot be rolled back), then wait
#   REVIEW_IN_PROGRESS      -> nothing to do: a stack whose first change set was never
#                              executed; the next deploy creates a change set and starts from it
#   *_IN_PROGRESS otherwise -> wait
#   a settled state         -> nothing to do
#   no such stack           -> nothing to do (only CloudFormation's "Stack with id X does not
#                              exist" says so; any other error, e.g. AccessDenied or expired
#                              credentials, stops the script with that error)
# Uses the credentials and AWS_REGION of the environment (the deploy role in the pipelines).
set -euo pipefail

stack="${1:?usage: recover_stack.sh STACK_NAME}"
timeout_seconds="${RECOVER_TIMEOUT_SECONDS:-3600}"

status() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].StackStatus' --output text
}

wait_until_settled() {
  local waited=0 current
  current="$(status)"
  while [[ "$current" == *_IN_PROGRESS ]]; do
    if (( waited >= timeout_seconds )); then
      echo "::error::$stack still $current after ${timeout_seconds}s" >&2
      return 1
    fi
    sleep 15
    waited=$((waited + 15))
    current="$(status)"
  done
  echo "$current"
}

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if ! current="$(status 2>"$errors")"; then
  if grep -qF "Stack with id $stack does not exist" "$errors"; then
    echo "stack $stack does not exist: nothing to recover"
    exit 0
  fi
  # The CLI's message is its last non-empty line: "An error occurred (CODE) when calling ...".
  error="$(grep -v '^[[:space:]]*$' "$errors" | tail -n 1 || true)"
  echo "::error::cannot read stack $stack: ${error:-aws cloudformation describe-stacks failed}" >&2
  exit 1
fi
echo "stack $stack is $current"

case "$current" in
  REVIEW_IN_PROGRESS)
    echo "stack $stack is REVIEW_IN_PROGRESS (its first change set was never executed): a deploy can start from it"
    exit 0
    ;;
  UPDATE_IN_PROGRESS)
    echo "cancelling the update in progress"
    aws cloudformation cancel-update-stack --stack-name "$stack"
    current="$(wait_until_settled)"
    ;;
  UPDATE_ROLLBACK_FAILED)
    echo "continuing the failed rollback"
    if [[ -n "${RESOURCES_TO_SKIP:-}" ]]; then
      read -r -a skip <<<"$RESOURCES_TO_SKIP"
      aws cloudformation continue-update-rollback --stack-name "$stack" \
        --resources-to-skip "${skip[@]}"
    else
      aws cloudformation continue-update-rollback --stack-name "$stack"
    fi
    current="$(wait_until_settled)"
    ;;
  *_IN_PROGRESS)
    echo "waiting for the operation in progress to finish"
    current="$(wait_until_settled)"
    ;;
esac

case "$current" in
  CREATE_COMPLETE | UPDATE_COMPLETE | UPDATE_ROLLBACK_COMPLETE | IMPORT_COMPLETE | IMPORT_ROLLBACK_COMPLETE)
    echo "stack $stack is $current: ready to deploy"
    ;;
  *)
    echo "::error::stack $stack is $current, which a redeploy cannot start from; see docs/pipelines.md (rollback)" >&2
    exit 1
    ;;
esac
