# config-service image. Bun runs the service bundled (`bun run bundle`, as `make bundle` does):
# a container starts from one read-only image every time, so nothing of the transpiling and module
# resolution the sources need at each start can be cached, and the bundle has it done once, here.
#   make docker-build            (docker build -t config-service:dev .)
#   docker run --rm -p 4999:4999 --read-only --tmpfs /tmp -v config-data:/data config-service:dev
# test/deploy/dockerfile.test.ts checks the rules this file follows, and
# test/deploy/image-runtime.test.ts runs what this image runs, the way a container runtime would.

# Production dependencies only, exactly as bun.lock pins them.
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production --ignore-scripts
# Becomes /data below, owned by the runtime user (COPY --chown), for the SQLite default.
RUN mkdir data

# The bundle: dist/service/main.js and the chunks it imports only when chosen (PostgreSQL store,
# trace exporters), from the same production dependencies.
FROM deps AS bundle
COPY src ./src
RUN bun run bundle
# configctl, for `configctl agent` as a sidecar (kustomize/components/agent-sidecar): the same
# image, another command (bun dist/configctl/configctl.js agent ...).
RUN bun run bundle:configctl

FROM oven/bun:1.4.5-slim
WORKDIR /app
# NODE_ENV stays unset on purpose: "production" makes Elysia drop the details of validation
# errors, and the API's 400 bodies promise them. No transpiler cache: the root filesystem is
# read-only in Kubernetes.
ENV SERVE_PORT=4999 \
    DATABASE_URL=sqlite:/data/configs.db \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
# node_modules still serves what the bundle leaves out: the files of the console and of Swagger
# UI read at start, and the Jaeger exporter (left out because it reads its Thrift IDL from its
# own package at run time). The console's own files are read from src/console, found beside
# package.json.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src/console ./src/console
COPY --from=bundle /app/dist/service ./dist/service
COPY --from=bundle /app/dist/configctl-bundle ./dist/configctl
COPY --from=deps --chown=65532:65532 /app/data /data
# Numeric, so that Kubernetes can verify runAsNonRoot without a passwd entry.
USER 65532:65532
EXPOSE 4999
# Bun itself is PID 1 (no shell, no package-manager wrapper), so SIGTERM reaches the service,
# which handles it: readiness fails, then the listener drains and the store closes.
ENTRYPOINT ["bun", "dist/service/main.js"]
