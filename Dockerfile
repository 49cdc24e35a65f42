# syntax=docker/dockerfile:1
# hitless runs its TypeScript sources directly on Node 24 (native type stripping; docs/decisions/0001).

FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (the node@24 devDependency is not needed: the image is Node 24).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY rules ./rules
# Not root; matches runAsUser in manifests/base/deployment.yaml. The root filesystem can be read-only.
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["node", "/app/bin/hitless.js"]
CMD ["serve", "--cluster", "on"]
