#!/usr/bin/env bash
# Find the Deploy run whose cloud assembly may be deployed, trusting only what this repository's
# deploy.yml uploaded on a push (never a pull request's, a fork's or another workflow's artifact:
# actions/download-artifact with run-id reads any run of the repository).
#
#   find_assembly.sh commit SHA      the push to main that built SHA, whose run succeeded (so dev
#                                    deployed and verified it): staging and prod deploy that build
#   find_assembly.sh release vX.Y.Z  the push of the tag whose run uploaded cloud-assembly-vX.Y.Z
#                                    for the tag's commit (rollback)
#
# Prints run-id=... and artifact=... (for $GITHUB_OUTPUT); exits 1 with one line when none
# qualifies, 3 when a release has no artifact left (expired), so the caller may rebuild it.
# Needs GH_TOKEN and GITHUB_REPOSITORY; for a release, the tag fetched (fetch-depth: 0).
set -euo pipefail

mode="${1:?usage: find_assembly.sh commit SHA | release vX.Y.Z}"
value="${2:?usage: find_assembly.sh commit SHA | release vX.Y.Z}"
workflow=".github/workflows/deploy.yml"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"

fail() {
  echo "::error::$*" >&2
  exit "${2:-1}"
}

# The runs that qualify, newest first, as "run-id head_sha" lines.
qualifying_runs() { # BRANCH SHA
  BRANCH="$1" SHA="$2" gh api \
    "repos/${GITHUB_REPOSITORY}/actions/workflows/deploy.yml/runs?event=push&head_sha=$2&per_page=100" \
    --jq '.workflow_runs
          | map(select(.path == "'"$workflow"'" and .event == "push"
                       and .head_branch == env.BRANCH and .head_sha == env.SHA
                       and .head_repository.full_name == env.GITHUB_REPOSITORY))
          | sort_by(.run_started_at) | reverse | .[] | "\(.id) \(.conclusion)"'
}

case "$mode" in
  commit)
    [[ "$value" =~ ^[0-9a-f]{40}$ ]] || fail "not a commit sha: ${value}"
    run_id=""
    while read -r id conclusion; do
      if [[ "$conclusion" == success ]]; then run_id="$id"; break; fi
    done < <(qualifying_runs main "$value")
    [[ -n "$run_id" ]] || fail "commit ${value:0:12} has no successful Deploy run on main (dev deployed and verified it): push it to main and let dev pass before tagging it"
    echo "run-id=${run_id}"
    echo "artifact=cloud-assembly-${value}"
    ;;
  release)
    [[ "$value" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] || fail "not a release tag: ${value}"
    tag_sha="$(git rev-parse --verify --quiet "refs/tags/${value}^{commit}")" \
      || fail "no tag ${value} in this repository"
    name="cloud-assembly-${value}"
    # Artifacts of that name whose run built the tag's commit; then the run itself must be
    # deploy.yml's push of the tag in this repository.
    mapfile -t candidates < <(NAME="$name" SHA="$tag_sha" gh api \
      "repos/${GITHUB_REPOSITORY}/actions/artifacts?name=${name}&per_page=100" \
      --jq '.artifacts | map(select(.name == env.NAME and (.expired | not)
                                    and .workflow_run.head_sha == env.SHA))
            | sort_by(.created_at) | reverse | .[].workflow_run.id')
    for id in "${candidates[@]}"; do
      while read -r run conclusion; do
        if [[ "$run" == "$id" ]]; then
          echo "run-id=${id}"
          echo "artifact=${name}"
          echo "Redeploying ${name} uploaded by run ${id} (deploy.yml, push of ${value}, ${conclusion})" >&2
          exit 0
        fi
      done < <(qualifying_runs "$value" "$tag_sha")
    done
    fail "no ${name} uploaded by deploy.yml on a push of ${value} in ${GITHUB_REPOSITORY} is left" 3
    ;;
  *)
    fail "unknown mode ${mode}: commit or release"
    ;;
esac
