#!/usr/bin/env bash
# A real one-node Kubernetes v1.20 cluster on this machine, from nothing, and gone again:
#   bash test/e2e/node-cluster.sh up       build what is missing, start it all, wait until a pod can run
#   bash test/e2e/node-cluster.sh down     stop it all, undo every change, check the machine is as found
#   bash test/e2e/node-cluster.sh status   what runs, and the node
# etcd and kube-apiserver, kube-controller-manager, kube-scheduler on loopback; containerd + runc +
# containernetworking-plugins from Debian; kubelet (cgroup v1, cgroupfs) and kube-proxy (iptables mode);
# a bridge CNI with host-local IPAM and no masquerade. Binaries from build-kube.sh, images from
# node/images.sh imported into containerd (pods use imagePullPolicy: Never).
#
# Nothing leaves the machine: pods get an address on a bridge with no gateway and no default route, the
# Service range is routed to that bridge, ip_forward stays as it is (off here), a guard chain drops
# anything for those ranges that would go out another interface, pods get a resolv.conf without a
# nameserver and no cluster DNS, the API server reaches the kubelet by InternalIP (no name lookup), the
# kubelet runs with AWS_EC2_METADATA_DISABLED=true (its in-tree credential provider would ask the
# metadata address), and containerd sends a pull of the image names used here to 127.0.0.1:1.
#
# Facts of this kind of machine: root lacks CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj
# (containerd's restrict_oom_score_adj = true clamps it); the kubelet refuses to start with
# --protect-kernel-defaults, so it runs without and `down` restores the kernel tunables it wrote.
#
# Every process started here is recorded by PID and start time in the state dir and only those are
# stopped; containers are stopped through containerd (restarted for that after a crash). `up` on a
# healthy cluster does nothing; on a broken one it runs `down` first. `down` is safe to repeat.
# On a failure to start, `up` prints the failing component's log tail and exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

STATE=${HITLESS_NODE_STATE:-/var/lib/hitless-node}
NODE_NAME=${HITLESS_NODE_NAME:-hitless-node}
BRIDGE=${HITLESS_NODE_BRIDGE:-hitless0}
POD_CIDR=${HITLESS_NODE_POD_CIDR:-10.244.0.0/24}
NODE_IP=${HITLESS_NODE_IP:-10.244.0.1}           # the bridge's address: the node's InternalIP
SERVICE_CIDR=${HITLESS_NODE_SERVICE_CIDR:-10.96.0.0/24}
KUBERNETES_SVC_IP=${HITLESS_NODE_KUBERNETES_SVC_IP:-10.96.0.1}
ETCD_PORT=${HITLESS_NODE_ETCD_PORT:-12379}
ETCD_PEER_PORT=${HITLESS_NODE_ETCD_PEER_PORT:-12380}
API_PORT=${HITLESS_NODE_API_PORT:-16443}
KCM_PORT=${HITLESS_NODE_KCM_PORT:-10257}
SCHED_PORT=${HITLESS_NODE_SCHEDULER_PORT:-10259}
KUBELET_PORT=${HITLESS_NODE_KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${HITLESS_NODE_KUBELET_HEALTHZ_PORT:-10248}
PROXY_HEALTHZ_PORT=${HITLESS_NODE_PROXY_HEALTHZ_PORT:-10256}
PROXY_METRICS_PORT=${HITLESS_NODE_PROXY_METRICS_PORT:-10249}
GUARD=HITLESS-NODE-GUARD
PKI=$STATE/pki
LOGS=$STATE/log
PIDS=$STATE/pid
FOUND=$STATE/found
RUN=$STATE/run
CONTAINERD_SOCK=$RUN/containerd.sock
# What the kubelet and containerd write to the fixed paths they know; `down` removes what was not there.
MACHINE_PATHS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/netns /var/run/netns
  /etc/cni /opt/cni /opt/containerd /var/lib/containerd /run/containerd /usr/libexec/kubernetes /etc/kubernetes)
# The kernel tunables the kubelet (without --protect-kernel-defaults), kube-proxy and the CNI plugins
# write; `down` writes back the values found.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet net.ipv4.ip_forward net.ipv4.conf.all.forwarding
  net.ipv6.conf.all.forwarding net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.ipv4.vs.conntrack net.ipv4.conf.all.arp_ignore
  net.ipv4.conf.all.arp_announce)
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

