#!/usr/bin/env bash
# The Go checker of the CEL export (issue 23, decision 0019): the API server's own code reads, validates,
# compiles and evaluates what `hitless export-policies` writes.
#   bash test/export-go/run.sh build          fetch + build if needed, print the checker's path
#   bash test/export-go/run.sh path           print the cached checker's path, or exit 1 when it is absent
#   bash test/export-go/run.sh check ARGS...  build if needed, then run the checker with ARGS
#   bash test/export-go/run.sh all            build if needed, then check every scenario (.ci/run)
# Sources: Debian unstable's Go source packages (k8s.io/apiserver 0.36.x and what it imports, cel.dev/cel-go,
# sigs.k8s.io/yaml) and Go 1.26, fetched with `apt-get download` from the archive host this machine's own
# apt sources name, through a sid source list that exists only for that command (its own lists and cache in
# a temp dir: the machine's apt state is never changed, nothing is installed), unpacked with dpkg-deb -x into
# $HITLESS_CEL_CACHE (default ~/.cache/hitless-cel-check) and built in GOPATH mode, offline. The binary is
# cached under a hash of the checker's sources and the package versions.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${HITLESS_CEL_CACHE:-$HOME/.cache/hitless-cel-check}
roots=(golang-k8s-apiserver-dev golang-k8s-api-dev golang-k8s-apimachinery-dev golang-k8s-client-go-dev
  golang-k8s-component-base-dev golang-cel-cel-go-dev golang-cel-expr-dev golang-k8s-sigs-yaml-dev)
go_pkgs=(golang-1.26-go golang-1.26-src)

checker_hash() { # sources + the exact package files they build against
  { cat "$here"/checker/*.go "$here/run.sh"; ls "$cache/download" 2>/dev/null | LC_ALL=C sort; } | sha256sum | cut -c1-16
}
binary() { echo "$cache/bin/checker-$(checker_hash)"; }

fetch() {
  [ -f "$cache/unpacked.ok" ] && return 0
  local mirror O
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' | head -n 1)
  [ -n "$mirror" ] || mirror=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  if [ -z "$mirror" ]; then echo "export-go: no Debian archive found in /etc/apt/sources*" >&2; exit 1; fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$cache/download"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$work/sid.list"
  O=(-o "Dir::Etc::SourceList=$work/sid.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists"
     -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${O[@]}" -qq update >&2
  # The Go packages the roots depend on, transitively: of each Depends group the first alternative.
  declare -A seen=()
  local frontier=("${roots[@]}") next dep p
  for p in "${frontier[@]}"; do seen[$p]=1; done
  while [ ${#frontier[@]} -gt 0 ]; do
    next=()
    while read -r dep; do
      [ -z "${seen[$dep]:-}" ] || continue
      seen[$dep]=1; next+=("$dep")
    done < <(apt-cache "${O[@]}" depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${frontier[@]}" \
      | awk '/^[^ ]/{alt=0; next} /^ *\|Depends:/{ if(!alt) print $2; alt=1; next} /^ *Depends:/{ if(!alt) print $2; alt=0; next}' \
      | grep -E '^golang-.*-dev$' | LC_ALL=C sort -u)
    frontier=(${next[@]+"${next[@]}"})
  done
  echo "export-go: downloading ${#seen[@]} Go source packages and Go 1.26 into $cache/download" >&2
  (cd "$cache/download" && apt-get "${O[@]}" -qq download "${!seen[@]}" "${go_pkgs[@]}" >&2)
  rm -rf "$cache/root"; mkdir -p "$cache/root"
  for deb in "$cache"/download/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
  touch "$cache/unpacked.ok"
}

build() {
  local out; out=$(binary)
  [ -x "$out" ] && { echo "$out"; return 0; }
  fetch
  out=$(binary)
  mkdir -p "$cache/bin" "$cache/gopath/src"
  export GOROOT="$cache/root/usr/lib/go-1.26" GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 \
    GOPATH="$cache/gopath:$cache/root/usr/share/gocode" GOCACHE="$cache/gocache" GOTELEMETRY=off
  rm -rf "$cache/gopath/src/hitless.dev"; mkdir -p "$cache/gopath/src/hitless.dev"
  cp -r "$here/checker" "$cache/gopath/src/hitless.dev/checker"
  (cd "$cache/gopath/src/hitless.dev/checker" && nice -n 10 "$GOROOT/bin/go" build -o "$out.tmp" . >&2)
  mv "$out.tmp" "$out"
  echo "$out"
}

case ${1:-} in
  build) build ;;
  path) out=$(binary); [ -x "$out" ] && echo "$out" || exit 1 ;;
  check) shift; out=$(build); exec "$out" "$@" ;;
  all)
    out=$(build)
    input=$(mktemp --suffix=.json)
    trap 'rm -f "$input"' EXIT
    # The project's Node 24 (the node devDependency; .ci/run calls this outside npm, where `node` may be older).
    node=$here/../../node_modules/.bin/node
    [ -x "$node" ] || node=node
    (cd "$here/../.." && "$node" test/export-go/input.ts "$input")
    "$out" "$input" | tail -n 25 ;;
  *) echo "usage: run.sh build | path | check ARGS... | all" >&2; exit 2 ;;
esac
