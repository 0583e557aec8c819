#!/usr/bin/env bash
# What a Deploy run deploys, decided from the ref it runs for, in one place:
#   refs/heads/main        -> release = the commit, artifact cloud-assembly-<sha> (built and checked here)
#   refs/tags/vX.Y.Z       -> release = the tag, only when the tag's commit is on main
#   anything else          -> refused
# Prints release=... and artifact=... (for $GITHUB_OUTPUT). Needs origin/main fetched
# (actions/checkout with fetch-depth: 0).
# Usage: check_release.sh REF_TYPE REF_NAME SHA
set -euo pipefail

ref_type="${1:?usage: check_release.sh REF_TYPE REF_NAME SHA}"
ref_name="${2:?usage: check_release.sh REF_TYPE REF_NAME SHA}"
sha="${3:?usage: check_release.sh REF_TYPE REF_NAME SHA}"
main_ref="${MAIN_REF:-refs/remotes/origin/main}"

fail() {
  echo "::error::$*" >&2
  exit 1
}

case "$ref_type" in
  branch)
    [[ "$ref_name" == main ]] || fail "Deploy runs for main and release tags only, not the branch ${ref_name}"
    echo "release=${sha}"
    echo "artifact=cloud-assembly-${sha}"
    ;;
  tag)
    [[ "$ref_name" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] \
      || fail "release tags are vX.Y.Z; refusing to deploy the tag ${ref_name}"
    git rev-parse --verify --quiet "${main_ref}^{commit}" >/dev/null \
      || fail "cannot tell whether ${ref_name} is on main: ${main_ref} is not fetched"
    git merge-base --is-ancestor "$sha" "$main_ref" \
      || fail "tag ${ref_name} points at ${sha:0:12}, which is not on main: release tags must point at a commit of main"
    echo "release=${ref_name}"
    echo "artifact=cloud-assembly-${ref_name}"
    ;;
  *)
    fail "Deploy runs for main and release tags only, not a ${ref_type} ${ref_name}"
    ;;
esac