log() { echo "node-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

# --- processes, by PID and start time --------------------------------------------------------------
# The start time of a live process (field 22 of /proc/PID/stat, read after the command name); nothing
# for a zombie: whoever reaps orphans here may take a while, and a zombie has stopped all the same.
starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  set -- ${stat##*) }
  [ "$1" = Z ] || echo "${20}"
}
# pid_of NAME: the recorded PID if that very process still runs, else nothing.
pid_of() {
  local file=$PIDS/$1 pid start
  [ -f "$file" ] || return 0
  read -r pid start < "$file"
  [ -n "$pid" ] && [ "$(starttime "$pid")" = "$start" ] && echo "$pid" || true
}
launch() { # NAME [ENV=V...] -- COMMAND ARGS...: in the background, in its own session, logged
  local name=$1 envs=() pid
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  mkdir -p "$LOGS" "$PIDS"
  setsid env "${envs[@]}" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid $(starttime "$pid")" > "$PIDS/$name"
}
stop() { # NAME: SIGTERM, then SIGKILL after 10 s
  local pid i
  pid=$(pid_of "$1")
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do [ -n "$(pid_of "$1")" ] || break; sleep 0.1; done
    if [ -n "$(pid_of "$1")" ]; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$PIDS/$1"
}
tail_log() { # NAME
  echo "----- $1 log ($LOGS/$1.log), last 40 lines -----" >&2
  tail -n 40 "$LOGS/$1.log" >&2 2>/dev/null || echo "(no log)" >&2
  echo "----- end of $1 log -----" >&2
}
wait_for() { # NAME SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds; the component's log on failure
  local name=$1 seconds=$2 what=$3 deadline
  shift 3
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ -z "$(pid_of "$name")" ]; then log "$name exited while waiting for $what"; tail_log "$name"; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then log "$name: no $what after ${seconds}s"; tail_log "$name"; exit 1; fi
    sleep 0.25
  done
}

# --- the machine as found --------------------------------------------------------------------------
ipt_tables() { # FAMILY(iptables|ip6tables): the tables that exist
  local t
  for t in filter nat mangle raw; do "$1" -t "$t" -S >/dev/null 2>&1 && echo "$t"; done
}
ipt_dump() { # FAMILY: every table's rules, without counters
  local t
  for t in $(ipt_tables "$1"); do "$1" -t "$t" -S 2>/dev/null | sed "s/^/$t /"; done
}
cgroup_dirs() { # every cgroup but the per-command ones of the machine's process API
  find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | grep -v /process_api/ | sort || true
}
snapshot() { # DIR: what `down` compares against
  local dir=$1 p k
  mkdir -p "$dir"
  for p in "${MACHINE_PATHS[@]}"; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done > "$dir/paths" || true
  for k in "${SYSCTLS[@]}"; do v=$(sysctl -n "$k" 2>/dev/null) && printf '%s=%s\n' "$k" "$v"; done > "$dir/sysctl" || true
  ipt_dump iptables > "$dir/iptables"
  ipt_dump ip6tables > "$dir/ip6tables"
  nft list tables 2>/dev/null | sort > "$dir/nft-tables" || true
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort > "$dir/links"
  ip route show table all | grep -v -e '^local ' -e '^broadcast ' -e 'proto kernel' | sort > "$dir/routes" || true
  awk '{print $5}' /proc/self/mountinfo | sort > "$dir/mounts"
  cgroup_dirs > "$dir/cgroups"
  ls -A /run/netns 2>/dev/null | sort > "$dir/netns" || true
}

