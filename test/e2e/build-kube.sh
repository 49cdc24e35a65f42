#!/usr/bin/env bash
# Builds Kubernetes v1.20.2 binaries (kube-apiserver, kubelet, kube-proxy, kube-controller-manager,
# kube-scheduler, any cmd/ of the tree) from Debian bookworm's `kubernetes` source package (the last
# Debian source with cmd/ and a complete vendor/), offline in GOPATH mode, with Go from Debian, static
# (CGO_ENABLED=0, as upstream builds all but the kubelet; the kubelet needs no cgo on Linux).
#   bash test/e2e/build-kube.sh kube-apiserver kubelet ...   prints one binary path per line, in order
# Binaries are cached per machine in $HITLESS_E2E_CACHE (default ~/.cache/hitless-e2e), with the Go
# build cache: all five take about 4 min cold on 2 cores, seconds when cached. Only the missing ones are
# built, from one unpacked source tree.
# They are version-stamped as upstream's hack/lib/version.sh does (-X .../version.gitVersion etc.), so
# /version answers v1.20.2, the kubelet reports it in its Node status, and clients see the real version.
set -euo pipefail

VERSION=1.20.5+really1.20.2-1.1+deb12u1
GIT_VERSION=v1.20.2
STAMP=stamped1 # bump when the build's flags change, so a cached binary built otherwise is not reused
cache=${HITLESS_E2E_CACHE:-$HOME/.cache/hitless-e2e}

if [ $# -eq 0 ]; then echo "usage: build-kube.sh BINARY... (kube-apiserver, kubelet, kube-proxy, ...)" >&2; exit 2; fi
missing=()
for name in "$@"; do
  case $name in *[!a-z0-9-]*|'') echo "build-kube: not a cmd/ name: $name" >&2; exit 2 ;; esac
  [ -x "$cache/bin/$name-$VERSION-$STAMP" ] || missing+=("$name")
done
print_paths() { for name in "$@"; do echo "$cache/bin/$name-$VERSION-$STAMP"; done; }
if [ ${#missing[@]} -eq 0 ]; then print_paths "$@"; exit 0; fi

need=()
command -v go >/dev/null || need+=(golang-go)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
[ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || need+=(golang-github-modern-go-reflect2-dev)
# deb-src for the archive this machine already uses: the first URIs: of its deb822 sources, else the
# first `deb` line of sources.list, so the repository names no package host and follows the mirror.
sources=/etc/apt/sources.list.d/hitless-e2e-src.sources
if [ ! -f "$sources" ]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' | head -n 1)
  [ -n "$mirror" ] || mirror=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  if [ -z "$mirror" ]; then echo "build-kube: no Debian archive found in /etc/apt/sources*" >&2; exit 1; fi
  cat > "$sources" <<SRC
Types: deb-src
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq >&2
fi
if [ ${#need[@]} -gt 0 ]; then apt-get install -y -qq "${need[@]}" >/dev/null; fi

mkdir -p "$cache/download" "$cache/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$cache/download" && { ls kubernetes_"$VERSION".dsc >/dev/null 2>&1 || apt-get source --download-only "kubernetes=$VERSION" >&2; })
dpkg-source -x "$cache/download/kubernetes_$VERSION.dsc" "$work/src" >&2

export GOPATH="$work/gopath" GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0 GOCACHE="$cache/gocache"
mkdir -p "$GOPATH/src/k8s.io"
ln -s "$work/src" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

# The one generated file the tarball lacks: pkg/generated/openapi, made as Makefile.generated_files
# does, from every package tagged +k8s:openapi-gen= except code-generator and sample-apiserver. Only the
# API server, the controller-manager and the scheduler import it.
if printf '%s\n' "${missing[@]}" | grep -qxE 'kube-apiserver|kube-controller-manager|kube-scheduler'; then
  go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen >&2
  inputs=$(grep -RlE --include='*.go' '^// *\+k8s:openapi-gen=' pkg cmd plugin vendor/k8s.io \
    | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' \
    | xargs -n1 dirname | LC_ALL=C sort -u | sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
  "$work/openapi-gen" -i "$inputs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$work/violations.report" --output-base "$GOPATH/src" >&2
fi

# The vendored modern-go/reflect2 v1.0.1 crashes on Go >= 1.18; Debian's 1.0.2 does not.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

major=${GIT_VERSION#v}; minor=${major#*.}; major=${major%%.*}; minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version k8s.io/kubernetes/vendor/k8s.io/component-base/version; do
  ldflags+=" -X '$pkg.gitVersion=$GIT_VERSION' -X '$pkg.gitMajor=$major' -X '$pkg.gitMinor=$minor'"
  ldflags+=" -X '$pkg.gitTreeState=archive' -X '$pkg.buildDate=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)'"
done
# One go build for all of them: the packages they share are compiled once, both cores busy.
mkdir "$work/out"
go build -ldflags "$ldflags" -o "$work/out/" "${missing[@]/#/./cmd/}" >&2
for name in "${missing[@]}"; do
  mv "$work/out/$name" "$cache/bin/$name-$VERSION-$STAMP.tmp"
  mv "$cache/bin/$name-$VERSION-$STAMP.tmp" "$cache/bin/$name-$VERSION-$STAMP"
done
print_paths "$@"
