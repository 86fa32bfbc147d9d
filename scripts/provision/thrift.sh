#!/usr/bin/env bash
# Installs the Apache Thrift IDL compiler from Debian (package thrift-compiler) for the Thrift interop
# tests, which compile test/codec/thrift/interop.thrift with it. Idempotent: returns at once when a
# `thrift` compiler is on PATH. Prints the compiler's path on stdout. MELTEMI_THRIFT_BIN overrides.
set -euo pipefail

if [ -n "${MELTEMI_THRIFT_BIN:-}" ]; then
  echo "$MELTEMI_THRIFT_BIN"
  exit 0
fi
if bin=$(command -v thrift) && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "provision/thrift: apt-get is needed to install thrift-compiler (Debian)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "provision/thrift: installing thrift-compiler from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when the first try fails.
if ! $sudo apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends thrift-compiler >&2; then
  $sudo apt-get update >&2
  $sudo apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends thrift-compiler >&2
fi
bin=$(command -v thrift) || { echo "provision/thrift: thrift-compiler installed but no thrift on PATH" >&2; exit 1; }
"$bin" --version >&2
echo "$bin"
