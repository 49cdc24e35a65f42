#!/usr/bin/env bash
# End to end on a kind cluster: build and load the image, install with certs-script and the base
# manifests, then check a deny, a patch and a warning through kubectl. Needs a Docker engine, kind and
# kubectl; where they are missing it says so and exits 0 (the API-server e2e in test/e2e/ covers the
# webhook on machines without Docker).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! docker info >/dev/null 2>&1; then
  echo "e2e:kind skipped: no Docker engine here (docker info failed). It needs Docker, kind and kubectl."
  exit 0
fi
for tool in kind kubectl; do
  command -v "$tool" >/dev/null || { echo "e2e:kind skipped: $tool is not installed."; exit 0; }
done

cluster=hitless-e2e
image=hitless:e2e
certs=$(mktemp -d)
cleanup() { kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; rm -rf "$certs"; }
trap cleanup EXIT

kind create cluster --name "$cluster" --wait 120s
docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"
kubectl kustomize manifests/base | sed "s#ghcr.io/hitless-dev/hitless:0.1.0#${image}#" | kubectl apply -f -
bash certs-script/generate.sh --out "$certs" --apply
kubectl -n hitless-system rollout status deployment/hitless --timeout=180s

fail() { echo "e2e:kind FAILED: $*"; exit 1; }
kubectl create namespace e2e
# A Deployment without a readiness probe is denied, naming the rule.
if out=$(kubectl -n e2e create deployment bare --image=nginx --port=80 2>&1); then fail "expected a deny, got: $out"; fi
grep -q 'readiness-probe' <<<"$out" || fail "deny does not name the rule: $out"
# One with a probe but no preStop is stored with an injected hook, and kubectl prints the warning.
out=$(kubectl -n e2e apply -f - 2>&1 <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: probed}
spec:
  selector: {matchLabels: {app: probed}}
  template:
    metadata: {labels: {app: probed}}
    spec:
      containers:
      - {name: web, image: nginx, ports: [{containerPort: 80}], readinessProbe: {tcpSocket: {port: 80}}}
YAML
)
grep -q 'Warning: hitless \[pre-stop\]' <<<"$out" || fail "no pre-stop warning: $out"
kubectl -n e2e get deployment probed -o jsonpath='{.spec.template.spec.containers[0].lifecycle.preStop}' | grep -q . || fail "preStop was not injected"
echo "e2e:kind passed"
