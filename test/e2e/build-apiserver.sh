#!/usr/bin/env bash
# Builds kube-apiserver v1.20.2 from Debian bookworm's `kubernetes` source package (test/e2e/build-kube.sh
# does the work, for any of the Kubernetes binaries), cached in $HITLESS_E2E_CACHE (default
# ~/.cache/hitless-e2e). Prints the binary's path on its last line.
set -euo pipefail
exec bash "$(dirname "$0")/build-kube.sh" kube-apiserver
