#!/usr/bin/env bash
# Builds kube-apiserver v1.20.2 from Debian bookworm's `kubernetes` source package (the last Debian
# source with cmd/kube-apiserver and a complete vendor/), offline in GOPATH mode, with Go from Debian.
# The binary is cached per machine in $HITLESS_E2E_CACHE (default ~/.cache/hitless-e2e): about 3 min
# cold, seconds when cached. Prints the binary's path on its last line.
# It is version-stamped as upstream's hack/lib/version.sh does (-X .../version.gitVersion etc.), so
# /version answers v1.20.2 and clients see the real server version, not v0.0.0-master.
set -euo pipefail

VERSION=1.20.5+really1.20.2-1.1+deb12u1
GIT_VERSION=v1.20.2
STAMP=stamped1 # bump when the build's flags change, so a cached binary built otherwise is not reused
cache=${HITLESS_E2E_CACHE:-$HOME/.cache/hitless-e2e}
binary="$cache/bin/kube-apiserver-$VERSION-$STAMP"
if [ -x "$binary" ]; then echo "$binary"; exit 0; fi

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
  if [ -z "$mirror" ]; then echo "build-apiserver: no Debian archive found in /etc/apt/sources*" >&2; exit 1; fi
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
# does, from every package tagged +k8s:openapi-gen= except code-generator and sample-apiserver.
go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen >&2
inputs=$(grep -RlE --include='*.go' '^// *\+k8s:openapi-gen=' pkg cmd plugin vendor/k8s.io \
  | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' \
  | xargs -n1 dirname | LC_ALL=C sort -u | sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
"$work/openapi-gen" -i "$inputs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
  -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$work/violations.report" --output-base "$GOPATH/src" >&2

# The vendored modern-go/reflect2 v1.0.1 crashes on Go >= 1.18; Debian's 1.0.2 does not.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

major=${GIT_VERSION#v}; minor=${major#*.}; major=${major%%.*}; minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version k8s.io/kubernetes/vendor/k8s.io/component-base/version; do
  ldflags+=" -X '$pkg.gitVersion=$GIT_VERSION' -X '$pkg.gitMajor=$major' -X '$pkg.gitMinor=$minor'"
  ldflags+=" -X '$pkg.gitTreeState=archive' -X '$pkg.buildDate=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)'"
done
go build -ldflags "$ldflags" -o "$binary.tmp" ./cmd/kube-apiserver >&2
mv "$binary.tmp" "$binary"
echo "$binary"
