# syntax=docker/dockerfile:1
# One image for both roles of a multi-machine run: the command picks the role, the GAN_* environment the rest
# (README "Deploy (Docker, Kubernetes)"; the contract is libs/config/src/env-flags.ts):
#   docker build -t gan-train:0.1.0 .
#   docker run --rm -e GAN_LISTEN=0.0.0.0:29500 -e GAN_WORKERS=2 -e GAN_TOKEN_FILE=/run/secrets/gan-token … gan-train:0.1.0 coordinator
#   docker run --rm -e GAN_COORDINATOR=10.0.0.1:29500 -e GAN_ADVERTISE=10.0.0.2 -e GAN_TOKEN_FILE=… gan-train:0.1.0 worker
# No container engine runs in this project's CI: test/deploy.test.ts checks this file's stages, user and
# entrypoint, not a built image.

# Build: the workspace from its lockfile, then the bundles the installed package runs (tools/build-package.mjs:
# the apps and the API bundled by esbuild, so no TypeScript at run time), then the production dependencies only.
# --ignore-scripts skips the optional native backends' downloads (tfjs-node's libtensorflow, CPU and CUDA): the
# image trains on the wasm backend (`--backend auto` falls through to it). Build with
# `--build-arg NPM_SCRIPTS=` to run them.
FROM node:20-slim AS build
ARG NPM_SCRIPTS=--ignore-scripts
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps/ apps/
COPY libs/ libs/
COPY test/package.json test/package.json
COPY bin/ bin/
COPY protos/ protos/
COPY tools/ tools/
COPY tsconfig.base.json tsconfig.types.json ./
RUN npm ci --no-audit --no-fund ${NPM_SCRIPTS}
RUN node tools/build-package.mjs \
 && npm prune --omit=dev --no-audit --no-fund ${NPM_SCRIPTS} \
 && rm -rf node_modules/@gan node_modules/.cache

# Runtime: node and what `gan-train` runs, nothing else (no sources, no compiler, no dev dependencies).
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/bin/ bin/
COPY --from=build /src/dist/apps/ dist/apps/
COPY --from=build /src/dist/libs/api/ dist/libs/api/
COPY --from=build /src/protos/ protos/
COPY --from=build /src/node_modules/ node_modules/
# bin/gan-train.mjs runs dist/apps/<app>/main.mjs when the apps' sources are absent, as in an installed package.
RUN ln -s /app/bin/gan-train.mjs /usr/local/bin/gan-train \
 && mkdir -p /runs && chown node:node /runs
# The node image's unprivileged user (uid 1000); runs land under /runs unless GAN_OUT says otherwise.
USER node
WORKDIR /runs
EXPOSE 29500 29501 29502 9100
ENTRYPOINT ["gan-train"]
CMD ["--help"]
