#!/usr/bin/env bash
# npm run test:e2e — hitless against a real kube-apiserver on loopback. Installs what is missing from
# Debian's archive (etcd-server, openssl, kubectl from kubernetes-client), builds or reuses the API
# server (test/e2e/build-apiserver.sh, which runs build-kube.sh), then runs test/e2e/*.e2e.ts under tap.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v openssl >/dev/null || missing+=(openssl)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test:e2e needs ${missing[*]} (Debian packages); install them or run as root" >&2
    exit 1
  fi
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

binary=$(bash test/e2e/build-apiserver.sh | tail -n 1)
echo "kube-apiserver: $binary" >&2
HITLESS_E2E_APISERVER="$binary" exec npx tap --disable-coverage --timeout 600 test/e2e/*.e2e.ts
