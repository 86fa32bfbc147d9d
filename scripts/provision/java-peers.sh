#!/usr/bin/env bash
# Builds one folder of real Java test peers (test/peers/<name>: Java 17 + Maven, dependencies from Maven
# Central into ~/.m2), for scripts/provision/dubbo.sh and bolt.sh, which differ only in the folder.
#   scripts/provision/java-peers.sh <name> <what, for the log>
# Idempotent: returns at once when the build matches its sources and every dependency jar is there.
# Prints the path of a file holding the peers' Java classpath.
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: java-peers.sh <name> <what>}"
what="${2:-$name}"
dir=test/peers/$name
out=$dir/target/run.classpath
stamp=$dir/target/.meltemi-sources-sha

sources_sha() { (cat "$dir/pom.xml"; find "$dir/src" -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1; }
classpath_ok() {
  [ -f "$out" ] || return 1
  local IFS=:
  for entry in $(cat "$out"); do [ -e "$entry" ] || return 1; done
}

want=$(sources_sha)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && classpath_ok; then
  echo "$PWD/$out"
  exit 0
fi

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "provision/$name: installing a JDK and Maven (Debian packages)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >&2
  else
    echo "provision/$name: Java 17+ and Maven are needed (java, mvn on PATH)" >&2
    exit 1
  fi
fi
java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [ "${java_major%%.*}" -lt 17 ]; then
  echo "provision/$name: Java 17+ is needed, found $java_major" >&2
  exit 1
fi

echo "provision/$name: building the $what test peers (Maven)" >&2
if ! mvn -B -q -f "$dir/pom.xml" package >&2; then
  echo "provision/$name: the Maven build failed (is Maven Central reachable?)" >&2
  exit 1
fi
echo "$PWD/$dir/target/classes:$(cat "$dir/target/classpath.txt")" > "$out"
echo "$want" > "$stamp"
echo "$PWD/$out"
