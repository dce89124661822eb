# syntax=docker/dockerfile:1
# Sluice on Bun.
#   docker build -t sluice .
#   docker run -p 8080:8080 -v "$PWD/config.yaml:/etc/sluice/config.yaml:ro" sluice
# The config is mounted, not baked in (deploy/k8s/ mounts it from a ConfigMap); descriptor sets
# named by relative paths resolve against /app.
# The Bun the project is developed and tested with: node_modules/bun in package-lock.json (test/deploy.test.ts
# checks they agree). A floating tag would let a rebuild pick up an untested runtime.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only: no bun/deno/tsx/typescript dev packages in the image.
RUN bun install --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim
WORKDIR /app
# No transpiler cache on disk: the root filesystem may be read-only.
ENV NODE_ENV=production \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY idl/descriptors.binpb ./idl/
# The base image's unprivileged user (uid 1000); port 8080 needs no privileges.
USER bun
EXPOSE 8080
# Liveness only (/healthz); readiness (/readyz) is for load balancers. No curl in the slim image: bun fetches.
# On the port the gateway listens on: PORT when set (it overrides the config file's listen.port), else 8080.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form: bun is PID 1 and gets SIGTERM/SIGHUP itself (no shell or npx in between, which would
# swallow SIGHUP and report the wrong exit code).
CMD ["bun", "src/entry/bun.ts", "--config", "/etc/sluice/config.yaml"]
