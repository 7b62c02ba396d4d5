# canthus appliance image: Debian 12 + Node 20, GStreamer from Debian.

# The web UI is bundled by esbuild (a dev dependency) in a stage of its own; only ui/dist ships.
FROM node:20-bookworm-slim AS ui
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin/run-ts.js bin/run-ts.js
COPY scripts/build-ui.ts scripts/build-ui.ts
COPY appliance/core/persons.ts appliance/core/persons.ts
COPY ui ui
RUN node bin/run-ts.js scripts/build-ui.ts

FROM node:20-bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
      fonts-dejavu-core g++ make python3 openssl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/canthus
COPY package.json package-lock.json ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund
COPY appliance appliance
COPY calibration calibration
COPY firmware-config firmware-config
COPY models models
COPY ui ui
COPY --from=ui /build/ui/dist ui/dist
COPY bin bin

RUN mkdir -p /data && chown node:node /data
ENV UV_THREADPOOL_SIZE=16
VOLUME /data
EXPOSE 8080
USER node
ENTRYPOINT ["node", "bin/canthus.js"]
CMD ["run", "--data", "/data"]