# --- configuration ----------------------------------------------------------------------------------
cert() { # NAME SUBJECT [SANS]: a key and a certificate signed by the cluster CA
  local name=$1 subject=$2 sans=${3:-}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subject" -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  { [ -n "$sans" ] && echo "subjectAltName=$sans"; echo "extendedKeyUsage=serverAuth,clientAuth"; } > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 7 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}
kubeconfig() { # FILE TOKEN
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
current-context: hitless-node
clusters: [{name: hitless-node, cluster: {server: "https://$NODE_IP:$API_PORT", certificate-authority: "$PKI/ca.crt"}}]
users: [{name: user, user: {token: "$2"}}]
contexts: [{name: hitless-node, context: {cluster: hitless-node, user: user}}]
EOF
}
configure() {
  mkdir -p "$PKI" "$LOGS" "$PIDS" "$RUN" "$STATE/cni" "$STATE/registry/hitless.invalid" "$STATE/volume-plugins"
  chmod 700 "$STATE"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj '/CN=hitless-node CA' -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  cert apiserver /CN=kube-apiserver "IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  cert apiserver-kubelet-client '/O=system:masters/CN=kube-apiserver-kubelet-client'
  cert kubelet "/CN=$NODE_NAME" "IP:$NODE_IP"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  local name token
  : > "$PKI/tokens.csv"
  for name in admin kubelet kube-proxy kube-controller-manager kube-scheduler; do
    token=$(openssl rand -hex 16)
    case $name in
      admin) echo "$token,hitless-admin,hitless-admin,\"system:masters\"" ;;
      kubelet) echo "$token,system:node:$NODE_NAME,system:node:$NODE_NAME,\"system:nodes\"" ;;
      kube-proxy) echo "$token,system:kube-proxy,system:kube-proxy" ;;
      *) echo "$token,system:$name,system:$name" ;;
    esac >> "$PKI/tokens.csv"
    kubeconfig "$STATE/$name.kubeconfig" "$token"
  done
  chmod 600 "$PKI"/*.key "$PKI/tokens.csv" "$STATE"/*.kubeconfig

  # Pods get no resolver: an empty resolv.conf, and no cluster DNS.
  # (an empty file would not do: containerd copies the host's resolv.conf when the kubelet passes none)
  printf '# hitless-node: no nameserver, so pods resolve nothing\noptions ndots:1 timeout:1 attempts:1\n' > "$STATE/resolv.conf"

  cat > "$STATE/cni/10-hitless.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "hitless",
  "plugins": [{
    "type": "bridge",
    "bridge": "$BRIDGE",
    "isGateway": false,
    "isDefaultGateway": false,
    "ipMasq": false,
    "hairpinMode": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]], "routes": [{"dst": "$SERVICE_CIDR", "gw": "$NODE_IP"}], "dataDir": "$STATE/cni-ipam"}
  }]
}
EOF
  # Any pull of hitless.invalid/* goes to a closed loopback port, never to a resolver.
  local registry
  for registry in hitless.invalid ghcr.io; do
    mkdir -p "$STATE/registry/$registry"
    cat > "$STATE/registry/$registry/hosts.toml" <<EOF
server = "http://127.0.0.1:1"
[host."http://127.0.0.1:1"]
  capabilities = ["pull", "resolve"]
EOF
  done
  # The API server's audit log: every request of hitless's ServiceAccount (which verbs it uses).
  cat > "$STATE/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["system:serviceaccount:hitless-system:hitless"]
  - level: None
EOF
  cat > "$STATE/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/registry"
EOF
  cat > "$STATE/cluster.env" <<EOF
HITLESS_NODE_STATE=$STATE
HITLESS_NODE_NAME=$NODE_NAME
HITLESS_NODE_IP=$NODE_IP
HITLESS_NODE_POD_CIDR=$POD_CIDR
HITLESS_NODE_SERVICE_CIDR=$SERVICE_CIDR
HITLESS_NODE_API_URL=https://$NODE_IP:$API_PORT
HITLESS_NODE_CA=$PKI/ca.crt
HITLESS_NODE_KUBECONFIG=$STATE/admin.kubeconfig
HITLESS_NODE_TOKEN=$(awk -F, '$2 == "hitless-admin" {print $1}' "$PKI/tokens.csv")
HITLESS_NODE_APP_IMAGE=$APP_IMAGE
HITLESS_NODE_LOGS=$LOGS
HITLESS_NODE_AUDIT_LOG=$LOGS/audit.log
HITLESS_NODE_CONTAINERD=$CONTAINERD_SOCK
HITLESS_NODE_HITLESS_IMAGE=$HITLESS_IMAGE
EOF
}

# --- network ----------------------------------------------------------------------------------------
network_up() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ip route add "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Belt and braces: nothing for the pod or Service range, or from the pod range, leaves by another
  # interface than the bridge (loopback aside), whatever routes or NAT rules appear later.
  iptables -N "$GUARD"
  iptables -A "$GUARD" -o "$BRIDGE" -j RETURN
  iptables -A "$GUARD" -o lo -j RETURN
  iptables -A "$GUARD" -d "$POD_CIDR" -j DROP
  iptables -A "$GUARD" -d "$SERVICE_CIDR" -j DROP
  iptables -A "$GUARD" -s "$POD_CIDR" -j DROP
  iptables -A OUTPUT -j "$GUARD"
  iptables -A FORWARD -j "$GUARD"
}

# --- up ---------------------------------------------------------------------------------------------
healthy() {
  local name
  [ -f "$STATE/up" ] || return 1
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] || return 1; done
  kctl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}
kctl() { kubectl --kubeconfig "$STATE/admin.kubeconfig" --cache-dir "$STATE/kube-cache" --request-timeout=10s "$@"; }
api_ready() { curl -sf --max-time 3 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(awk -F, '$2 == "hitless-admin" {print $1}' "$PKI/tokens.csv")" "https://$NODE_IP:$API_PORT/readyz"; }
node_ready() { kctl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
proxy_synced() { curl -sf --max-time 3 "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz" && iptables -t nat -S KUBE-SERVICES | grep -q -- "$KUBERNETES_SVC_IP/32"; }
default_sa() { kctl get serviceaccount default -n default -o jsonpath='{.secrets[0].name}' | grep -q .; }

install_packages() {
  local need=()
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  command -v iptables >/dev/null || need+=(iptables)
  command -v nft >/dev/null || need+=(nftables)
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v openssl >/dev/null || need+=(openssl)
  command -v curl >/dev/null || need+=(curl)
  command -v kubectl >/dev/null || need+=(kubernetes-client)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${need[@]}" >&2
  fi
}

up() {
  [ "$(id -u)" = 0 ] || die "up needs root (network, mounts, cgroups)"
  if healthy; then log "already up (state in $STATE)"; return 0; fi
  if [ -d "$STATE" ]; then log "a previous cluster is left in $STATE: taking it down first"; down || true; fi
  [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpu ] || die "needs cgroup v1 (memory, cpu controllers under /sys/fs/cgroup)"
  ip link show "$BRIDGE" >/dev/null 2>&1 && die "an interface $BRIDGE exists and is not ours (set HITLESS_NODE_BRIDGE)"
  iptables -S "$GUARD" >/dev/null 2>&1 && die "an iptables chain $GUARD exists and is not ours"
  local t0=$SECONDS
  install_packages
  local bins
  mapfile -t bins < <(bash "$here/build-kube.sh" kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
  local APISERVER=${bins[0]} KCM=${bins[1]} SCHEDULER=${bins[2]} KUBELET=${bins[3]} PROXY=${bins[4]}
  local images
  mapfile -t images < <(bash "$here/node/images.sh")
  PAUSE_IMAGE=${images[0]%% *} APP_IMAGE=${images[1]%% *}
  # hitless's own image, built from the Dockerfile (node/hitless-image.sh), as the shipped manifests name it.
  images+=("$(bash "$here/node/hitless-image.sh")")
  HITLESS_IMAGE=${images[2]%% *}
  log "binaries and images ready ($((SECONDS - t0))s)"

  mkdir -p "$STATE"
  snapshot "$FOUND"
  configure
  network_up

  launch etcd -- etcd --name hitless-node --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "hitless-node=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_for etcd 30 "health" curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

  launch kube-apiserver -- "$APISERVER" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$NODE_IP" --secure-port="$API_PORT" --advertise-address="$NODE_IP" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --token-auth-file="$PKI/tokens.csv" --authorization-mode=Node,RBAC \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-admission-plugins=NodeRestriction \
    --kubelet-preferred-address-types=InternalIP \
    --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --audit-policy-file="$STATE/audit-policy.yaml" --audit-log-path="$LOGS/audit.log" --audit-log-format=json \
    --cert-dir="$STATE/apiserver-certs" --profiling=false
  wait_for kube-apiserver 90 "/readyz" api_ready

  launch kube-controller-manager -- "$KCM" --kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --port=0 --cert-dir="$STATE/kcm-certs" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --leader-elect=false --use-service-account-credentials=true --allocate-node-cidrs=false \
    --flex-volume-plugin-dir="$STATE/volume-plugins" --profiling=false
  launch kube-scheduler -- "$SCHEDULER" --kubeconfig="$STATE/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --port=0 --cert-dir="$STATE/scheduler-certs" \
    --leader-elect=false --profiling=false
  launch containerd -- containerd --config "$STATE/containerd.toml"
  wait_for containerd 30 "socket" ctr --address "$CONTAINERD_SOCK" version
  local image
  for image in "${images[@]}"; do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "${image#* }" >/dev/null \
      || { log "importing ${image%% *} failed"; tail_log containerd; exit 1; }
  done
  wait_for kube-controller-manager 60 "/healthz" curl -sfk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for kube-scheduler 60 "/healthz" curl -sfk --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz"

  launch kubelet AWS_EC2_METADATA_DISABLED=true -- "$KUBELET" \
    --kubeconfig="$STATE/kubelet.kubeconfig" --root-dir="$STATE/kubelet" \
    --container-runtime=remote --container-runtime-endpoint="unix://$CONTAINERD_SOCK" --image-service-endpoint="unix://$CONTAINERD_SOCK" \
    --cgroup-driver=cgroupfs --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --address="$NODE_IP" --port="$KUBELET_PORT" --read-only-port=0 \
    --healthz-bind-address=127.0.0.1 --healthz-port="$KUBELET_HEALTHZ_PORT" \
    --anonymous-auth=false --client-ca-file="$PKI/ca.crt" --authorization-mode=Webhook \
    --tls-cert-file="$PKI/kubelet.crt" --tls-private-key-file="$PKI/kubelet.key" \
    --resolv-conf="$STATE/resolv.conf" --fail-swap-on=false \
    --pod-infra-container-image="$PAUSE_IMAGE" --volume-plugin-dir="$STATE/volume-plugins" \
    --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
    --eviction-hard='memory.available<100Mi' --oom-score-adj=0 --v=1
  wait_for kubelet 60 "/healthz" curl -sf --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
  wait_for kubelet 90 "Ready node $NODE_NAME" node_ready

  launch kube-proxy -- "$PROXY" --kubeconfig="$STATE/kube-proxy.kubeconfig" --proxy-mode=iptables \
    --hostname-override="$NODE_NAME" --bind-address="$NODE_IP" --cluster-cidr="$POD_CIDR" \
    --healthz-bind-address="127.0.0.1:$PROXY_HEALTHZ_PORT" --metrics-bind-address="127.0.0.1:$PROXY_METRICS_PORT" \
    --nodeport-addresses=127.0.0.1/32 --conntrack-max-per-core=0 \
    --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 --oom-score-adj=0 --v=1
  wait_for kube-proxy 60 "synced Service rules" proxy_synced
  wait_for kube-controller-manager 60 "the default ServiceAccount's token" default_sa
  touch "$STATE/up"
  log "up in $((SECONDS - t0))s: kubectl --kubeconfig $STATE/admin.kubeconfig (details in $STATE/cluster.env)"
}

# --- down -------------------------------------------------------------------------------------------
unmount_under() { # DIR...: every mount at or below, deepest first
  local dir m
  for dir in "$@"; do
    awk '{print $5}' /proc/self/mountinfo | while read -r m; do
      case $m in "$dir"|"$dir"/*) echo "$m" ;; esac
    done
  done | sort -r -u | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
ipt_cleanup() { # FAMILY: rules that jump to KUBE-*/our guard, then those chains, unless they were found
  local family=$1 t rule chain
  for t in $(ipt_tables "$family"); do
    { "$family" -t "$t" -S | grep -E -- "^-A .* -j (KUBE-[A-Z0-9-]+|$GUARD)( |$)" || true; } | while read -r rule; do
      grep -qxF "$t $rule" "$FOUND/$family" 2>/dev/null && continue
      eval "$family -t $t -D ${rule#-A }" 2>/dev/null || true
    done
    for chain in $("$family" -t "$t" -S | sed -nE "s/^-N ((KUBE-[A-Z0-9-]+)|$GUARD)$/\1/p"); do
      grep -qxF "$t -N $chain" "$FOUND/$family" 2>/dev/null && continue
      "$family" -t "$t" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$family" -t "$t" -S | sed -nE "s/^-N ((KUBE-[A-Z0-9-]+)|$GUARD)$/\1/p"); do
      grep -qxF "$t -N $chain" "$FOUND/$family" 2>/dev/null && continue
      "$family" -t "$t" -X "$chain" 2>/dev/null || true
    done
  done
}
nft_cleanup() { # iptables-nft leaves the tables it made, empty: remove those that were not there
  command -v nft >/dev/null && [ -f "$FOUND/nft-tables" ] || return 0
  local family name
  nft list tables 2>/dev/null | sort | comm -23 - "$FOUND/nft-tables" | while read -r _ family name; do
    # only an empty one: base chains and no rules
    if ! nft list table "$family" "$name" | grep -vqE '^\s*(table .*\{|chain .*\{|type .*;|\}|)$'; then
      nft delete table "$family" "$name"
    fi
  done
}
containers_down() { # every task and container in containerd's k8s.io namespace, then containerd
  local ctr=(ctr --address "$CONTAINERD_SOCK" -n k8s.io) id i
  if [ -z "$(pid_of containerd)" ] && [ -f "$STATE/containerd.toml" ] && [ -d "$STATE/containerd" ]; then
    log "containerd is not running: starting it to stop the containers it left"
    launch containerd -- containerd --config "$STATE/containerd.toml"
    for i in $(seq 120); do "${ctr[@]}" version >/dev/null 2>&1 && break; sleep 0.25; done
  fi
  if [ -n "$(pid_of containerd)" ]; then
    for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for i in $(seq 40); do [ -z "$("${ctr[@]}" tasks ls -q 2>/dev/null | head -n 1)" ] && break; for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$id" >/dev/null 2>&1 || true; done; sleep 0.25; done
    for id in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop containerd
}
cgroups_cleanup() { # the cgroups that were not there, deepest first
  [ -f "$FOUND/cgroups" ] || return 0
  local d i
  for i in 1 2 3; do
    cgroup_dirs | comm -23 - "$FOUND/cgroups" | sort -r | while read -r d; do rmdir "$d" 2>/dev/null || true; done
  done
}
netns_cleanup() { # the network namespaces containerd made
  local n
  for n in $(ls -A /run/netns 2>/dev/null); do
    grep -qxF "$n" "$FOUND/netns" 2>/dev/null && continue
    case $n in cni-*) umount "/run/netns/$n" 2>/dev/null || umount -l "/run/netns/$n" 2>/dev/null || true; rm -f "/run/netns/$n" ;; esac
  done
}
compare() { # what differs from the machine as found, one line each; nothing when it is as found
  local now
  now=$(mktemp -d)
  snapshot "$now"
  local f
  for f in paths sysctl iptables ip6tables nft-tables links routes mounts cgroups netns; do
    diff "$FOUND/$f" "$now/$f" | sed -nE "s/^([<>]) (.*)/$f \1 \2/p" || true
  done
  rm -rf "$now"
}
down() {
  [ "$(id -u)" = 0 ] || die "down needs root"
  if [ ! -d "$STATE" ]; then log "not up (no $STATE)"; return 0; fi
  rm -f "$STATE/up"
  local name
  for name in kube-proxy kubelet kube-scheduler kube-controller-manager; do stop "$name"; done
  containers_down
  for name in kube-apiserver etcd; do stop "$name"; done
  netns_cleanup
  unmount_under "$STATE" /var/lib/kubelet
  ip link del "$BRIDGE" 2>/dev/null || true
  # The host ends of the pods' veth pairs go when the kernel frees their namespaces, a moment later.
  local i
  for i in $(seq 40); do
    [ -z "$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | comm -23 - "$FOUND/links" 2>/dev/null)" ] && break
    sleep 0.25
  done
  ipt_cleanup iptables
  ipt_cleanup ip6tables
  nft_cleanup
  if [ -f "$FOUND/sysctl" ]; then
    local line key value
    while IFS= read -r line; do
      key=${line%%=*} value=${line#*=}
      [ "$(sysctl -n "$key" 2>/dev/null)" = "$value" ] || sysctl -qw "$key=$value" >/dev/null 2>&1 || log "could not restore $key=$value"
    done < "$FOUND/sysctl"
  fi
  cgroups_cleanup
  if [ -f "$FOUND/paths" ]; then
    local p
    for p in "${MACHINE_PATHS[@]}"; do
      if { [ -e "$p" ] || [ -L "$p" ]; } && ! grep -qxF "$p" "$FOUND/paths"; then
        unmount_under "$p"
        rm -rf --one-file-system "$p"
      fi
    done
  fi
  local left=""
  [ -f "$FOUND/paths" ] && left=$(compare)
  rm -rf --one-file-system "$STATE"
  if [ -n "$left" ]; then
    log "down, but the machine differs from how it was found:"
    echo "$left" >&2
    return 1
  fi
  log "down; the machine is as found"
}

status() {
  if [ ! -d "$STATE" ]; then echo "not up"; return 3; fi
  local name pid ok=0
  for name in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$name")
    if [ -n "$pid" ]; then echo "$name: running (pid $pid)"; else echo "$name: not running"; ok=1; fi
  done
  kctl get nodes -o wide 2>&1 || ok=1
  return $ok
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: node-cluster.sh up|down|status" >&2; exit 2 ;;
esac
