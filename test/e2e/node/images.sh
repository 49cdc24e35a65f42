#!/usr/bin/env bash
# The two images the one-node cluster runs, made from Debian packages and the Kubernetes source, no
# registry and no docker: docker-archive tarballs (manifest.json, config, one layer) that
# `ctr images import` reads.
#   hitless.invalid/pause:3.4  build/pause/linux/pause.c of the source package, gcc -static
#   hitless.invalid/app:1      busybox-static and app.sh (listens after START_DELAY s, exits on SIGTERM)
# The .invalid names never resolve (RFC 2606): a pull of them cannot leave the machine, and containerd
# is told to send any to 127.0.0.1:1 anyway. Cached in $HITLESS_E2E_CACHE/images by content.
# Prints "NAME PATH" per image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${HITLESS_E2E_CACHE:-$HOME/.cache/hitless-e2e}
VERSION=1.20.5+really1.20.2-1.1+deb12u1
PAUSE_TAG=3.4 # build/pause/Makefile's TAG in v1.20.2

need=()
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need+=(busybox-static)
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/"$(gcc -dumpmachine 2>/dev/null)"/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${need[@]}" >&2
fi
if ! file_busybox=$(dpkg -L busybox-static 2>/dev/null | grep -x '/bin/busybox\|/usr/bin/busybox' | head -n 1) || [ -z "$file_busybox" ]; then
  echo "images: busybox-static is not installed" >&2; exit 1
fi

mkdir -p "$cache/images"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# docker-archive NAME ROOTFS CONFIG_JSON_FRAGMENT OUT: one layer, reproducible (sorted, mtime 0, root-owned).
archive() {
  local name=$1 rootfs=$2 config=$3 out=$4 dir diff config_sha
  dir=$(mktemp -d "$work/archive.XXXX")
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$dir/layer.tar" .
  diff=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  mkdir "$dir/$diff" && mv "$dir/layer.tar" "$dir/$diff/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"test/e2e/node/images.sh"}]}' "$config" "$diff" > "$dir/config.json"
  config_sha=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$config_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$name" "$diff" > "$dir/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$out.tmp" manifest.json "$config_sha.json" "$diff"
  mv "$out.tmp" "$out"
}

# pause: the source package's pause.c, compiled as build/pause/Makefile does (-Os -Wall -Werror -static).
pause_out="$cache/images/pause-$PAUSE_TAG-$VERSION.tar"
if [ ! -f "$pause_out" ]; then
  orig="$cache/download/kubernetes_${VERSION%%-*}.orig.tar.gz"
  if [ ! -f "$orig" ]; then bash "$here/../build-kube.sh" kube-apiserver >/dev/null; fi
  tar -xzf "$orig" -C "$work" --wildcards '*/build/pause/linux/pause.c'
  mkdir -p "$work/pause-root"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-hitless" -o "$work/pause-root/pause" "$work"/*/build/pause/linux/pause.c
  strip "$work/pause-root/pause"
  archive "hitless.invalid/pause:$PAUSE_TAG" "$work/pause-root" '{"Entrypoint":["/pause"]}' "$pause_out"
fi

# app: busybox-static with its applets as symlinks, and app.sh as the entrypoint.
key=$( (dpkg-query -W -f='${Version}' busybox-static; cat "$here/app.sh") | sha256sum | cut -c1-12)
app_out="$cache/images/app-$key.tar"
if [ ! -f "$app_out" ]; then
  root="$work/app-root"
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
  chmod 1777 "$root/tmp"
  cp "$file_busybox" "$root/bin/busybox"
  for applet in $("$file_busybox" --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  install -m 0755 "$here/app.sh" "$root/bin/app"
  echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  archive hitless.invalid/app:1 "$root" '{"Entrypoint":["/bin/app"],"Env":["PATH=/bin"],"ExposedPorts":{"8080/tcp":{}}}' "$app_out"
fi

echo "hitless.invalid/pause:$PAUSE_TAG $pause_out"
echo "hitless.invalid/app:1 $app_out"
