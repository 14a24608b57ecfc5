# syntax=docker/dockerfile:1
# Switchboard's container image: compile with the dev toolchain, run with production
# dependencies only, as an unprivileged user.
#
#   docker build -t switchboard .
#   docker run -p 3000:3000 -e DATABASE_URL=… -e SWITCHBOARD_ENCRYPTION_KEY=… -e SWITCHBOARD_PUBLIC_URL=… switchboard
#
# The machines that build Switchboard cannot pull base images, so this file is not built in CI.
# server/test/production-install.test.ts runs its production install instead (the `npm ci` and
# `npm rebuild` lines of the `deps` stage, read from this file) in a clean folder, then starts the
# result as an unprivileged user against an empty Postgres. Keep those two lines as they are.

ARG NODE_IMAGE=node:20-slim

# 1. build: every dependency of the two workspaces the server needs, then tsc and the CLI's bundle
# (esbuild: one file to load at start instead of about 1,170).
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.base.json ./
COPY sdk/package.json sdk/
COPY server/package.json server/
COPY server/bin server/bin
# No install scripts: the root's `prepare` builds everything (sources are not copied yet), and
# tsc needs no native module, and esbuild runs from its platform package.
RUN npm ci --workspace=sdk --workspace=server --ignore-scripts --no-audit --no-fund
COPY sdk sdk
COPY server/src server/src
COPY server/tsconfig.json server/tsconfig.build.json server/bundle-cli.mjs server/
RUN npm run build --workspace=sdk --workspace=server

# 2. deps: production dependencies only. better-sqlite3 is the one package with an install
# script; it fetches a prebuilt binary, or compiles (hence the toolchain, left in this stage).
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY server/package.json server/
COPY server/bin server/bin
RUN npm ci --omit=dev --workspace=sdk --workspace=server --ignore-scripts --no-audit --no-fund
RUN npm rebuild better-sqlite3

# 3. runtime: node_modules, the compiled code and the manifests; no sources, tests or toolchain.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=3000 \
  SWITCHBOARD_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/package.json ./
COPY --from=deps /app/sdk/package.json sdk/
COPY --from=deps /app/server/package.json server/
COPY --from=deps /app/server/bin server/bin
COPY --from=build /build/sdk/dist sdk/dist
COPY --from=build /build/server/dist server/dist
# The image's `node` user (uid 1000) owns only the data directory: SQLite, the key file and the
# first-start credentials of the embedded mode live there. With Postgres it stays empty.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node runs as PID 1 and gets SIGTERM itself, so `docker stop` shuts it down gracefully.
CMD ["node", "server/dist/cli.js", "start"]
