# syntax=docker/dockerfile:1
# Vigil: one image for the API (default command) and for training (`node dist/cli.js train ...`).
# Build: docker build --build-arg MODEL_NAME=iris --build-arg MODEL_VERSION=1 \
#          --build-arg VCS_REF="$(git rev-parse HEAD)" -t vigil .

# ---- build: compile TypeScript and native addons, then drop dev dependencies -----------------------
FROM node:24.20.0-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 falls back to a source build when no prebuilt binary matches the Node ABI.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
# .npmrc keeps onnxruntime-node-install=skip: the CPU runtime ships in the package; the install
# script would only download CUDA files.
COPY package.json package-lock.json .npmrc ./
# npm install rather than npm ci: see the Makefile's install target.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY web ./web
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# ---- runtime: production dependencies only, non-root, read-only root filesystem ---------------------
FROM node:24.20.0-bookworm-slim AS runtime

ARG VERSION=0.1.0
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
ARG MODEL_NAME=iris
ARG MODEL_VERSION=1

LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Observability-first serving, registry and monitoring for tabular ONNX models" \
      org.opencontainers.image.source="https://github.com/vigil-ml/vigil" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      io.vigil.model.name="${MODEL_NAME}" \
      io.vigil.model.version="${MODEL_VERSION}"

ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    MODELS_DIR=/app/models \
    DEFAULT_MODEL=${MODEL_NAME} \
    VIGIL_MODEL_VERSION=${MODEL_VERSION}

# glibc gives every thread that allocates its own malloc arena (up to 8 a core; this process runs ~13
# threads): two arenas keep ~5–10 MB of RSS off the service under load (docs/performance.md, passes 4
# and 5: their throughput cost went with the store queue's garbage). The benchmark starts Vigil with
# the same value.
ENV MALLOC_ARENA_MAX=2

WORKDIR /app
# Everything under /app stays root-owned and read-only; the service writes only to /data and /tmp.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY models ./models
RUN mkdir -p /data && chown 1000:1000 /data

# uid 1000 is the `node` user of the base image.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 8080

# No curl in slim images: Node's own fetch probes readiness.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Node directly (not npm) so that SIGTERM reaches the service; run with an init (compose `init: true`).
# --v8-pool-size=2: two V8 helper threads (concurrent marking, parallel scavenges) instead of Node's
# four. Vigil runs one event loop per core (the cluster forks one worker per core), and on a saturated
# core four helpers took it from the event loop in slices of several ms: iris p99 under wrk 16.5 → 11.7
# ms (medians of 8 interleaved rounds), same throughput and RSS; one helper, or no concurrent
# marking, fell into a half-speed GC state (docs/performance.md, pass 8). `npm start`, the benchmark and the soak start Vigil
# the same way.
CMD ["node", "--v8-pool-size=2", "dist/main.js"]
