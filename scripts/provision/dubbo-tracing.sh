#!/usr/bin/env bash
# The classpath of the Dubbo test consumer with Dubbo's own tracing on (test/peers/dubbo-tracing:
# Micrometer Tracing, Brave, the Zipkin reporter from Maven Central, into ~/.m2), for
# test/envoy/tracing-zipkin.test.ts: the peers' classes (scripts/provision/dubbo.sh) and those jars.
# Idempotent: returns at once when its pom is unchanged and every entry is there.
# Prints the path of a file holding that classpath.
set -euo pipefail
cd "$(dirname "$0")/../.."
peers=$(scripts/provision/dubbo.sh)
dir=test/peers/dubbo-tracing
out=$dir/target/run.classpath
stamp=$dir/target/.meltemi-pom-sha

classpath_ok() {
  [ -f "$out" ] || return 1
  local IFS=:
  for entry in $(cat "$out"); do [ -e "$entry" ] || return 1; done
}

want=$( (cat "$dir/pom.xml"; cat "$peers") | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && classpath_ok; then
  echo "$PWD/$out"
  exit 0
fi
echo "provision/dubbo-tracing: resolving Micrometer Tracing, Brave and the Zipkin reporter (Maven)" >&2
if ! mvn -B -q -f "$dir/pom.xml" package >&2; then
  echo "provision/dubbo-tracing: the Maven build failed (is Maven Central reachable?)" >&2
  exit 1
fi
# The peers' own classes first, then the tracing classpath (which holds the same Dubbo version).
echo "$PWD/test/peers/dubbo/target/classes:$(cat "$dir/target/classpath.txt")" > "$out"
echo "$want" > "$stamp"
echo "$PWD/$out"
