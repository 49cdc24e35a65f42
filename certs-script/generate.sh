#!/usr/bin/env bash
# Makes a CA and a serving certificate for hitless's Service, and with --apply installs them: the TLS
# Secret, and the CA as caBundle of both webhook configurations. Idempotent: an existing CA is reused
# (so caBundle stays valid), the serving certificate is renewed, kubectl apply/patch change nothing
# that is already right.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: certs-script/generate.sh [options]

  --out DIR          where to write ca.crt, ca.key, tls.crt, tls.key (default: ./hitless-certs)
  --namespace NS     namespace of the hitless Service (default: hitless-system)
  --service NAME     name of the hitless Service (default: hitless)
  --secret NAME      TLS Secret to create with --apply (default: hitless-tls)
  --dns NAME         an extra DNS name for the certificate (repeatable)
  --ip ADDRESS       an extra IP address for the certificate (repeatable), e.g. for local runs
  --days N           validity of the serving certificate (default: 365; the CA gets 10 years)
  --apply            create/update the Secret and patch caBundle into the webhook configurations
  --help             this text

Needs openssl; --apply also needs kubectl with access to the cluster.
USAGE
}

out=./hitless-certs namespace=hitless-system service=hitless secret=hitless-tls days=365 apply=false
dns=() ips=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --service) service=$2; shift 2 ;;
    --secret) secret=$2; shift 2 ;;
    --dns) dns+=("$2"); shift 2 ;;
    --ip) ips+=("$2"); shift 2 ;;
    --days) days=$2; shift 2 ;;
    --apply) apply=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "generate.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$days" =~ ^[0-9]+$ ]] || { echo "generate.sh: --days must be a number" >&2; exit 2; }
command -v openssl >/dev/null || { echo "generate.sh: openssl is required" >&2; exit 1; }

umask 077
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -s "$out/ca.crt" ] && [ -s "$out/ca.key" ] && openssl x509 -in "$out/ca.crt" -noout -checkend 2592000 >/dev/null; then
  echo "reusing the CA in $out (valid for at least 30 more days)"
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=hitless CA" -keyout "$out/ca.key" -out "$out/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "made a new CA in $out"
fi

names="DNS:${service},DNS:${service}.${namespace},DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local"
for name in "${dns[@]+"${dns[@]}"}"; do names+=",DNS:${name}"; done
for ip in "${ips[@]+"${ips[@]}"}"; do names+=",IP:${ip}"; done

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${service}.${namespace}.svc" \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
cat >"$work/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=${names}
EXT
openssl x509 -req -in "$work/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -days "$days" -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null
mv "$work/tls.key" "$out/tls.key"
mv "$work/tls.crt" "$out/tls.crt"
chmod 600 "$out/ca.key" "$out/tls.key"
chmod 644 "$out/ca.crt" "$out/tls.crt"
echo "issued $out/tls.crt for ${names}"

if [ "$apply" = true ]; then
  command -v kubectl >/dev/null || { echo "generate.sh: --apply needs kubectl" >&2; exit 1; }
  # A TLS Secret that also carries ca.crt (as cert-manager's do), so a ServiceMonitor can verify hitless.
  kubectl create secret generic "$secret" --namespace "$namespace" --type=kubernetes.io/tls \
    --from-file=tls.crt="$out/tls.crt" --from-file=tls.key="$out/tls.key" --from-file=ca.crt="$out/ca.crt" \
    --dry-run=client -o yaml | kubectl apply -f -
  # The key that signs exemption approval records (decision 0024): made once, kept across runs.
  if ! kubectl get secret hitless-approval-key --namespace "$namespace" >/dev/null 2>&1; then
    key=$(mktemp)
    openssl rand -out "$key" 32
    kubectl create secret generic hitless-approval-key --namespace "$namespace" --from-file=key="$key"
    rm -f "$key"
  fi
  bundle=$(base64 < "$out/ca.crt" | tr -d '\n')
  for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
    count=$(kubectl get "$kind" hitless -o jsonpath='{range .webhooks[*]}x{end}')
    patch="["
    for ((i = 0; i < ${#count}; i++)); do
      [ "$i" -gt 0 ] && patch+=","
      patch+="{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$bundle\"}"
    done
    kubectl patch "$kind" hitless --type=json -p "${patch}]"
  done
  echo "applied Secret $namespace/$secret, Secret $namespace/hitless-approval-key (if missing) and caBundle of both webhook configurations"
fi
