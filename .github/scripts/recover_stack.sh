#!/usr/bin/env bash
# Bring a CloudFormation stack stuck mid-update back to a state a deploy can start from:
#   UPDATE_IN_PROGRESS      -> cancel-update-stack, then wait for UPDATE_ROLLBACK_COMPLETE
#   UPDATE_ROLLBACK_FAILED  -> continue-update-rollback (RESOURCES_TO_SKIP, space-separated
#                              logical ids, when a resource cannot be rolled back), then wait
#   *_IN_PROGRESS otherwise -> wait
#   a settled state         -> nothing to do
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

if ! current="$(status 2>/dev/null)"; then
  echo "stack $stack does not exist: nothing to recover"
  exit 0
fi
echo "stack $stack is $current"

case "$current" in
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
