#!/usr/bin/env bash
# Check a downloaded cloud assembly against the digests its build recorded (SHA256SUMS, written by
# `make assembly-digests`): every recorded file present with the same bytes, and no file that was
# not recorded. What deploys is then byte for byte what the build made.
# Usage: check_assembly.sh DIR   (DIR holds SHA256SUMS and the dev/, staging/, prod/ assemblies)
set -euo pipefail

dir="${1:?usage: check_assembly.sh DIR}"
fail() {
  echo "::error::$*" >&2
  exit 1
}

[[ -f "$dir/SHA256SUMS" ]] || fail "$dir/SHA256SUMS is missing: not an assembly whose build recorded its digests"
cd "$dir"
if ! failed="$(sha256sum --check --quiet --strict SHA256SUMS 2>&1)"; then
  fail "the assembly in $dir differs from what its build recorded: $(echo "$failed" | head -n 3 | tr '\n' ' ')"
fi
mapfile -t tops < <(cut -c67- SHA256SUMS | cut -d/ -f1 | sort -u)
extra="$(comm -13 <(cut -c67- SHA256SUMS | LC_ALL=C sort) <(find "${tops[@]}" -type f | LC_ALL=C sort))"
[[ -z "$extra" ]] || fail "files in $dir that the build did not record: $(echo "$extra" | head -n 3 | tr '\n' ' ')"
echo "assembly in $dir matches its recorded digests ($(wc -l < SHA256SUMS) files)"
