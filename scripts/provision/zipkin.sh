#!/usr/bin/env bash
# Fetches the Zipkin server (io.zipkin:zipkin-server, its executable jar: classifier exec) from Maven
# Central into ~/.m2 with Maven, for the tracing tests (test/envoy/tracing-zipkin.test.ts): each test
# starts its own server on a free loopback port with in-memory storage. Needs Java 17+ (Zipkin 3) and
# Maven: installed from Debian's packages when missing, as scripts/provision/dubbo.sh does.
# Idempotent: returns at once when the jar is there. Prints the path of the jar.
set -euo pipefail
version=3.6.1
jar="${HOME}/.m2/repository/io/zipkin/zipkin-server/${version}/zipkin-server-${version}-exec.jar"
if [ -s "$jar" ]; then
  echo "$jar"
  exit 0
fi

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "provision/zipkin: installing a JDK and Maven (Debian packages)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >&2
  else
    echo "provision/zipkin: Java 17+ and Maven are needed (java, mvn on PATH)" >&2
    exit 1
  fi
fi
java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [ "${java_major%%.*}" -lt 17 ]; then
  echo "provision/zipkin: Java 17+ is needed (Zipkin 3), found $java_major" >&2
  exit 1
fi

echo "provision/zipkin: fetching io.zipkin:zipkin-server:${version}:jar:exec (Maven Central, about 135 MB)" >&2
if ! mvn -B -q dependency:get "-Dartifact=io.zipkin:zipkin-server:${version}:jar:exec" -Dtransitive=false >&2; then
  echo "provision/zipkin: Maven could not fetch the Zipkin server (is Maven Central reachable?)" >&2
  exit 1
fi
[ -s "$jar" ] || { echo "provision/zipkin: $jar missing after the fetch" >&2; exit 1; }
echo "$jar"
