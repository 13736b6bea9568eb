# config-service image. Bun runs the TypeScript sources as they are: there is no compile step.
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

FROM oven/bun:1.4.5-slim
WORKDIR /app
# NODE_ENV stays unset on purpose: "production" makes Elysia drop the details of validation
# errors, and the API's 400 bodies promise them. No transpiler cache: the root filesystem is
# read-only in Kubernetes.
ENV SERVE_PORT=4999 \
    DATABASE_URL=sqlite:/data/configs.db \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY --from=deps --chown=65532:65532 /app/data /data
# Numeric, so that Kubernetes can verify runAsNonRoot without a passwd entry.
USER 65532:65532
EXPOSE 4999
# Bun itself is PID 1 (no shell, no package-manager wrapper), so SIGTERM reaches the service,
# which handles it: readiness fails, then the listener drains and the store closes.
ENTRYPOINT ["bun", "src/main.ts"]
