#!/usr/bin/env bash
# npm run test:e2e — hitless against a real kube-apiserver on loopback, and the rollout proof on a real
# one-node cluster. Installs what is missing from Debian's archive (etcd-server, openssl, kubectl from
# kubernetes-client; node-cluster.sh installs the node's), builds or reuses the Kubernetes binaries
# (test/e2e/build-kube.sh) and images (test/e2e/node/images.sh; hitless's own from the Dockerfile,
# test/e2e/node/hitless-image.sh), then runs test/e2e/*.e2e.ts under tap.
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

# The API server, and the node's binaries and images for rollout-proof.e2e.ts (test/e2e/node-cluster.sh),
# built or taken from the cache here, outside the tests' timeouts: one go build for all that is missing.
start=$SECONDS
mapfile -t binaries < <(bash test/e2e/build-kube.sh kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
bash test/e2e/node/images.sh >/dev/null
bash test/e2e/node/hitless-image.sh >/dev/null
echo "kube-apiserver: ${binaries[0]} (binaries and images ready in $((SECONDS - start)) s)" >&2
# One file at a time: the rollout proof measures failed requests, and must not share the CPU with the
# other files' API servers.
HITLESS_E2E_APISERVER="${binaries[0]}" exec npx tap --disable-coverage --jobs=1 --timeout 1200 test/e2e/*.e2e.ts
