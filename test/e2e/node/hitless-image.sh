#!/usr/bin/env bash
# hitless's container image, built offline from the repository's own Dockerfile, no registry and no
# docker: Debian's buildah (runc, host network, overlay storage under the cache, never the machine's
# /var/lib/containers), on a base made with `debootstrap --variant=minbase bookworm` from the machine's
# own Debian mirror (Node and npm come from the npm registry, checked against its integrity hashes; the
# proxy CA of $NODE_EXTRA_CA_CERTS, if any, is a build secret, never in a layer). docs/decisions/0021.
# Cached in $HITLESS_E2E_CACHE/images: the base by debootstrap's version and mirror, the image by the
# content of everything the Dockerfile reads. Prints "NAME PATH" (a docker-archive that
# `ctr images import` reads), NAME being the image the shipped manifests run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${HITLESS_E2E_CACHE:-$HOME/.cache/hitless-e2e}
NAME=$(sed -n 's/^ *image: \(ghcr.io\/hitless-dev\/hitless:.*\)$/\1/p' "$repo/manifests/base/deployment.yaml")
[ -n "$NAME" ] || { echo "hitless-image: no image in manifests/base/deployment.yaml" >&2; exit 1; }
log() { echo "hitless-image: $*" >&2; }

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v runc >/dev/null || need+=(runc)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "needs ${need[*]} (Debian packages); install them or run as root"; exit 1; }
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${need[@]}" >&2
fi

# The machine's own Debian mirror: the first http(s) URI of a source for the bookworm suite.
mirror=${HITLESS_DEBIAN_MIRROR:-$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u ~ /\/debian\/?$/ {print u; exit}' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$cache/images" "$cache/buildah"
storage=(--root "$cache/buildah/storage" --runroot "$cache/buildah/run" --storage-driver overlay)
work=$(mktemp -d)
# debootstrap mounts proc and sys in the root it makes: unmount whatever is left there before removing it.
cleanup() {
  buildah "${storage[@]}" rm --all >/dev/null 2>&1 || true
  { awk '{print $5}' /proc/self/mountinfo | grep "^$work/" || true; } | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# --- the base: a bookworm minbase root filesystem, slimmed, as a tarball ---------------------------
base_key=$( (dpkg-query -W -f='${Version}' debootstrap; echo "$mirror") | sha256sum | cut -c1-12)
base_tar="$cache/images/base-bookworm-$base_key.tar"
if [ ! -f "$base_tar" ]; then
  t0=$SECONDS
  log "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs"/usr/share/{doc,man,info,locale}/* "$work/rootfs"/var/cache/apt/* \
    "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/log/* "$work/rootfs"/var/cache/debconf/*-old
  tar --sort=name --numeric-owner -C "$work/rootfs" -cf "$base_tar.tmp" .
  mv "$base_tar.tmp" "$base_tar"
  rm -rf --one-file-system "$work/rootfs"
  log "base $(du -m "$base_tar" | cut -f1) MB in $((SECONDS - t0)) s"
fi
base_image=localhost/hitless-base:$base_key
if ! buildah "${storage[@]}" inspect --type image "$base_image" >/dev/null 2>&1; then
  ctr=$(buildah "${storage[@]}" from scratch)
  buildah "${storage[@]}" add "$ctr" "$base_tar" / >/dev/null
  buildah "${storage[@]}" config --env PATH=/usr/local/bin:/usr/bin:/bin --cmd /bin/bash "$ctr"
  buildah "${storage[@]}" commit --rm -q "$ctr" "$base_image" >/dev/null
fi

# --- the image ------------------------------------------------------------------------------------
# Its key: the base and every file the build context admits (.dockerignore), with the Dockerfile.
image_key=$( (echo "$base_key"; cd "$repo" && git ls-files -co --exclude-standard -- Dockerfile .dockerignore package.json package-lock.json bin src rules \
  | sort | xargs sha256sum) | sha256sum | cut -c1-12)
out="$cache/images/hitless-$image_key.tar"
if [ ! -f "$out" ]; then
  t0=$SECONDS
  secret=()
  ca=${NODE_EXTRA_CA_CERTS:-}
  [ -n "$ca" ] && [ -s "$ca" ] && secret=(--secret "id=extra_ca,src=$ca")
  log "building $NAME from $repo/Dockerfile on $base_image"
  buildah "${storage[@]}" bud --runtime /usr/bin/runc --network host --layers --pull=never \
    --build-arg "BASE=$base_image" "${secret[@]}" -f "$repo/Dockerfile" -t "localhost/hitless:$image_key" "$repo" > "$work/build.log" 2>&1 \
    || { tail -n 40 "$work/build.log" >&2; exit 1; }
  buildah "${storage[@]}" push -q "localhost/hitless:$image_key" "docker-archive:$out.tmp:$NAME" >/dev/null
  mv "$out.tmp" "$out"
  log "image $(du -m "$out" | cut -f1) MB (docker-archive) in $((SECONDS - t0)) s"
  # Old images of earlier sources: only the newest few stay.
  ls -t "$cache"/images/hitless-*.tar | tail -n +4 | xargs -r rm -f
fi
echo "$NAME $out"
