#!/usr/bin/env bash
# The test command (README, .ci/run): sets up a fresh machine, builds, runs the as-pect unit tests of the
# filter and every node:test file under test/ (unit tier in parallel, real-process tier serially), then
# prints one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
scripts/build.sh || exit 1
# The real peers the tests run against. Each script is idempotent and returns at once when its part is
# there; on a fresh machine the kube-apiserver, istiod/istio-agent, helm, rate limit service, trpc-go and dubbo-go peer
# builds from the Go module proxy take minutes, once.
for part in registry thrift thrift-go dubbo dubbo-go bolt trpc dubbo-tracing zipkin kube istio helm prometheus ratelimit; do
  echo "provisioning $part" >&2
  scripts/provision/$part.sh >/dev/null || { echo "test: provisioning $part failed" >&2; exit 1; }
done

status=0
aspect_out=$(mktemp)
node scripts/run-aspect.mjs | tee "$aspect_out" || status=1
read -r a_pass a_fail < <(awk '/^ *as-pect: [0-9]+ passed, [0-9]+ failed$/ {print $2, $4}' "$aspect_out")

# node:test files in two tiers (CONTRIBUTING.md "Tests"): the unit tier in parallel, then the tests that
# start Envoy, a kube-apiserver, a JVM or the demo one at a time. Each tier ends "# pass N" / "# fail N"
# after a table of per-file durations.
n_pass=0; n_fail=0
for tier in unit real; do
  node_out=$(mktemp)
  node scripts/test-tiers.mjs "$tier" 2>&1 | tee "$node_out"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  n_pass=$(( n_pass + $(awk '/^# pass / {n=$3} END {print n+0}' "$node_out") ))
  n_fail=$(( n_fail + $(awk '/^# fail / {n=$3} END {print n+0}' "$node_out") ))
  rm -f "$node_out"
done

pass=$(( ${a_pass:-0} + ${n_pass:-0} ))
fail=$(( ${a_fail:-0} + ${n_fail:-0} ))
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi   # a runner that crashed counts as a failure
rm -f "$aspect_out"
echo "${pass} passed, ${fail} failed"
exit "$status"
