# canthus appliance image: Debian 12 + Node 20. The install step is the README's own
# (scripts/setup.sh run: Debian packages, npm ci, the UI bundle), so the tested path and the image
# agree; development packages are pruned afterwards.
FROM node:20-bookworm-slim

WORKDIR /opt/canthus
COPY . .
RUN bash scripts/setup.sh run \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf /var/lib/apt/lists/* /root/.npm \
 && mkdir -p /data && chown node:node /data \
 && usermod -aG video node

VOLUME /data
EXPOSE 8080
# Frame buffers are allocated on one thread and freed on another (the camera worker): with glibc's
# default of many malloc arenas RSS wanders by ±8 MiB; two arenas keep it steady (docs/performance.md).
ENV MALLOC_ARENA_MAX=2
USER node
# Liveness: the API answers (anonymous health is `{status, version}`); a degraded appliance (say, a
# camera offline) stays up and says why in /api/health rather than being restarted.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/canthus.js"]
CMD ["run", "--data", "/data"]
