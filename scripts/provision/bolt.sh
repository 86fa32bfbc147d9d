#!/usr/bin/env bash
# Builds the real SOFA Bolt peers (test/peers/bolt: a server and a client CLI) used by the Bolt tests
# (scripts/provision/java-peers.sh). Prints the path of a file holding their Java classpath.
exec "$(dirname "$0")/java-peers.sh" bolt Bolt
