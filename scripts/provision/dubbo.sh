#!/usr/bin/env bash
# Builds the real Apache Dubbo peers (test/peers/dubbo: a provider and a consumer CLI) used by the Dubbo
# interop tests and the demo (scripts/provision/java-peers.sh). Prints the path of a file holding their
# Java classpath.
exec "$(dirname "$0")/java-peers.sh" dubbo Dubbo
